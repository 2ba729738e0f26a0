"""Grants passing valid_until flip their entry to INVALID once: expire_due and its CLI command."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient

from registry.cli import main
from registry.consent.status_entries import expire_due
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio
from tests.statuslist.helpers import served_status, token_reference

VALID, INVALID, SUSPENDED = 0, 1, 2


def end_in_the_past(app: Flask, grant_id: str) -> None:
    """Move a grant's period into the past, as time passing would (grants are immutable)."""
    now = datetime.now(UTC)
    with state_of(app).database.engine.begin() as connection:
        if connection.dialect.name == "sqlite":  # stored naive, as UTCDateTime writes it
            now = now.replace(tzinfo=None)
        params = {"id": grant_id, "start": now - timedelta(days=2), "end": now - timedelta(days=1)}
        connection.execute(
            sa.text(
                "UPDATE consent_grants SET valid_from = :start, valid_until = :end WHERE id = :id"
            ),
            params,
        )
        connection.execute(
            sa.text("UPDATE status_list_entries SET expires_at = :end WHERE grant_id = :id"),
            params,
        )


def test_expire_due_flips_ended_active_grants_once(
    studio: Studio, client: FlaskClient, app: Flask
) -> None:
    subject = studio.subject()["id"]
    ending = studio.grant(subject)
    suspended = studio.grant(subject)
    revoked = studio.grant(subject)
    later = studio.grant(subject)
    studio.post(f"/v1/grants/{suspended['id']}/suspend", json={"reason": "dispute"})
    studio.post(f"/v1/grants/{revoked['id']}/revoke", json={"reason": "withdrawn"})
    for grant in (ending, suspended, revoked):
        end_in_the_past(app, grant["id"])
    database = state_of(app).database

    with database.session_scope() as session:
        flipped = [g.id for g in expire_due(session)]
    with database.session_scope() as session:
        again = list(expire_due(session))

    assert flipped == [ending["id"]]
    assert again == []
    statuses = {
        name: served_status(client, token_reference(client, grant["token"]))
        for name, grant in (
            ("ending", ending),
            ("suspended", suspended),
            ("revoked", revoked),
            ("later", later),
        )
    }
    assert statuses == {
        "ending": INVALID,
        "suspended": SUSPENDED,
        "revoked": INVALID,
        "later": VALID,
    }

    # Resuming a suspension after the period ended leaves the grant expired: INVALID.
    resumed = studio.post(f"/v1/grants/{suspended['id']}/resume", json={"reason": "settled"})
    assert resumed.status_code == 200 and resumed.json["status"] == "expired"
    assert served_status(client, token_reference(client, suspended["token"])) == INVALID


def test_expire_due_at_the_boundary_and_in_batches(studio: Studio, app: Flask) -> None:
    subject = studio.subject()["id"]
    grants = [studio.grant(subject) for _ in range(3)]
    database = state_of(app).database
    with database.session_scope() as session:
        ends = sorted(
            session.execute(sa.text("SELECT expires_at FROM status_list_entries")).scalars()
        )
    end = ends[0] if isinstance(ends[0], datetime) else datetime.fromisoformat(str(ends[0]))
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    with database.session_scope() as session:
        assert list(expire_due(session, now=end - timedelta(microseconds=1))) == []
    with database.session_scope() as session:
        at_end = list(expire_due(session, now=end))  # valid_until itself is past the end
    with database.session_scope() as session:
        first = list(expire_due(session, now=end + timedelta(days=1), limit=1))
    with database.session_scope() as session:
        rest = list(expire_due(session, now=end + timedelta(days=1), limit=5))
    assert [g.valid_until for g in at_end] == [end]
    assert len(first) == 1 and len(rest) == 1
    assert {g.id for g in at_end + first + rest} == {g["id"] for g in grants}


@pytest.mark.postgres  # deselected without REGISTRY_TEST_DATABASE_URL (tests/conftest.py)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_expiring_at_once_flip_each_grant_once(studio: Studio, app: Flask) -> None:
    subject = studio.subject()["id"]
    grants = [studio.grant(subject) for _ in range(4)]
    for grant in grants:
        end_in_the_past(app, grant["id"])
    database = state_of(app).database
    first, second = database.sessionmaker(), database.sessionmaker()
    try:
        one = [g.id for g in expire_due(first)]  # holds its rows until it commits
        two = [g.id for g in expire_due(second)]  # skips them
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    assert sorted(one) == sorted(g["id"] for g in grants)
    assert two == []


@pytest.fixture
def registry_cli(settings: Settings) -> Callable[..., Result]:
    env = {
        "REGISTRY_DATA_DIR": str(settings.data_dir),
        "REGISTRY_DATABASE_URL": str(settings.database_url),
    }
    return lambda *args: CliRunner().invoke(main, list(args), env=env)


def test_cli_statuslist_expire(
    studio: Studio, client: FlaskClient, app: Flask, registry_cli: Callable[..., Result]
) -> None:
    subject = studio.subject()["id"]
    ended = [studio.grant(subject) for _ in range(3)]
    current = studio.grant(subject)
    for grant in ended:
        end_in_the_past(app, grant["id"])

    result = registry_cli("statuslist", "expire", "--batch", "2", "--json")

    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["expired"]) == sorted(g["id"] for g in ended)
    for grant in ended:
        assert served_status(client, token_reference(client, grant["token"])) == INVALID
    assert served_status(client, token_reference(client, current["token"])) == VALID
    again = registry_cli("statuslist", "expire")
    assert (
        again.exit_code == 0 and again.stdout.strip() == "0 grant(s) expired in their status lists"
    )
