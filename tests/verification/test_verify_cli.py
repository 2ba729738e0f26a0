"""`registry verify` and RegistryClient.verify_media against a live server."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from registry.cli import main
from registry.client import RegistryClient
from tests.factories import Studio
from tests.media import assets
from tests.verification.conftest import Signed


def _run(live_server: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["verify", *args], env={"REGISTRY_URL": live_server})
    return result.exit_code, result.output


def test_cli_exit_status_follows_the_verdict(
    live_server: str, studio: Studio, signed_jpeg: Signed, work: Path
) -> None:
    code, output = _run(live_server, str(signed_jpeg.path))
    assert code == 0, output
    assert "PASS" in output and "consent.in_force" in output
    code, output = _run(live_server, str(signed_jpeg.source))
    assert code == 1 and "WARN" in output and "removed" in output
    code, output = _run(live_server, str(assets.make_png(work)))
    assert code == 2 and "FAIL" in output and "manifest.missing" in output


def test_cli_json_output(live_server: str, signed_jpeg: Signed) -> None:
    code, output = _run(live_server, str(signed_jpeg.path), "--json")
    assert code == 0
    assert json.loads(output)["verdict"] == "pass"


def test_cli_reports_a_problem_and_exits_3(live_server: str, work: Path) -> None:
    empty = work / "empty.jpg"
    empty.write_bytes(b"")
    code, output = _run(live_server, str(empty))
    assert code == 3
    assert "malformed" in output.lower()


def test_client_verify_media_with_and_without_credentials(
    live_server: str, studio: Studio, signed_jpeg: Signed
) -> None:
    with RegistryClient(live_server) as anonymous:
        assert anonymous.verify_media(signed_jpeg.path)["verdict"] == "pass"
    with studio.registry_client(live_server) as registry:
        result = registry.verify_media(signed_jpeg.path)
    assert result["grants"][0]["grant_id"] == signed_jpeg.grant["id"]
