"""Portal fixtures: a studio's subject with a grant that needs confirmation, an invitation,
and a person who registered a passkey from it (a software authenticator, see
authenticator.py), signed in on their own test client."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import Studio
from tests.portal.authenticator import SoftAuthenticator

ORIGIN = "http://registry.test"  # the settings fixture's issuer, hence the portal's origin
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_token(client: FlaskClient, path: str = "/portal/signin") -> str:
    page = client.get(path, headers={"Accept": "text/html"})
    found = CSRF.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)
    return found.group(1)


def invite(studio: Studio, subject_id: str, **body: Any) -> dict[str, Any]:
    response = studio.post(f"/v1/subjects/{subject_id}/invitations", json=body)
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def secret_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


@dataclass
class Person:
    """Someone with a passkey account, and the browser (test client) they signed in with."""

    client: FlaskClient
    authenticator: SoftAuthenticator
    token: str  # the CSRF token of their session

    def post(self, path: str, **form: str) -> Any:
        return self.client.post(path, data={"csrf_token": self.token, **form})

    def page(self, path: str) -> str:
        response = self.client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data(as_text=True)

    def link(self, url: str) -> Any:
        """Redeem another studio's invitation into this account."""
        return self.post(f"/portal/invitations/{secret_of(url)}/link")


def register(app: Flask, url: str) -> Person:
    """Open the invitation in a fresh browser and create a passkey account from it."""
    client = app.test_client()
    secret = secret_of(url)
    token = csrf_token(client, f"/portal/invitations/{secret}")
    authenticator = SoftAuthenticator(ORIGIN, "registry.test")
    headers = {"X-CSRFToken": token}
    options = client.post(
        "/portal/passkeys/register/options", json={"invitation": secret}, headers=headers
    )
    assert options.status_code == 200, options.json
    credential = authenticator.create(options.json)
    done = client.post(
        "/portal/passkeys/register",
        json={"invitation": secret, "credential": credential},
        headers=headers,
    )
    assert done.status_code == 201, done.json
    return Person(client, authenticator, csrf_token(client, "/portal/grants"))


@pytest.fixture
def pending(studio: Studio) -> dict[str, Any]:
    """A subject's grant issued as pending_confirmation, and the subject's invitation."""
    subject = studio.subject()
    grant = studio.grant(subject["id"], requires_confirmation=True)
    invitation = invite(studio, subject["id"])
    return {"subject": subject, "grant": grant, "invitation": invitation}


@pytest.fixture
def person(app: Flask, pending: dict[str, Any]) -> Person:
    return register(app, pending["invitation"]["url"])
