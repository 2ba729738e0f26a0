"""The audit log: written with each mutation, readable per tenant, tamper-evident."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient

from registry.api import operation
from registry.audit.models import AuditEvent
from registry.audit.services import _event_digest, record_event, verify_chains
from registry.auth.principal import Principal
from registry.cli import main
from registry.consent.schemas import SubjectCreate
from registry.consent.subjects import create_subject
from registry.db import get_session
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio, assert_problem, grant_body

Counts = Callable[[], dict[str, int]]
EVENTS = "/v1/audit/events"
audit_events = AuditEvent.__table__  # type: ignore[attr-defined]


def events(studio: Studio, **query: Any) -> list[dict[str, Any]]:
    """Every event the studio can read, following the cursor."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = dict(query)
    while True:
        response = studio.get(EVENTS, query_string=params)
        assert response.status_code == 200, response.json
        items.extend(response.json["items"])
        if response.json["next_cursor"] is None:
            return items
        params["cursor"] = response.json["next_cursor"]


def actions_on(studio: Studio, object_id: str) -> list[str]:
    return [e["action"] for e in events(studio) if e["object_id"] == object_id]


def run_sql(app: Flask, statement: sa.Executable) -> None:
    with state_of(app).database.engine.begin() as connection:
        result = connection.execute(statement)
        assert result.rowcount == 1  # type: ignore[attr-defined]


def verify_cli(settings: Settings) -> Result:
    env = {
        "REGISTRY_DATA_DIR": str(settings.data_dir),
        "REGISTRY_DATABASE_URL": str(settings.database_url),
    }
    return CliRunner().invoke(main, ["audit", "verify"], env=env)


def event_row(app: Flask, chain: str, seq: int) -> AuditEvent:
    with state_of(app).database.session_scope() as session:
        return session.scalars(
            sa.select(AuditEvent).where(AuditEvent.chain == chain, AuditEvent.seq == seq)
        ).one()


# Written with each mutation ----------------------------------------------------------------


def test_creating_a_subject_records_subject_created(studio: Studio) -> None:
    subject = studio.subject()

    assert actions_on(studio, subject["id"]) == ["subject.created"]


def test_audit_event_names_the_calling_client_as_actor(studio: Studio) -> None:
    subject = studio.subject()

    [event] = [e for e in events(studio) if e["object_id"] == subject["id"]]
    assert event["actor"] == f"client:{studio.client_id}"
    assert event["object_type"] == "subject"


def test_issuing_a_grant_records_grant_issued(studio: Studio) -> None:
    grant = studio.grant()

    assert actions_on(studio, grant["id"]) == ["grant.issued"]


def test_revoking_a_grant_records_grant_revoked(studio: Studio) -> None:
    grant = studio.grant()

    response = studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})

    assert response.status_code == 200, response.json
    assert actions_on(studio, grant["id"]) == ["grant.issued", "grant.revoked"]


def test_refused_grant_writes_no_audit_event(studio: Studio, counts: Counts) -> None:
    subject = studio.subject()
    before = counts()
    body = grant_body(subject["id"])
    body["valid_until"] = body["valid_from"]

    response = studio.post("/v1/grants", json=body)

    assert_problem(response, 422, "grant-invalid-period")
    assert counts() == before


def test_refused_revocation_writes_no_audit_event(studio: Studio, counts: Counts) -> None:
    grant = studio.grant()
    assert studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "x"}).status_code == 200
    before = counts()

    response = studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "again"})

    assert response.status_code == 409
    assert counts() == before


@pytest.fixture
def write_then_fail(app: Flask) -> str:
    """A test-only operation that flushes a subject and its event, then fails."""

    @operation(summary="test only", tags=["test"], body=SubjectCreate, scopes=["grants:write"])
    def view(principal: Principal, body: SubjectCreate) -> None:
        session = get_session()
        subject = create_subject(
            session, org_id=principal.org_id, data=body, actor=principal.actor
        )
        flushed = session.scalar(
            sa.select(sa.func.count()).where(audit_events.c.object_id == subject.id)
        )
        assert flushed == 1  # the event really was written inside this transaction
        raise RuntimeError("the request fails after the audit event was flushed")

    app.add_url_rule("/test-only/write-then-fail", "test_only_write_then_fail", view,
                     methods=["POST"])
    return "/test-only/write-then-fail"


def test_a_request_that_fails_after_writing_commits_neither_row_nor_event(
    write_then_fail: str, studio: Studio, counts: Counts
) -> None:
    before = counts()

    response = studio.post(write_then_fail, json={"display_name": "Ada Example"})

    assert_problem(response, 500, "internal-error")
    assert counts() == before


# GET /v1/audit/events ------------------------------------------------------------------------


def test_events_list_only_the_callers_organization(
    studio: Studio, other_studio: Studio
) -> None:
    mine = studio.subject()
    theirs = other_studio.subject()

    object_ids = {e["object_id"] for e in events(studio)}

    assert mine["id"] in object_ids
    assert studio.org_id in object_ids  # organization.created
    assert theirs["id"] not in object_ids
    assert other_studio.org_id not in object_ids
    assert other_studio.client_id not in object_ids


def test_events_come_in_sequence_order(studio: Studio) -> None:
    for _ in range(3):
        studio.subject()

    seqs = [e["seq"] for e in events(studio)]

    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= 5


def test_events_link_into_a_hash_chain(studio: Studio) -> None:
    studio.subject()

    listed = events(studio)

    assert listed[0]["prev_hash"] == "0" * 64
    for previous, event in itertools.pairwise(listed):
        assert event["prev_hash"] == previous["hash"]


