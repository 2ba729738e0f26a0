"""Signing without uploading: files signed by c2pa here, the registry signing the claim."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from registry.client import RegistryApiError
from registry.errors import problem_type
from tests.factories import Studio
from tests.local_signing.conftest import citation
from tests.media import assets
from tests.verification.conftest import checks_of, verify


def _fixture(kind: str, work: Path) -> Path:
    if kind == "jpeg":
        return assets.make_jpeg(work, size=(320, 240))
    if kind == "wav":
        return assets.make_wav(work, seconds=2)
    return assets.copy_asset(work, "clip.mp4")


@pytest.mark.parametrize("kind", ["jpeg", "wav", "mp4"])
def test_a_file_signed_locally_verifies_pass(
    live_server: str,
    studio: Studio,
    client: FlaskClient,
    grant: dict[str, Any],
    work: Path,
    kind: str,
    counts: Callable[[], dict[str, int]],
) -> None:
    source = _fixture(kind, work)
    out = work / f"signed-{source.name}"
    seen: list[tuple[int, int]] = []
    with studio.registry_client(live_server) as registry:
        media = registry.sign_local(
            source,
            out,
            citation(grant["id"]),
            "VoiceForge@2.1",
            progress=lambda done, total: seen.append((done, total)),
        )
    assert media.stored is False and media.sha256 is None and media.download_url is None
    assert media.source_sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert media.grant_ids == [grant["id"]]
    assert seen and seen[-1][1] == source.stat().st_size
    result = verify(client, out).json
    assert result["verdict"] == "pass", result
    found = checks_of(result)
    assert found["signer_trusted"]["status"] == "pass"
    assert found["consent"]["code"] == "consent.in_force"
    assert found["ai_label"]["status"] == "pass"
    assert result["known_asset"]["id"] == media.id
    # The media exists without bytes: no content to fetch, listed with stored false.
    content = studio.get(f"/v1/media/{media.id}/content")
    assert content.status_code == 404
    assert content.json["type"] == problem_type("media-not-stored")
    listed = studio.get("/v1/media").json
    assert [(m["id"], m["stored"]) for m in listed["items"]] == [(media.id, False)]


def test_revoking_the_grant_fails_the_locally_signed_file(
    live_server: str, studio: Studio, client: FlaskClient, grant: dict[str, Any], work: Path
) -> None:
    source = assets.make_jpeg(work)
    out = work / "signed.jpg"
    with studio.registry_client(live_server) as registry:
        registry.sign_local(source, out, citation(grant["id"]), "VoiceForge@2.1")
    assert verify(client, out).json["verdict"] == "pass"
    revoked = studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    assert revoked.status_code == 200, revoked.json
    result = verify(client, out).json
    assert result["verdict"] == "fail"
    assert checks_of(result)["consent"]["code"] == "consent.revoked"


def test_a_refused_session_writes_no_file(
    live_server: str,
    studio: Studio,
    grant: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
) -> None:
    studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    before = counts()
    out = work / "signed.jpg"
    with (
        studio.registry_client(live_server) as registry,
        pytest.raises(RegistryApiError) as caught,
    ):
        registry.sign_local(assets.make_jpeg(work), out, citation(grant["id"]), "VoiceForge@2.1")
    assert caught.value.status == 422
    assert caught.value.type == problem_type("grant-revoked")
    assert not out.exists() and not list(work.glob(".signed.jpg.*"))
    assert counts() == before
