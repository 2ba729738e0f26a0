"""The portal's guards: CSRF on every form, a person sees only their own grants (404), the
session cookie's flags and the pages' CSP, sign-in with the passkey, rate limits; and the
person's revocation goes through the API's lifecycle (events, webhooks, status lists)."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from registry.consent.models import ConsentGrant
from registry.ratelimit import AddressRateLimit
from registry.settings import Settings
from registry.state import state_of
from registry.statuslist.models import StatusListEntry
from registry.webhooks.models import WebhookEvent
from tests.factories import Studio, assert_problem
from tests.portal.authenticator import SoftAuthenticator
from tests.portal.conftest import Person, csrf_token, invite, register, secret_of


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    app: Flask, person: Person, pending: dict[str, Any], counts: Callable[[], dict[str, int]]
) -> None:
    grant_id = pending["grant"]["id"]
    before = counts()
    for form in ({}, {"csrf_token": "forged"}):
        response = person.client.post(f"/portal/grants/{grant_id}/confirm", data=form)
        assert_problem(response, 403, "csrf-token-invalid")
    response = person.client.post("/portal/passkeys/signin/options", json={})
    assert_problem(response, 403, "csrf-token-invalid")
    assert counts() == before
    with state_of(app).database.session_scope() as session:
        grant = session.get(ConsentGrant, grant_id)
        assert grant is not None and grant.status == "pending_confirmation"


def test_another_persons_grant_is_not_found(
    app: Flask, studio: Studio, person: Person, counts: Callable[[], dict[str, int]]
) -> None:
    someone = studio.subject(display_name="Someone Else")
    theirs = studio.grant(someone["id"], requires_confirmation=True)
    other = register(app, invite(studio, someone["id"])["url"])
    assert other.client.get(f"/portal/grants/{theirs['id']}").status_code == 200
    before = counts()
    for path in ("", "/confirm", "/decline", "/revoke", "/suspend"):
        if path:
            response = person.post(f"/portal/grants/{theirs['id']}{path}", reason="x")
        else:
            response = person.client.get(f"/portal/grants/{theirs['id']}")
        assert_problem(response, 404, "portal-grant-not-found")
    assert_problem(person.client.get("/portal/grants/not-a-uuid"), 404, "portal-grant-not-found")
    assert counts() == before
    assert "Someone Else" not in person.client.get("/portal/data.json").get_data(as_text=True)


def test_signed_out_pages_send_a_browser_to_sign_in(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/portal/grants", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].endswith("/portal/signin")
    assert_problem(client.get("/portal/grants"), 401, "portal-not-signed-in")


def test_the_session_cookie_and_the_page_headers(app: Flask, pending: dict[str, Any]) -> None:
    client = app.test_client()
    page = client.get(pending["invitation"]["url"].removeprefix("http://registry.test"))
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert "registry_portal=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over http; production sets it
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_signing_in_again_with_the_passkey(app: Flask, person: Person) -> None:
    client = app.test_client()
    token = csrf_token(client)
    options = client.post("/portal/passkeys/signin/options", headers={"X-CSRFToken": token})
    assert options.status_code == 200
    answer = person.authenticator.get(options.json)
    done = client.post("/portal/passkeys/signin", json=answer, headers={"X-CSRFToken": token})
    assert done.status_code == 200, done.json
    assert client.get("/portal/grants").status_code == 200
    # Signing in starts a new session (and CSRF token); the same answer again, with the new
    # token, is refused: its challenge was used up.
    token = csrf_token(client, "/portal/grants")
    again = client.post("/portal/passkeys/signin", json=answer, headers={"X-CSRFToken": token})
    assert_problem(again, 400, "passkey-rejected")


def test_an_unknown_passkey_is_refused(
    app: Flask, person: Person, counts: Callable[[], dict[str, int]]
) -> None:
    client = app.test_client()
    token = csrf_token(client)
    options = client.post("/portal/passkeys/signin/options", headers={"X-CSRFToken": token})
    stranger = SoftAuthenticator("http://registry.test", "registry.test")
    answer = stranger.get(options.json)
    before = counts()
    done = client.post("/portal/passkeys/signin", json=answer, headers={"X-CSRFToken": token})
    assert_problem(done, 400, "passkey-rejected")
    assert counts() == before
    assert_problem(client.get("/portal/grants"), 401, "portal-not-signed-in")


@pytest.fixture
def settings(settings: Settings) -> Settings:  # type: ignore[override]
    settings.portal_signin_rate = "5/minute"
    settings.rate_limit_key_prefix = f"portal-test-{id(settings)}"
    return settings


def test_sign_in_attempts_are_rate_limited(app: Flask) -> None:
    client = app.test_client()
    token = csrf_token(client)
    statuses = [
        client.post("/portal/passkeys/signin/options", headers={"X-CSRFToken": token}).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]


def test_the_person_revokes_through_the_api_lifecycle(
    app: Flask, studio: Studio, person: Person, pending: dict[str, Any]
) -> None:
    grant_id = pending["grant"]["id"]
    person.post(f"/portal/grants/{grant_id}/confirm")
    response = person.post(f"/portal/grants/{grant_id}/revoke", reason="I changed my mind")
    assert response.status_code == 303
    seen = studio.get(f"/v1/grants/{grant_id}").json
    assert seen["status"] == "revoked" and seen["revocation"]["reason"] == "I changed my mind"
    with state_of(app).database.session_scope() as session:
        entry = session.scalars(
            sa.select(StatusListEntry).where(StatusListEntry.grant_id == grant_id)
        ).one()
        assert entry.status == 1  # INVALID
        types = [json.loads(e.body)["type"] for e in session.scalars(sa.select(WebhookEvent))]
        assert types.count("grant.revoked") == 1
    events = studio.get("/v1/audit/events").json["items"]
    [revoked] = [e for e in events if e["action"] == "grant.revoked"]
    assert revoked["actor"] == f"subject:{pending['subject']['id']}"
    page = person.page(f"/portal/grants/{grant_id}")
    assert "Withdrawn" in page


def test_suspend_from_the_portal(person: Person, studio: Studio, pending: dict[str, Any]) -> None:
    grant_id = pending["grant"]["id"]
    person.post(f"/portal/grants/{grant_id}/confirm")
    assert person.post(f"/portal/grants/{grant_id}/suspend", reason="talking").status_code == 303
    assert studio.get(f"/v1/grants/{grant_id}").json["status"] == "suspended"


def test_download_all_my_data(person: Person, pending: dict[str, Any]) -> None:
    response = person.client.get("/portal/data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.json
    assert [p["subject_id"] for p in data["profiles"]] == [pending["subject"]["id"]]
    assert [g["id"] for g in data["grants"]] == [pending["grant"]["id"]]
    assert len(data["account"]["passkeys"]) == 1 and "token" not in data["grants"][0]


def test_invitation_redemption_is_rate_limited(app: Flask, studio: Studio) -> None:
    portal = state_of(app).portal
    assert portal is not None
    state_of(app).portal = dataclasses.replace(
        portal,
        invitation_limit=AddressRateLimit(
            "3/minute", storage="memory://", key_prefix="t", scope="portal-invitation"
        ),
    )
    client = app.test_client()
    statuses = [client.get("/portal/invitations/inv_guess").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]


def test_an_email_without_an_smtp_server_is_refused(
    studio: Studio, counts: Callable[[], dict[str, int]]
) -> None:
    subject = studio.subject()
    before = counts()
    response = studio.post(
        f"/v1/subjects/{subject['id']}/invitations", json={"email": "ada@example.org"}
    )
    assert_problem(response, 422, "invitation-email-not-configured")
    assert counts() == before


def test_a_passkey_made_for_another_site_or_challenge_is_refused(
    app: Flask, pending: dict[str, Any], counts: Callable[[], dict[str, int]]
) -> None:
    client = app.test_client()
    secret = secret_of(pending["invitation"]["url"])
    token = csrf_token(client, f"/portal/invitations/{secret}")
    headers = {"X-CSRFToken": token}
    before = counts()
    for origin, challenge in (("https://evil.example", None), ("http://registry.test", "AAAA")):
        options = client.post(
            "/portal/passkeys/register/options", json={"invitation": secret}, headers=headers
        ).json
        if challenge:
            options["challenge"] = challenge
        credential = SoftAuthenticator(origin, "registry.test").create(options)
        response = client.post(
            "/portal/passkeys/register",
            json={"invitation": secret, "credential": credential},
            headers=headers,
        )
        assert_problem(response, 400, "passkey-rejected")
    assert counts() == before
    # The invitation is still good.
    assert client.get(f"/portal/invitations/{secret}").status_code == 200


def test_a_passkey_call_with_a_large_body_is_refused(app: Flask) -> None:
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/portal/passkeys/signin",
        data=b'{"id": "' + b"x" * 70_000 + b'"}',
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


def _chunked(client: Any, path: str, body: io.BytesIO, token: str) -> Any:
    """POST ``body`` as gunicorn passes a chunked one: werkzeug knows no length."""
    return client.post(
        path,
        input_stream=body,
        headers={
            "X-CSRFToken": token,
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )


def test_a_chunked_passkey_call_over_the_limit_is_refused_before_its_end(
    app: Flask, pending: dict[str, Any]
) -> None:
    client = app.test_client()
    secret = secret_of(pending["invitation"]["url"])
    token = csrf_token(client, f"/portal/invitations/{secret}")
    big = b'{"id": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    body = io.BytesIO(big)

    response = _chunked(client, "/portal/passkeys/signin", body, token)

    assert_problem(response, 413, "payload-too-large")
    assert body.tell() < len(big)  # refused once past the limit, not read to its end
    # A chunked call within the limit is read and parsed as before.
    small = json.dumps({"invitation": secret}).encode()
    response = _chunked(client, "/portal/passkeys/register/options", io.BytesIO(small), token)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json and response.json["challenge"]


def test_signing_out_ends_every_copy_of_the_session(app: Flask, person: Person) -> None:
    cookie = person.client.get_cookie("registry_portal")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("registry_portal", cookie.value)
    assert copy.get("/portal/grants").status_code == 200
    assert person.post("/portal/signout").status_code == 302
    assert_problem(copy.get("/portal/grants"), 401, "portal-not-signed-in")
    assert_problem(person.client.get("/portal/grants"), 401, "portal-not-signed-in")
    # The passkey still signs in (a new session).
    token = csrf_token(copy)
    options = copy.post("/portal/passkeys/signin/options", headers={"X-CSRFToken": token})
    answer = person.authenticator.get(options.json)
    signed = copy.post("/portal/passkeys/signin", json=answer, headers={"X-CSRFToken": token})
    assert signed.status_code == 200
    assert copy.get("/portal/grants").status_code == 200