def test_cursor_pages_through_every_event_once(studio: Studio) -> None:
    for _ in range(3):
        studio.subject()
    everything = events(studio, limit=500)

    paged = events(studio, limit=2)

    assert [e["seq"] for e in paged] == [e["seq"] for e in everything]


def test_a_page_has_a_cursor_only_when_more_events_follow(studio: Studio) -> None:
    total = len(events(studio))

    full_page = studio.get(EVENTS, query_string={"limit": total})
    short_page = studio.get(EVENTS, query_string={"limit": total - 1})

    assert full_page.json["next_cursor"] is None
    rest = studio.get(EVENTS, query_string={"cursor": short_page.json["next_cursor"]})
    assert [e["seq"] for e in rest.json["items"]] == [total]
    assert rest.json["next_cursor"] is None


def test_events_can_be_filtered_by_action(studio: Studio) -> None:
    studio.grant()

    listed = events(studio, action="grant.issued")

    assert [e["action"] for e in listed] == ["grant.issued"]


def test_malformed_cursor_is_a_validation_error(studio: Studio) -> None:
    response = studio.get(EVENTS, query_string={"cursor": "abc"})

    assert_problem(response, 422, "validation-error")


def test_listing_events_needs_the_audit_read_scope(app: Flask, client: FlaskClient) -> None:
    writer = Studio.create(
        app, client, name="No Audit", scopes=frozenset({"grants:read", "grants:write"})
    )

    response = writer.get(EVENTS)

    assert_problem(response, 403, "insufficient-scope")


def test_listing_events_needs_a_token(client: FlaskClient) -> None:
    assert_problem(client.get(EVENTS), 401, "unauthorized")


# registry audit verify -----------------------------------------------------------------------


@pytest.fixture
def busy_studio(studio: Studio) -> Studio:
    """A studio whose chain holds several events (org, client, subject, grant, revocation)."""
    grant = studio.grant()
    studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    return studio


def test_verify_passes_on_an_untouched_log_and_prints_the_count(
    busy_studio: Studio, settings: Settings, counts: Counts
) -> None:
    result = verify_cli(settings)

    assert result.exit_code == 0, result.output
    assert f"{counts()['audit_events']} events checked" in result.stdout


def test_verify_detects_an_edited_payload(
    app: Flask, busy_studio: Studio, settings: Settings
) -> None:
    chain = busy_studio.org_id
    run_sql(app, audit_events.update()
            .where(audit_events.c.chain == chain, audit_events.c.seq == 3)
            .values(payload={"pseudonymous_id": "someone-else", "status": "living"}))

    result = verify_cli(settings)

    assert result.exit_code != 0
    assert f"chain {chain} at seq 3" in result.stderr
    assert "payload" in result.stderr


def test_verify_detects_an_edited_actor(
    app: Flask, busy_studio: Studio, settings: Settings
) -> None:
    chain = busy_studio.org_id
    run_sql(app, audit_events.update()
            .where(audit_events.c.chain == chain, audit_events.c.seq == 4)
            .values(actor="client:innocent-bystander"))

    result = verify_cli(settings)

    assert result.exit_code != 0
    assert f"chain {chain} at seq 4" in result.stderr


def test_verify_detects_a_deleted_middle_event(
    app: Flask, busy_studio: Studio, settings: Settings
) -> None:
    chain = busy_studio.org_id
    run_sql(app, audit_events.delete()
            .where(audit_events.c.chain == chain, audit_events.c.seq == 2))

    result = verify_cli(settings)

    assert result.exit_code != 0
    assert f"chain {chain} at seq 3" in result.stderr
    assert "missing" in result.stderr


def test_verify_detects_an_event_rewritten_with_a_recomputed_hash(
    app: Flask, busy_studio: Studio, settings: Settings
) -> None:
    # An attacker who rewrites an event and its own hash still breaks the next link.
    chain = busy_studio.org_id
    event = event_row(app, chain, 3)
    event.actor = "client:innocent-bystander"
    run_sql(app, audit_events.update()
            .where(audit_events.c.chain == chain, audit_events.c.seq == 3)
            .values(actor=event.actor, hash=_event_digest(event)))

    result = verify_cli(settings)

    assert result.exit_code != 0
    assert f"chain {chain} at seq 4" in result.stderr
    assert "prev_hash" in result.stderr


def test_verify_names_only_the_broken_chain(
    app: Flask, busy_studio: Studio, other_studio: Studio, settings: Settings
) -> None:
    run_sql(app, audit_events.update()
            .where(audit_events.c.chain == busy_studio.org_id, audit_events.c.seq == 1)
            .values(action="organization.deleted"))

    result = verify_cli(settings)

    assert result.exit_code != 0
    assert f"chain {busy_studio.org_id} at seq 1" in result.stderr
    assert other_studio.org_id not in result.stderr


def test_event_timestamps_survive_the_database_round_trip(
    app: Flask, busy_studio: Studio
) -> None:
    # The hash covers ``at``; a backend that shifted or truncated it would break the chain.
    event = event_row(app, busy_studio.org_id, 1)

    assert event.at.tzinfo is not None
    assert _event_digest(event) == event.hash


def test_event_recorded_with_a_non_utc_timestamp_still_verifies(app: Flask) -> None:
    database = state_of(app).database
    paris_noon = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    with database.session_scope() as session:
        record_event(
            session, org_id=None, actor="test", action="test.recorded",
            object_type="test", object_id="1", at=paris_noon,
        )

    with database.session_scope() as session:
        checked, breaks = verify_chains(session)

    assert (checked, breaks) == (1, [])
