"""Revoke, suspend, resume and supersede, and the public status endpoint."""

from __future__ import annotations

import sqlite3
import time
import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from registry import create_app
from registry.errors import problem_type
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio, grant_body


def test_revoked_grant_status_says_revoked_with_time(studio: Studio, client: FlaskClient) -> None:
    grant = studio.grant()
    response = studio.post(
        f"/v1/grants/{grant['id']}/revoke",
        json={"reason": "subject withdrew", "effect": "unpublish"},
    )
    assert response.status_code == 200
    assert response.json["revocation"]["effect"] == "unpublish"
    status = client.get(f"/v1/grants/{grant['id']}/status")
    assert status.status_code == 200
    assert status.json["status"] == "revoked"
    assert status.json["revoked_at"] is not None
    assert set(status.json) == {
        "id",
        "status",
        "valid_from",
        "valid_until",
        "revoked_at",
        "version",
    }


def test_status_endpoint_needs_no_authentication_and_holds_no_personal_data(
    studio: Studio, client: FlaskClient
) -> None:
    subject = studio.subject(display_name="Private Person")
    grant = studio.grant(subject["id"])
    response = client.get(f"/v1/grants/{grant['id']}/status")
    assert response.status_code == 200
    assert "Private Person" not in response.get_data(as_text=True)
    assert subject["pseudonymous_id"] not in response.get_data(as_text=True)


def test_status_of_unknown_grant_is_404(client: FlaskClient) -> None:
    for grant_id in ("01a1fdcc-5e63-7ad6-a8b4-2859c03b1561", "not-a-uuid"):
        response = client.get(f"/v1/grants/{grant_id}/status")
        assert response.status_code == 404
        assert response.json["type"] == problem_type("grant-not-found")


def test_suspend_and_resume(studio: Studio) -> None:
    grant = studio.grant()
    suspended = studio.post(f"/v1/grants/{grant['id']}/suspend", json={"reason": "dispute"})
    assert suspended.json["status"] == "suspended"
    resumed = studio.post(f"/v1/grants/{grant['id']}/resume", json={"reason": "settled"})
    assert resumed.json["status"] == "active"


def test_revoked_grant_cannot_be_resumed_or_revoked_again(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    grant = studio.grant()
    studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    before = counts()
    for action in ("resume", "revoke", "suspend"):
        response = studio.post(f"/v1/grants/{grant['id']}/{action}", json={"reason": "again"})
        assert response.status_code == 409
        assert response.json["type"] == problem_type("grant-invalid-transition")
        assert response.json["current_status"] == "revoked"
    assert counts() == before


def test_lifecycle_change_needs_a_reason(studio: Studio) -> None:
    grant = studio.grant()
    response = studio.post(f"/v1/grants/{grant['id']}/revoke", json={})
    assert response.status_code == 422
    assert response.json["type"] == problem_type("validation-error")


def test_supersede_issues_next_version_and_ends_the_old_one(
    studio: Studio, client: FlaskClient
) -> None:
    subject = studio.subject()
    old = studio.grant(subject["id"])
    terms = grant_body(subject["id"], territories=["US", "CA", "MX"])
    del terms["subject_id"]
    response = studio.post(
        f"/v1/grants/{old['id']}/supersede", json={**terms, "reason": "add Mexico"}
    )
    assert response.status_code == 201
    new = response.json
    assert new["version"] == 2 and new["supersedes"] == old["id"]
    assert new["territories"] == ["CA", "MX", "US"]
    old_now = studio.get(f"/v1/grants/{old['id']}").json
    assert old_now["status"] == "superseded" and old_now["superseded_by"] == new["id"]
    assert client.get(f"/v1/grants/{old['id']}/status").json["status"] == "superseded"


def test_superseding_with_terms_that_break_policy_changes_nothing(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    subject = studio.subject()
    old = studio.grant(subject["id"])
    terms = grant_body(subject["id"], territories=["ZZ"])
    del terms["subject_id"]
    before = counts()
    response = studio.post(f"/v1/grants/{old['id']}/supersede", json={**terms, "reason": "x"})
    assert response.status_code == 422
    assert response.json["type"] == problem_type("grant-unknown-territory")
    assert counts() == before
    assert studio.get(f"/v1/grants/{old['id']}").json["status"] == "active"



@pytest.mark.postgres  # deselected without REGISTRY_TEST_DATABASE_URL (tests/conftest.py)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_status_read_survives_the_server_dropping_its_connection(
    settings: Settings, database_url: str
) -> None:
    # The status read has its own per-thread connections; name them to find them on the server.
    name = f"registry-test-{uuid.uuid4().hex[:12]}"
    settings.database_read_url = f"{database_url}&application_name={name}"
    app = create_app(settings)
    try:
        client = app.test_client()
        studio = Studio.create(app, client, name="Northwind Studios")
        grant = studio.grant()
        assert client.get(f"/v1/grants/{grant['id']}/status").json["status"] == "active"
        admin = sa.create_engine(database_url)
        with admin.begin() as connection:
            dropped = connection.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %(name)s",
                {"name": name},
            ).scalar()
        admin.dispose()
        assert dropped == 1

        response = client.get(f"/v1/grants/{grant['id']}/status")

        assert response.status_code == 200
        assert response.json["id"] == grant["id"]
        assert response.json["status"] == "active"
    finally:
        state_of(app).database.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_status_read_does_not_queue_behind_a_writer_on_sqlite(
    studio: Studio, client: FlaskClient, database_url: str
) -> None:
    # A signing request holds SQLite's write lock for its whole c2pa signing and upload.
    grant = studio.grant()
    writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=1)
    try:
        writer.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        response = client.get(f"/v1/grants/{grant['id']}/status")
        waited = time.monotonic() - started
    finally:
        writer.rollback()
        writer.close()
    assert response.status_code == 200
    assert response.json["status"] == "active"
    assert waited < 5  # the lock wait would last busy_timeout (30 s)
