"""Signing sessions: a studio, a grant for every media kind, and claims captured from c2pa."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2
import pytest

from registry.client import GrantCitation, RegistryClient
from registry.intake.sniff import sniff
from registry.local_signing.pipeline import SigningRefused, file_facts, sign_file_locally
from tests.factories import Studio


@dataclass
class Capture:
    """A session opened over the API and the Sig_structure c2pa built for it (unsigned)."""

    session: dict[str, Any]
    to_be_signed: bytes

    @property
    def structure(self) -> list[Any]:
        return list(cbor2.loads(self.to_be_signed))

    def claim(self) -> dict[str, Any]:
        return dict(cbor2.loads(self.structure[3]))

    def with_claim(self, claim: dict[str, Any]) -> bytes:
        structure = self.structure
        structure[3] = cbor2.dumps(claim)
        return bytes(cbor2.dumps(structure))


def session_body(grant_id: str, path: Path, **overrides: Any) -> dict[str, Any]:
    sha256, size = file_facts(path)
    body: dict[str, Any] = {
        "grants": [
            {
                "grant_id": grant_id,
                "modalities": ["voice"],
                "purpose": "advertising",
                "territory": "US",
            }
        ],
        "generator": {"name": "VoiceForge", "version": "2.1"},
        "mime_type": sniff(path).mime_type,
        "size": size,
        "source_sha256": sha256,
    }
    body.update(overrides)
    return body


def open_session(studio: Studio, grant_id: str, path: Path, **overrides: Any) -> dict[str, Any]:
    response = studio.post("/v1/signing-sessions", json=session_body(grant_id, path, **overrides))
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def capture(
    studio: Studio,
    grant_id: str,
    path: Path,
    work: Path,
    *,
    edit: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    **overrides: Any,
) -> Capture:
    """Run c2pa on ``path`` with the session's definition (``edit``ed) and keep what it asks to
    have signed, signing nothing."""
    session = open_session(studio, grant_id, path, **overrides)
    definition = session["manifest_definition"]
    if edit is not None:
        definition = edit(definition)
    seen: list[bytes] = []

    def keep(data: bytes) -> bytes:
        seen.append(data)
        raise RuntimeError("captured")

    with pytest.raises(SigningRefused):
        sign_file_locally(
            source=path,
            dest=work / "never.out",
            mime_type=session["mime_type"],
            definition=definition,
            certificate_chain=session["certificate_chain"],
            sign=keep,
        )
    assert not (work / "never.out").exists()
    return Capture(session, seen[0])


def post_signature(studio: Studio, session_id: str, data: bytes, **extra: Any):  # type: ignore[no-untyped-def]
    return studio.post(
        f"/v1/signing-sessions/{session_id}/signature",
        json={"to_be_signed": base64.b64encode(data).decode(), **extra},
    )


def citation(grant_id: str) -> list[GrantCitation]:
    return [GrantCitation(grant_id, ("voice",), "advertising", "US")]


def registry_client(live_server: str, studio: Studio) -> RegistryClient:
    return RegistryClient(live_server, studio.client_id, studio.client_secret)


@pytest.fixture
def grant(studio: Studio) -> dict[str, Any]:
    return studio.grant(media_types=["image", "audio", "video"])
