"""A client's session against a served registry over real HTTP (httpx): the calls a studio
makes in a day (token, subject, grant, sign, verify, revoke), for the operations tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import registry.models  # noqa: F401  (every table: foreign keys resolve)
from registry.auth.services import create_client, create_organization
from registry.db import Database
from tests.factories import ALL_SCOPES, approved_generator, grant_body
from tests.media.conftest import metadata

ASSETS = Path(__file__).resolve().parents[1] / "assets"
AUDIO = ASSETS / "tone.mp3"
SUBJECT_NAME = "Zebulon Quartermaine-Okonkwo"  # must never appear in a log line
GRANTOR_NAME = "Philippa Vandersloot-Achebe"


def new_client(database_url: str, *, name: str = "Ops Test Studio") -> tuple[str, str]:
    """An organization and an all-scopes API client in that database: (client id, secret)."""
    database = Database(url=database_url, pool_size=1)
    try:
        with database.session_scope() as session:
            org = create_organization(session, name=name, actor="test")
            approved_generator(session, org.id)  # what sign() cites
            client, secret = create_client(
                session, org_id=org.id, scopes=ALL_SCOPES, name="ops", actor="test"
            )
            return client.client_id, secret
    finally:
        database.dispose()


@dataclass
class Api:
    base: str
    client_id: str
    client_secret: str
    token: str = ""
    seen_tokens: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base, timeout=60)

    def close(self) -> None:
        self.http.close()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def login(self) -> str:
        response = self.http.post(
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        self.seen_tokens.append(self.token)
        return self.token

    def subject(self) -> dict[str, Any]:
        body = {"display_name": SUBJECT_NAME, "jurisdictions": ["US"]}
        response = self.http.post("/v1/subjects", json=body, headers=self.auth)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def grant(
        self, subject_id: str, body: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        body = body or grant_body(subject_id, granted_by={"role": "subject", "name": GRANTOR_NAME})
        return self.http.post("/v1/grants", json=body, headers={**self.auth, **headers})

    def sign(self, grant_id: str, path: Path = AUDIO) -> dict[str, Any]:
        with path.open("rb") as handle:
            response = self.http.post(
                "/v1/media",
                files={"file": (path.name, handle, "audio/mpeg")},
                data={"metadata": json.dumps(metadata(grant_id))},
                headers=self.auth,
            )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def download(self, media: dict[str, Any], dest: Path) -> Path:
        response = self.http.get(
            f"/v1/media/{media['id']}/content", headers=self.auth, follow_redirects=True
        )
        assert response.status_code == 200, response.text
        dest.write_bytes(response.content)
        return dest

    def verify(self, path: Path, *, anonymous: bool = False) -> httpx.Response:
        with path.open("rb") as handle:
            return self.http.post(
                "/v1/verify",
                files={"file": (path.name, handle, "audio/mpeg")},
                headers={} if anonymous else self.auth,
            )

    def revoke(self, grant_id: str) -> httpx.Response:
        return self.http.post(
            f"/v1/grants/{grant_id}/revoke",
            json={"reason": "the campaign ended"},
            headers=self.auth,
        )
