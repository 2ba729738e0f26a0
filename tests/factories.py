"""Test data: studios with API clients, subjects and grants made through the real API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from registry.auth.services import SCOPES, create_client, create_organization
from registry.client import RegistryClient
from registry.db import utcnow
from registry.errors import PROBLEM_CONTENT_TYPE, problem_type
from registry.generators.models import GeneratorEntry
from registry.state import state_of

ALL_SCOPES = frozenset(SCOPES)
# Every studio's inventory starts with this generator, approved: signing may cite only an
# approved generator of the organization, and the tests cite this one by name and version.
GENERATOR = {"name": "VoiceForge", "version": "2.1"}


def assert_problem(response: TestResponse, status: int, slug: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and type; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_CONTENT_TYPE
    body = response.get_json()
    assert body["type"] == problem_type(slug)
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body  # type: ignore[no-any-return]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def grant_body(subject_id: str, **overrides: Any) -> dict[str, Any]:
    """A grant that passes policy: a living adult, voice for one advertising project."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "subject_id": subject_id,
        "granted_by": {"role": "subject", "name": "Ada Example"},
        "modalities": ["voice"],
        "operations": ["generate"],
        "purposes": [
            {
                "category": "advertising",
                "description": "Radio spots for the Northwind spring 2027 coffee campaign",
                "project_ref": "NW-2027-COFFEE",
            }
        ],
        "media_types": ["audio"],
        "territories": ["US", "CA"],
        "valid_from": iso(now - timedelta(days=1)),
        "valid_until": iso(now + timedelta(days=365)),
        "compensation": {"model": "flat_fee", "amount": "5000.00", "currency": "USD"},
        "evidence": [{"kind": "signed_rider", "sha256": "a" * 64}],
    }
    body.update(overrides)
    return body


@dataclass
class Studio:
    """A tenant as the tests see it: its ids, credentials and an access token."""

    app: Flask
    client: FlaskClient
    org_id: str
    client_id: str
    client_secret: str
    token: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    generator_id: str = ""

    @classmethod
    def create(
        cls, app: Flask, client: FlaskClient, *, name: str, scopes: frozenset[str] = ALL_SCOPES
    ) -> Studio:
        with state_of(app).database.session_scope() as session:
            org = create_organization(session, name=name, actor="test")
            api_client, secret = create_client(
                session, org_id=org.id, scopes=scopes, name="test", actor="test"
            )
            org_id, client_id = org.id, api_client.client_id
            generator = approved_generator(session, org_id)
        studio = cls(app, client, org_id, client_id, secret, generator_id=generator.id)
        studio.login()
        return studio

    def login(self, scope: str | None = None) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if scope:
            form["scope"] = scope
        response = self.client.post("/v1/auth/token", data=form)
        assert response.status_code == 200, response.json
        self.token = response.json["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        return self.token

    def registry_client(self, url: str) -> RegistryClient:
        """The Python client, as this studio, against the server at ``url``."""
        return RegistryClient(url, self.client_id, self.client_secret)

    def cli_env(self, url: str) -> dict[str, str]:
        """The environment of `registry` commands run as this studio against ``url``."""
        return {
            "REGISTRY_URL": url,
            "REGISTRY_CLIENT_ID": self.client_id,
            "REGISTRY_CLIENT_SECRET": self.client_secret,
        }

    def post(self, path: str, json: Any = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.post(path, json=json, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.get(
            path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )

    def subject(self, **overrides: Any) -> dict[str, Any]:
        body = {"display_name": "Ada Example", "jurisdictions": ["US"], **overrides}
        response = self.post("/v1/subjects", json=body)
        assert response.status_code == 201, response.json
        return response.json  # type: ignore[no-any-return]

    def grant(self, subject_id: str | None = None, **overrides: Any) -> dict[str, Any]:
        subject_id = subject_id or self.subject()["id"]
        response = self.post("/v1/grants", json=grant_body(subject_id, **overrides))
        assert response.status_code == 201, response.json
        return response.json  # type: ignore[no-any-return]


def approved_generator(session: Any, org_id: str, **overrides: Any) -> GeneratorEntry:
    """An approved inventory entry, written as a fixture (no audit or webhook event, so tests
    that count an organization's events see only their own)."""
    now = utcnow()
    fields: dict[str, Any] = {
        **GENERATOR,
        "provider": "VoiceForge Labs",
        "documentation_url": "https://voiceforge.example/model-card",
        "license": "commercial",
        "training_data": "licensed",
        "risk_class": "low",
        "modalities": ["image", "audio", "video"],
        "state": "approved",
        "approved_by": "test",
        "approved_at": now,
        "created_by": "test",
        **overrides,
    }
    entry = GeneratorEntry(org_id=org_id, **fields)
    session.add(entry)
    session.flush()
    return entry


def table_counts(app: Flask) -> dict[str, int]:
    engine: sa.Engine = state_of(app).database.engine
    names = sa.inspect(engine).get_table_names()
    with engine.connect() as connection:
        return {
            name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()  # noqa: S608 - names come from the inspector
            for name in sorted(names)
            if name != "alembic_version"
        }
