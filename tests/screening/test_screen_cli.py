"""`registry screen` and RegistryClient.screen_media against a live server."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from registry.cli import main
from registry.client import RegistryClient
from tests.factories import Studio
from tests.softbinding_api.conftest import Registered, reencoded, unrelated


def _run(live_server: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["screen", *args], env={"REGISTRY_URL": live_server, **(env or {})}
    )
    return result.exit_code, result.output


def test_cli_exit_status_follows_the_consent(
    live_server: str, studio: Studio, registered: Registered, work: Path
) -> None:
    copy = reencoded(registered.path, work)
    code, output = _run(live_server, str(unrelated(work)))
    assert code == 0, output
    assert "not registered" in output
    code, output = _run(live_server, str(copy))
    assert code == 1, output
    assert "consent in_force" in output and registered.manifest_id in output
    assert "watermark" in output
    revoked = studio.post(f"/v1/grants/{registered.grant['id']}/revoke", json={"reason": "no"})
    assert revoked.status_code == 200
    code, output = _run(live_server, str(copy))
    assert code == 2 and "consent revoked" in output


def test_cli_json_output_and_the_owners_view(
    live_server: str, studio: Studio, registered: Registered
) -> None:
    code, output = _run(live_server, str(registered.path), "--json")
    assert code == 1
    assert json.loads(output)["asset"] is None
    code, output = _run(live_server, str(registered.path), env=studio.cli_env(live_server))
    assert code == 1
    assert f"asset {registered.asset['id']}" in output
    assert f"grant {registered.grant['id']}: active" in output


def test_cli_reports_a_problem_and_exits_3(live_server: str, work: Path) -> None:
    empty = work / "empty.jpg"
    empty.write_bytes(b"")
    code, output = _run(live_server, str(empty))
    assert code == 3 and "malformed" in output.lower()
    code, output = _run("http://127.0.0.1:9", str(empty))
    assert code == 3 and "cannot reach" in output


def test_client_screen_media(live_server: str, studio: Studio, registered: Registered) -> None:
    with RegistryClient(live_server) as anonymous:
        result = anonymous.screen_media(registered.path)
    assert (result["registered"], result["consent"], result["asset"]) == (True, "in_force", None)
    with studio.registry_client(live_server) as registry:
        own = registry.screen_media(registered.path)
    assert own["asset"]["id"] == registered.asset["id"]
