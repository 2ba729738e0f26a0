"""Disabling (or deleting) an API client stops its tokens at once, not when they expire."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from flask import Flask

from registry.cli import main
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio, assert_problem

Counts = Callable[[], dict[str, int]]


@pytest.fixture
def registry_cli(settings: Settings) -> Callable[..., Result]:
    env = {
        "REGISTRY_DATA_DIR": str(settings.data_dir),
        "REGISTRY_DATABASE_URL": settings.database_url,
    }
    return lambda *args: CliRunner().invoke(main, list(args), env=env)


def test_a_disabled_clients_token_is_refused_at_once(
    studio: Studio, registry_cli: Callable[..., Result], counts: Counts
) -> None:
    assert studio.get("/v1/subjects").status_code == 200

    result = registry_cli("clients", "disable", studio.client_id)
    assert result.exit_code == 0, result.output
    before = counts()

    assert_problem(studio.get("/v1/subjects"), 401, "invalid-token")
    response = studio.post("/v1/subjects", json={"display_name": "Ada Example"})
    assert_problem(response, 401, "invalid-token")
    assert counts() == before


def test_a_disabled_client_gets_no_new_token(
    studio: Studio, registry_cli: Callable[..., Result]
) -> None:
    registry_cli("clients", "disable", studio.client_id)

    response = studio.client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": studio.client_id,
            "client_secret": studio.client_secret,
        },
    )

    assert_problem(response, 401, "invalid-client")


def test_a_deleted_clients_token_is_refused(app: Flask, studio: Studio) -> None:
    with state_of(app).database.engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM api_clients WHERE client_id = :c"), {"c": studio.client_id}
        )

    assert_problem(studio.get("/v1/subjects"), 401, "invalid-token")


def test_other_clients_keep_working(
    studio: Studio, other_studio: Studio, registry_cli: Callable[..., Result]
) -> None:
    registry_cli("clients", "disable", studio.client_id)

    assert other_studio.get("/v1/subjects").status_code == 200


def test_disabling_is_audited_once(
    studio: Studio, registry_cli: Callable[..., Result], counts: Counts
) -> None:
    before = counts()["audit_events"]

    assert registry_cli("clients", "disable", studio.client_id).exit_code == 0
    assert registry_cli("clients", "disable", studio.client_id).exit_code == 0

    assert counts()["audit_events"] == before + 1


def test_disabling_an_unknown_client_fails_and_writes_nothing(
    registry_cli: Callable[..., Result], counts: Counts
) -> None:
    before = counts()

    result = registry_cli("clients", "disable", "crc_nobody")

    assert result.exit_code == 1
    assert "no client crc_nobody" in result.output
    assert counts() == before
