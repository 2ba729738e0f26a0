"""Pending grants: signing refuses them; the person confirms (or declines) in the portal, with
evidence, an audit event by ``subject:<id>``, a token that says so, and webhook events."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import sqlalchemy as sa
from flask import Flask

from registry.audit.models import AuditEvent
from registry.consent.models import ConsentGrant
from registry.state import state_of
from registry.statuslist.models import StatusListEntry
from registry.webhooks.models import WebhookEvent
from tests.factories import Studio, assert_problem
from tests.media import assets
from tests.media.conftest import metadata, sign_upload
from tests.portal.conftest import Person


def _grant(app: Flask, grant_id: str) -> ConsentGrant:
    with state_of(app).database.session_scope() as session:
        grant = session.get(ConsentGrant, grant_id)
        assert grant is not None
        session.expunge(grant)
        return grant


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with state_of(app).database.session_scope() as session:
        rows = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def _outbox(app: Flask, event_type: str) -> list[dict[str, Any]]:
    with state_of(app).database.session_scope() as session:
        rows = session.scalars(sa.select(WebhookEvent).where(WebhookEvent.type == event_type))
        return [json.loads(row.body) for row in rows]


def test_a_pending_grant_is_issued_pending_and_its_status_list_entry_suspended(
    app: Flask, studio: Studio, pending: dict[str, Any]
) -> None:
    grant = pending["grant"]
    assert grant["status"] == "pending_confirmation"
    assert grant["confirmed_at"] is None
    public = studio.client.get(f"/v1/grants/{grant['id']}/status").json
    assert public["status"] == "pending_confirmation"
    with state_of(app).database.session_scope() as session:
        entry = session.scalars(
            sa.select(StatusListEntry).where(StatusListEntry.grant_id == grant["id"])
        ).one()
        assert entry.status == 2  # SUSPENDED: reversible until the person decides


def test_signing_with_a_pending_grant_is_refused_422_and_writes_nothing(
    studio: Studio, pending: dict[str, Any], work: Path, counts: Callable[[], dict[str, int]]
) -> None:
    before = counts()
    meta = metadata(pending["grant"]["id"])
    response = sign_upload(studio, assets.make_wav(work), meta)
    body = assert_problem(response, 422, "grant-pending-confirmation")
    assert body["grant_id"] == pending["grant"]["id"]
    assert counts() == before


def test_the_person_confirms_evidence_token_audit_and_event(
    app: Flask, studio: Studio, pending: dict[str, Any], person: Person, work: Path
) -> None:
    grant_id, subject_id = pending["grant"]["id"], pending["subject"]["id"]
    page = person.page(f"/portal/grants/{grant_id}")
    assert "Northwind Studios may use your voice, for advertising, in Canada and the US" in page
    assert "Waiting for your confirmation" in page

    response = person.post(f"/portal/grants/{grant_id}/confirm")
    assert response.status_code == 303

    grant = _grant(app, grant_id)
    assert grant.status == "active" and grant.confirmed_at is not None
    assert grant.evidence[-1]["kind"] == "subject_confirmation"
    claims = jwt.decode(grant.token, options={"verify_signature": False})
    assert claims["confirmed"]["by"] == "subject"
    [event] = _events(app, "grant.confirmed")
    assert event.actor == f"subject:{subject_id}" and event.org_id == studio.org_id
    assert event.payload["unconfirmed_token_sha256"] == pending["grant"]["token_sha256"]
    [sent] = _outbox(app, "grant.confirmed")
    assert sent["data"]["grant_id"] == grant_id and sent["data"]["status"] == "active"
    # The studio sees the confirmation through its own grant.
    seen = studio.get(f"/v1/grants/{grant_id}").json
    assert seen["status"] == "active" and seen["confirmed_at"]
    # Now the pipeline may sign with it.
    signed = sign_upload(studio, assets.make_wav(work), metadata(grant_id))
    assert signed.status_code == 201, signed.json
    assert "made with VoiceForge" in person.page(f"/portal/grants/{grant_id}")


def test_confirming_twice_is_a_conflict(person: Person, pending: dict[str, Any]) -> None:
    grant_id = pending["grant"]["id"]
    assert person.post(f"/portal/grants/{grant_id}/confirm").status_code == 303
    assert_problem(
        person.post(f"/portal/grants/{grant_id}/confirm"), 409, "grant-invalid-transition"
    )


def test_the_person_declines(
    app: Flask, studio: Studio, pending: dict[str, Any], person: Person, work: Path
) -> None:
    grant_id = pending["grant"]["id"]
    response = person.post(f"/portal/grants/{grant_id}/decline", reason="never agreed to radio")
    assert response.status_code == 303
    assert _grant(app, grant_id).status == "declined"
    [event] = _events(app, "grant.declined")
    assert event.actor == f"subject:{pending['subject']['id']}"
    assert _outbox(app, "grant.declined")
    refused = sign_upload(studio, assets.make_wav(work), metadata(grant_id))
    assert_problem(refused, 422, "grant-declined")


def test_the_studio_may_withdraw_a_grant_still_pending(
    app: Flask, studio: Studio, pending: dict[str, Any], person: Person
) -> None:
    grant_id = pending["grant"]["id"]
    response = studio.post(f"/v1/grants/{grant_id}/revoke", json={"reason": "sent in error"})
    assert response.status_code == 200 and response.json["status"] == "revoked"
    # The person can no longer confirm it.
    refused = person.post(f"/portal/grants/{grant_id}/confirm")
    assert_problem(refused, 409, "grant-invalid-transition")
    assert "Withdrawn" in person.page("/portal/grants")
