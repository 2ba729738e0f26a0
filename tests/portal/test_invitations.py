"""Invitations: the studio's API, the email through a real SMTP server (aiosmtpd), and the
link's rules (single use, expiry, unknown, another studio's subject)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask

from registry.audit.models import AuditEvent
from registry.db import utcnow
from registry.portal.models import PersonProfile, SubjectInvitation
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio, assert_problem
from tests.ops.conftest import free_port
from tests.portal.conftest import csrf_token, invite, register, secret_of


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def settings(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:  # type: ignore[override]
    settings.smtp_host, settings.smtp_port = "127.0.0.1", smtp[1]
    return settings


def _invitations(app: Flask) -> int:
    with state_of(app).database.session_scope() as session:
        return len(session.scalars(sa.select(SubjectInvitation)).all())


def test_an_invitation_is_emailed_and_only_its_hash_is_kept(
    app: Flask, studio: Studio, smtp: tuple[Inbox, int]
) -> None:
    subject = studio.subject()
    body = invite(studio, subject["id"], email="ada@example.org", expires_in_hours=24)
    assert body["emailed"] is True and body["subject_id"] == subject["id"]
    assert body["url"].startswith("http://registry.test/portal/invitations/inv_")
    [envelope] = smtp[0].messages
    assert envelope.rcpt_tos == ["ada@example.org"]
    message = message_from_bytes(envelope.content)
    assert "Northwind Studios invites you" in message["Subject"]
    assert body["url"] in message.get_payload(decode=True).decode()
    with state_of(app).database.session_scope() as session:
        [row] = session.scalars(sa.select(SubjectInvitation)).all()
        assert secret_of(body["url"]) not in (row.token_sha256, str(row.delivery))
        events = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "subject.invited")
        ).all()
        assert len(events) == 1 and "ada@" not in str(events[0].payload)


def test_an_undeliverable_email_leaves_no_invitation(
    app: Flask, studio: Studio, settings: Settings, counts: Callable[[], dict[str, int]]
) -> None:
    subject = studio.subject()
    before = counts()
    state_of(app).portal = _mailer_on_port(app, port=free_port())
    response = studio.post(
        f"/v1/subjects/{subject['id']}/invitations", json={"email": "ada@example.org"}
    )
    assert_problem(response, 502, "invitation-undeliverable")
    assert counts() == before


def _mailer_on_port(app: Flask, *, port: int) -> Any:
    portal = state_of(app).portal
    assert portal is not None and portal.mailer is not None
    return dataclasses.replace(portal, mailer=dataclasses.replace(portal.mailer, port=port))


def test_another_studios_subject_is_not_found_and_nothing_is_written(
    studio: Studio, other_studio: Studio, counts: Callable[[], dict[str, int]]
) -> None:
    subject = other_studio.subject()
    before = counts()
    response = studio.post(f"/v1/subjects/{subject['id']}/invitations", json={})
    assert_problem(response, 404, "subject-not-found")
    assert counts() == before


def test_a_bad_email_or_lifetime_is_refused(studio: Studio) -> None:
    subject = studio.subject()
    for body in ({"email": "not an address"}, {"expires_in_hours": 0}, {"expires_in_hours": 721}):
        response = studio.post(f"/v1/subjects/{subject['id']}/invitations", json=body)
        assert_problem(response, 422, "validation-error")


def test_an_invitation_works_once(
    app: Flask, studio: Studio, counts: Callable[[], dict[str, int]]
) -> None:
    subject = studio.subject()
    url = invite(studio, subject["id"])["url"]
    register(app, url)
    client = app.test_client()
    assert_problem(client.get(f"/portal/invitations/{secret_of(url)}"), 410, "invitation-used")
    # Registering a second account from the same link is refused, and writes nothing.
    token = csrf_token(client)
    before = counts()
    response = client.post(
        "/portal/passkeys/register/options",
        json={"invitation": secret_of(url)},
        headers={"X-CSRFToken": token},
    )
    assert_problem(response, 410, "invitation-used")
    assert counts() == before
    # A browser gets a page that says so, with the same status.
    page = client.get(f"/portal/invitations/{secret_of(url)}", headers={"Accept": "text/html"})
    assert page.status_code == 410 and "used already" in page.get_data(as_text=True)


def test_an_expired_invitation_is_refused(
    app: Flask, studio: Studio, counts: Callable[[], dict[str, int]]
) -> None:
    subject = studio.subject()
    url = invite(studio, subject["id"], expires_in_hours=1)["url"]
    with state_of(app).database.session_scope() as session:
        row = session.scalars(sa.select(SubjectInvitation)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
    client = app.test_client()
    assert_problem(client.get(f"/portal/invitations/{secret_of(url)}"), 410, "invitation-expired")
    before = counts()
    response = client.post(
        "/portal/passkeys/register/options",
        json={"invitation": secret_of(url)},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert_problem(response, 410, "invitation-expired")
    assert counts() == before


def test_an_unknown_invitation_is_not_found(app: Flask) -> None:
    response = app.test_client().get("/portal/invitations/inv_nothing")
    assert_problem(response, 404, "invitation-not-found")


def test_one_person_holds_profiles_from_two_studios(
    app: Flask, studio: Studio, other_studio: Studio
) -> None:
    first = studio.subject()
    studio.grant(first["id"], requires_confirmation=True)
    second = other_studio.subject()
    other_studio.grant(second["id"])
    person = register(app, invite(studio, first["id"])["url"])
    assert person.link(invite(other_studio, second["id"])["url"]).status_code == 303
    page = person.page("/portal/grants")
    assert "Northwind Studios may use your voice" in page
    assert "Rival Pictures may use your voice" in page
    with state_of(app).database.session_scope() as session:
        profiles = session.scalars(sa.select(PersonProfile)).all()
        assert {p.subject_id for p in profiles} == {first["id"], second["id"]}
        assert len({p.person_id for p in profiles}) == 1
    # Each studio sees the link only in its own audit chain, by its own subject.
    events = studio.get("/v1/audit/events").json["items"]
    redeemed = [e for e in events if e["action"] == "subject.invitation_redeemed"]
    assert [e["actor"] for e in redeemed] == [f"subject:{first['id']}"]
