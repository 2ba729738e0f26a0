"""POST /v1/media/sign-object, and storage failures during signing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from registry.errors import problem_type
from registry.state import state_of
from tests.factories import Studio
from tests.media import assets
from tests.media.conftest import metadata, sign_upload


def test_sign_an_object_of_the_organizations_prefix(app: Flask, studio: Studio, work: Path) -> None:
    storage = state_of(app).storage
    key = f"orgs/{studio.org_id}/renders/take-1.png"
    source = assets.make_png(work)
    storage.put_file(key, source, "image/png")
    grant = studio.grant(media_types=["image"])
    response = studio.post("/v1/media/sign-object", json={**metadata(grant["id"]), "key": key})
    assert response.status_code == 201, response.json
    asset = response.json
    assert asset["mime_type"] == "image/png"
    assert storage.exists(f"media/{asset['sha256'][:2]}/{asset['sha256']}.png")


def test_a_key_outside_the_prefix_is_refused(
    app: Flask,
    studio: Studio,
    other_studio: Studio,
    work: Path,
    counts: Callable[[], dict[str, int]],
) -> None:
    storage = state_of(app).storage
    theirs = f"orgs/{other_studio.org_id}/secret.png"
    storage.put_file(theirs, assets.make_png(work), "image/png")
    grant = studio.grant(media_types=["image"])
    before = counts()
    for key in (theirs, f"orgs/{studio.org_id}/../{other_studio.org_id}/secret.png", "media/x.png"):
        response = studio.post("/v1/media/sign-object", json={**metadata(grant["id"]), "key": key})
        assert response.status_code == 403, response.json
        assert response.json["type"] == problem_type("object-outside-prefix")
    assert counts() == before


def test_a_missing_object_is_404(studio: Studio, counts: Callable[[], dict[str, int]]) -> None:
    grant = studio.grant(media_types=["image"])
    before = counts()
    key = f"orgs/{studio.org_id}/nothing-here.png"
    response = studio.post("/v1/media/sign-object", json={**metadata(grant["id"]), "key": key})
    assert response.status_code == 404
    assert response.json["type"] == problem_type("blob-not-found")
    assert counts() == before


@pytest.mark.parametrize("storage_backend", ["s3"], indirect=True)
def test_storage_down_during_signing_is_503_and_no_row(
    studio: Studio,
    work: Path,
    s3_server,
    counts: Callable[[], dict[str, int]],
    spool_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    grant = studio.grant()
    source = assets.make_wav(work)
    before = counts()
    s3_server.stop()
    try:
        response = sign_upload(studio, source, metadata(grant["id"]))
    finally:
        s3_server.start()
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.json["type"] == problem_type("storage-unavailable")
    assert counts() == before
    assert list(spool_dir.iterdir()) == []


@pytest.mark.parametrize("storage_backend", ["s3"], indirect=True)
def test_readyz_reports_storage_down(client, s3_server) -> None:  # type: ignore[no-untyped-def]
    # Ready once warm: the first probe opens the S3 and database connections, which at load
    # 10+ can outlast /readyz's 0.8 s answer deadline; an orchestrator probes again too.
    statuses = []
    for _ in range(10):
        statuses.append(client.get("/readyz").status_code)
        if statuses[-1] == 200:
            break
    assert statuses[-1] == 200, statuses
    s3_server.stop()
    try:
        response = client.get("/readyz")
    finally:
        s3_server.start()
    assert response.status_code == 503
    assert response.json["type"] == problem_type("storage-unavailable")


@pytest.mark.parametrize("suffix", ["a//b.png", ".hidden.png", "renders/", "a\\b.png"])
def test_a_key_that_is_not_a_storage_key_is_a_422(
    studio: Studio,
    counts: Callable[[], dict[str, int]],
    blobs: Callable[[], list[str]],
    suffix: str,
) -> None:
    grant = studio.grant(media_types=["image"])
    before = counts()
    key = f"orgs/{studio.org_id}/{suffix}"

    response = studio.post("/v1/media/sign-object", json={**metadata(grant["id"]), "key": key})
    verified = studio.post("/v1/verify", json={"key": key})

    for refused in (response, verified):
        assert refused.status_code == 422, refused.json
        assert refused.json["type"] == problem_type("invalid-object-key")
    assert counts() == before
    assert blobs() == []
