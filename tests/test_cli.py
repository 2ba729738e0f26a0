"""`registry ...` administration commands, run as an operator would (real database, real keys)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from registry import migrate
from registry.cli import main
from registry.keys.keyring import KeyRing
from registry.settings import Settings

Counts = Callable[[], dict[str, int]]


@pytest.fixture
def registry_cli(settings: Settings) -> Callable[..., Result]:
    """Run `registry ARGS...` against the test's data directory and database."""
    env = {
        "REGISTRY_DATA_DIR": str(settings.data_dir),
        "REGISTRY_DATABASE_URL": str(settings.database_url),
    }

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env)

    return run


def create_org(registry_cli: Callable[..., Result], name: str = "Northwind Studios") -> str:
    result = registry_cli("orgs", "create", name, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["org_id"]  # type: ignore[no-any-return]


def test_orgs_create_json_prints_the_org_id_and_name(
    registry_cli: Callable[..., Result], counts: Counts
) -> None:
    before = counts()

    result = registry_cli("orgs", "create", "Northwind Studios", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"org_id", "name"}
    assert data["name"] == "Northwind Studios"
    assert counts()["organizations"] == before["organizations"] + 1


def test_orgs_create_without_json_prints_readable_lines(
    registry_cli: Callable[..., Result],
) -> None:
    result = registry_cli("orgs", "create", "Northwind Studios")

    assert result.exit_code == 0, result.output
    assert "name: Northwind Studios" in result.stdout
    assert "org_id: " in result.stdout


def test_clients_create_json_prints_the_new_credentials(
    registry_cli: Callable[..., Result],
) -> None:
    org_id = create_org(registry_cli)

    result = registry_cli(
        "clients", "create", "--org", org_id, "--scope", "grants:read verify", "--json"
    )

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"org_id", "client_id", "client_secret"}
    assert data["org_id"] == org_id


def test_cli_created_credentials_obtain_a_token_with_their_scopes(
    registry_cli: Callable[..., Result], client: FlaskClient
) -> None:
    org_id = create_org(registry_cli)
    created = json.loads(
        registry_cli(
            "clients", "create", "--org", org_id, "--scope", "grants:read verify", "--json"
        ).stdout
    )

    response = client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    )

    assert response.status_code == 200, response.json
    assert response.json["scope"] == "grants:read verify"


def test_clients_create_with_an_unknown_scope_fails_and_writes_nothing(
    registry_cli: Callable[..., Result], counts: Counts
) -> None:
    org_id = create_org(registry_cli)
    before = counts()

    result = registry_cli("clients", "create", "--org", org_id, "--scope", "grants:read admin")

    assert result.exit_code != 0
    assert "unknown scope(s): admin" in result.output
    assert "Traceback" not in result.output
    assert counts() == before


def test_clients_create_for_an_unknown_org_fails_and_writes_nothing(
    registry_cli: Callable[..., Result], counts: Counts
) -> None:
    before = counts()
    missing = "00000000-0000-4000-8000-000000000000"

    result = registry_cli("clients", "create", "--org", missing, "--scope", "verify")

    assert result.exit_code != 0
    assert f"no organization {missing}" in result.output
    assert counts() == before


def test_demo_creates_credentials_that_obtain_a_token(
    registry_cli: Callable[..., Result], client: FlaskClient
) -> None:
    result = registry_cli("demo")

    assert result.exit_code == 0, result.output
    lines = dict(
        line.strip().split("=", 1) for line in result.stdout.splitlines() if "=" in line
    )
    response = client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": lines["REGISTRY_CLIENT_ID"],
            "client_secret": lines["REGISTRY_CLIENT_SECRET"],
        },
    )
    assert response.status_code == 200, response.json


def test_demo_run_again_says_the_credentials_were_created_earlier(
    registry_cli: Callable[..., Result], counts: Counts
) -> None:
    first = registry_cli("demo")
    after_first = counts()

    second = registry_cli("demo")

    assert second.exit_code == 0, second.output
    assert "created earlier" in second.stdout
    assert "REGISTRY_CLIENT_SECRET" not in second.stdout
    assert first.stdout != second.stdout
    assert counts() == after_first


def test_db_upgrade_migrates_a_new_database_to_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'registry.db'}"

    result = CliRunner().invoke(
        main, ["db", "upgrade"],
        env={"REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_DATABASE_URL": url},
    )

    assert result.exit_code == 0, result.output
    migrate.check(url)


def test_keys_init_creates_a_usable_signing_key_once(tmp_path: Path) -> None:
    env = {"REGISTRY_DATA_DIR": str(tmp_path)}

    first = CliRunner().invoke(main, ["keys", "init"], env=env)
    second = CliRunner().invoke(main, ["keys", "init"], env=env)

    assert first.exit_code == 0, first.output
    assert "created token signing key" in first.stdout
    assert second.exit_code == 0, second.output
    assert "token signing keys present" in second.stdout
    assert KeyRing(keys_dir=tmp_path / "keys").active.kid in first.stdout
