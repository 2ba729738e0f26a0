"""Signing refusals: every bad grant or bad file is a clear problem, with no blob and no row."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from registry.errors import problem_type
from tests.factories import Studio, assert_problem
from tests.media import assets
from tests.media.conftest import metadata, sign_upload


def _refused(response, status: int, slug: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == problem_type(slug)
    return response.json  # type: ignore[no-any-return]


@pytest.fixture
def audio(work: Path) -> Path:
    return assets.make_wav(work)


@pytest.mark.parametrize(
    ("action", "slug"), [("revoke", "grant-revoked"), ("suspend", "grant-suspended")]
)
def test_revoked_or_suspended_grant_is_refused(
    studio: Studio,
    audio: Path,
    snapshot,
    action: str,
    slug: str,  # type: ignore[no-untyped-def]
) -> None:
    grant = studio.grant()
    studio.post(f"/v1/grants/{grant['id']}/{action}", json={"reason": "test"})
    check = snapshot()
    problem = _refused(sign_upload(studio, audio, metadata(grant["id"])), 422, slug)
    assert problem["grant_id"] == grant["id"]
    assert problem["reason"] == slug
    check()


def test_expired_grant_is_refused(studio: Studio, audio: Path, snapshot) -> None:  # type: ignore[no-untyped-def]
    grant = studio.grant(valid_from="2020-01-01T00:00:00Z", valid_until="2021-01-01T00:00:00Z")
    check = snapshot()
    _refused(sign_upload(studio, audio, metadata(grant["id"])), 422, "grant-expired")
    check()


def test_superseded_grant_is_refused(studio: Studio, audio: Path, snapshot) -> None:  # type: ignore[no-untyped-def]
    subject = studio.subject()
    old = studio.grant(subject["id"])
    from tests.factories import grant_body

    terms = grant_body(subject["id"])
    del terms["subject_id"]
    studio.post(f"/v1/grants/{old['id']}/supersede", json={**terms, "reason": "new fee"})
    check = snapshot()
    problem = _refused(sign_upload(studio, audio, metadata(old["id"])), 422, "grant-superseded")
    assert problem["superseded_by"]
    check()


@pytest.mark.parametrize(
    "use",
    [
        {"modalities": ["likeness"]},
        {"purpose": "political"},
        {"territory": "FR"},
    ],
)
def test_use_outside_the_grant_is_refused(
    studio: Studio,
    audio: Path,
    snapshot,
    use: dict[str, Any],  # type: ignore[no-untyped-def]
) -> None:
    grant = studio.grant()
    meta = metadata(grant["id"])
    meta["grants"][0].update(use)
    check = snapshot()
    problem = _refused(sign_upload(studio, audio, meta), 422, "grant-out-of-scope")
    assert problem["grant_id"] == grant["id"]
    check()


def test_media_type_outside_the_grant_is_refused(studio: Studio, work: Path, snapshot) -> None:  # type: ignore[no-untyped-def]
    grant = studio.grant(media_types=["audio"])
    check = snapshot()
    _refused(
        sign_upload(studio, assets.make_png(work), metadata(grant["id"])), 422, "grant-out-of-scope"
    )
    check()


def test_grant_without_generate_operation_is_refused(studio: Studio, audio: Path, snapshot) -> None:  # type: ignore[no-untyped-def]
    grant = studio.grant(operations=["dub_translate"])
    check = snapshot()
    _refused(sign_upload(studio, audio, metadata(grant["id"])), 422, "grant-out-of-scope")
    check()


def test_project_ref_is_accepted_as_purpose(studio: Studio, audio: Path) -> None:
    grant = studio.grant()
    meta = metadata(grant["id"])
    meta["grants"][0]["purpose"] = "NW-2027-COFFEE"
    assert sign_upload(studio, audio, meta).status_code == 201


@pytest.mark.parametrize("grant_id", ["01a1fdcc-5e63-7ad6-a8b4-2859c03b1561", "nonsense"])
def test_unknown_grant_is_refused(studio: Studio, audio: Path, snapshot, grant_id: str) -> None:  # type: ignore[no-untyped-def]
    check = snapshot()
    problem = _refused(sign_upload(studio, audio, metadata(grant_id)), 422, "grant-not-found")
    assert problem["grant_id"] == grant_id
    check()


def test_another_organizations_grant_is_refused_as_not_found(
    studio: Studio,
    other_studio: Studio,
    audio: Path,
    snapshot,  # type: ignore[no-untyped-def]
) -> None:
    theirs = other_studio.grant()
    check = snapshot()
    _refused(sign_upload(studio, audio, metadata(theirs["id"])), 422, "grant-not-found")
    check()


def test_one_bad_grant_among_good_ones_refuses_the_whole_request(
    studio: Studio,
    audio: Path,
    snapshot,  # type: ignore[no-untyped-def]
) -> None:
    good, bad = studio.grant(), studio.grant()
    studio.post(f"/v1/grants/{bad['id']}/revoke", json={"reason": "x"})
    meta = metadata(good["id"])
    meta["grants"].append({**meta["grants"][0], "grant_id": bad["id"]})
    check = snapshot()
    problem = _refused(sign_upload(studio, audio, meta), 422, "grant-revoked")
    assert problem["grant_id"] == bad["id"]
    check()


@pytest.mark.parametrize(
    ("content", "status", "slug"),
    [
        (b"just some text, not media at all\n" * 10, 415, "unsupported-media-type"),
        (b"", 422, "malformed-media"),
        (assets.garbage("x", 4096), 415, "unsupported-media-type"),
        (b"\xff\xd8\xff\xe0" + assets.garbage("jpeg", 2048), 422, "malformed-media"),
        (b"RIFF\xff\xff\xff\x7fWAVEfmt " + assets.garbage("riff", 512), 422, "malformed-media"),
    ],
    ids=["text", "empty", "garbage", "jpeg-garbage", "riff-lying-sizes"],
)
def test_bad_files_are_clean_problems(
    studio: Studio,
    work: Path,
    snapshot,
    content: bytes,
    status: int,
    slug: str,  # type: ignore[no-untyped-def]
) -> None:
    grant = studio.grant(media_types=["audio", "image"])
    path = work / "upload.jpg"
    path.write_bytes(content)
    check = snapshot()
    problem = _refused(sign_upload(studio, path, metadata(grant["id"])), status, slug)
    if status == 415:
        assert "image/jpeg" in problem["supported"]
    check()


@pytest.mark.parametrize(
    "maker", [assets.make_jpeg, assets.make_png, assets.make_mp4, assets.make_wav]
)
def test_truncated_media_is_a_clean_problem(studio: Studio, work: Path, snapshot, maker) -> None:  # type: ignore[no-untyped-def]
    grant = studio.grant(media_types=["audio", "image", "video"])
    source = maker(work)
    data = source.read_bytes()
    source.write_bytes(data[: len(data) // 2])
    check = snapshot()
    response = sign_upload(studio, source, metadata(grant["id"]))
    assert response.status_code in (415, 422), response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    check()


def test_the_filename_and_declared_type_are_ignored(studio: Studio, work: Path) -> None:
    grant = studio.grant(media_types=["image"])
    source = assets.make_png(work)
    response = sign_upload(studio, source, metadata(grant["id"]), filename="song.mp3")
    assert response.status_code == 201
    assert response.json["mime_type"] == "image/png"


def test_oversize_upload_is_413(studio: Studio, work: Path, settings, snapshot) -> None:  # type: ignore[no-untyped-def]
    grant = studio.grant()
    big = assets.make_wav(work, seconds=settings.max_upload_bytes / 32_000 + 5)
    check = snapshot()
    _refused(sign_upload(studio, big, metadata(grant["id"])), 413, "payload-too-large")
    check()


def test_oversize_metadata_is_413(studio: Studio, audio: Path, snapshot) -> None:  # type: ignore[no-untyped-def]
    grant = studio.grant()
    check = snapshot()
    meta = json.dumps(metadata(grant["id"], title="x" * (300 * 1024)))
    _refused(sign_upload(studio, audio, meta), 413, "payload-too-large")
    with audio.open("rb") as handle:
        as_file_part = studio.client.post(
            "/v1/media",
            data={"file": (handle, "a.wav"), "metadata": (io.BytesIO(meta.encode()), "m.json")},
            headers=studio.headers,
            content_type="multipart/form-data",
        )
    _refused(as_file_part, 413, "payload-too-large")
    check()


@pytest.mark.parametrize("parts", [16, 17])
def test_a_body_of_more_than_16_parts_is_413_saying_so(  # type: ignore[no-untyped-def]
    studio: Studio, audio: Path, snapshot, parts: int
) -> None:
    grant = studio.grant()
    check = snapshot()
    fields: dict[str, Any] = {f"extra{n}": "x" for n in range(parts - 2)}
    with audio.open("rb") as handle:
        response = studio.client.post(
            "/v1/media",
            data={
                "file": (handle, "a.wav"),
                "metadata": json.dumps(metadata(grant["id"])),
                **fields,
            },
            headers=studio.headers,
            content_type="multipart/form-data",
        )
    if parts == 16:  # read whole; form fields the route does not know are ignored
        assert response.status_code == 201, response.get_data(as_text=True)
        return
    body = _refused(response, 413, "payload-too-large")
    assert body["detail"] == "a multipart body may have at most 16 parts"
    check()


def test_missing_parts_and_bad_metadata(studio: Studio, audio: Path, snapshot) -> None:  # type: ignore[no-untyped-def]
    grant = studio.grant()
    check = snapshot()
    no_meta = studio.client.post(
        "/v1/media",
        data={"file": (audio.open("rb"), "a.wav")},
        headers=studio.headers,
        content_type="multipart/form-data",
    )
    _refused(no_meta, 400, "missing-upload-part")
    no_file = studio.client.post(
        "/v1/media",
        data={"metadata": "{}"},
        headers=studio.headers,
        content_type="multipart/form-data",
    )
    _refused(no_file, 400, "missing-upload-part")
    _refused(sign_upload(studio, audio, "{not json"), 422, "validation-error")
    wrong = metadata(grant["id"])
    wrong["grants"][0]["modalities"] = "voice"
    problem = _refused(sign_upload(studio, audio, wrong), 422, "validation-error")
    assert problem["errors"][0]["loc"] == "metadata.grants.0.modalities"
    _refused(sign_upload(studio, audio, metadata(grant["id"], grants=[])), 422, "validation-error")
    json_body = studio.post("/v1/media", json=metadata(grant["id"]))
    _refused(json_body, 415, "unsupported-media-type")
    check()


def test_signing_needs_the_media_sign_scope(app: Flask, client, audio: Path, snapshot) -> None:  # type: ignore[no-untyped-def]
    reader = Studio.create(app, client, name="Reader Only", scopes=frozenset({"grants:read"}))
    check = snapshot()
    _refused(sign_upload(reader, audio, metadata("x")), 403, "insufficient-scope")
    anonymous = client.post("/v1/media", data={}, content_type="multipart/form-data")
    _refused(anonymous, 401, "unauthorized")
    check()


def test_another_organizations_media_is_not_found(
    studio: Studio, other_studio: Studio, audio: Path
) -> None:
    grant = studio.grant()
    asset = sign_upload(studio, audio, metadata(grant["id"])).json
    for path in (f"/v1/media/{asset['id']}", f"/v1/media/{asset['id']}/content"):
        _refused(other_studio.get(path), 404, "media-not-found")


def test_nul_in_the_metadata_part_is_a_422(
    studio: Studio, work: Path, counts: Callable[[], dict[str, int]], blobs: Callable[[], list[str]]
) -> None:
    grant = studio.grant()
    before = counts()

    response = sign_upload(studio, assets.make_wav(work), metadata(grant["id"], title="take\x00"))

    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["loc"] == "metadata.title"
    assert counts() == before
    assert blobs() == []
