"""Hostile input never gives a 500, and stays bounded in time and memory."""

from __future__ import annotations

import resource
import struct
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from registry import create_app
from registry.errors import problem_type
from registry.state import state_of
from tests.media import assets
from tests.verification.conftest import Signed, checks_of, verify

TIME_BOUND_SECONDS = 10
MEMORY_BOUND_MB = 256


def _deep_mp4(levels: int) -> bytes:
    ftyp = struct.pack(">I4s4sI4s", 20, b"ftyp", b"isom", 0, b"isom")
    types = (b"moov", b"trak", b"mdia", b"minf", b"stbl")
    return ftyp + b"".join(
        struct.pack(">I4s", 8 * (levels - i), types[i % len(types)]) for i in range(levels)
    )


def _lying_riff() -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFF0)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", 0xFFFFFF00)
        + b"\0" * 100
    )


def _riff_with_huge_chunk() -> bytes:
    return b"RIFF" + struct.pack("<I", 100) + b"WAVE" + b"junk" + struct.pack("<I", 0x7FFFFFF0)


HOSTILE = {
    "zero-length": (b"", {422}),
    "garbage": (assets.garbage("hostile", 64 * 1024), {415}),
    "text": (b"<html>not media</html>" * 50, {415}),
    "deeply-nested-mp4-boxes": (_deep_mp4(100_000), {422}),
    "riff-with-lying-sizes": (_lying_riff(), {422}),
    "riff-with-a-huge-chunk": (_riff_with_huge_chunk(), {200, 422}),
    "png-signature-only": (b"\x89PNG\r\n\x1a\n", {200, 422}),
}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bytes_get_a_clean_answer(client: FlaskClient, work: Path, name: str) -> None:
    content, statuses = HOSTILE[name]
    path = work / "upload.bin"
    path.write_bytes(content)
    before_rss, started = _peak_rss_mb(), time.monotonic()
    response = verify(client, path)
    assert time.monotonic() - started < TIME_BOUND_SECONDS
    assert _peak_rss_mb() - before_rss < MEMORY_BOUND_MB
    assert response.status_code in statuses, response.get_data(as_text=True)
    if response.status_code != 200:
        assert response.mimetype == "application/problem+json"
        assert response.json["type"].startswith("https://consentregistry.org/problems/")
    else:
        assert response.json["verdict"] == "fail"


@pytest.mark.parametrize(
    "maker", [assets.make_jpeg, assets.make_png, assets.make_mp4, assets.make_wav]
)
def test_truncated_signed_media_is_never_a_500(
    client: FlaskClient,
    studio,
    work: Path,
    maker,  # type: ignore[no-untyped-def]
) -> None:
    from tests.verification.conftest import sign_through_api

    grant = studio.grant(media_types=["image", "audio", "video"])
    signed = sign_through_api(studio, maker(work), grant, work)
    data = signed.path.read_bytes()
    for cut in (len(data) // 3, len(data) - 10):
        truncated = work / f"truncated-{cut}"
        truncated.write_bytes(data[:cut])
        response = verify(client, truncated)
        assert response.status_code in (200, 415, 422), response.get_data(as_text=True)
        if response.status_code == 200:
            assert response.json["verdict"] == "fail"


def test_manifest_with_a_broken_signature_fails(client: FlaskClient, signed_jpeg: Signed) -> None:
    data = bytearray(signed_jpeg.path.read_bytes())
    # The COSE signature sits in the claim signature box ("c2cs") of the manifest.
    position = data.index(b"c2cs") + 200
    data[position] ^= 0xFF
    broken = signed_jpeg.path.with_name("broken-signature.jpg")
    broken.write_bytes(bytes(data))
    response = verify(client, broken)
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        result = response.json
        assert result["verdict"] == "fail"
        assert checks_of(result)["integrity"]["status"] == "fail" or (
            checks_of(result)["signer_trusted"]["status"] == "fail"
        )
    else:
        assert response.json["type"] == problem_type("manifest-unreadable")


def test_oversize_upload_is_413(settings, work: Path) -> None:  # type: ignore[no-untyped-def]
    settings.max_upload_bytes = 1024 * 1024  # read once, when the app is built
    app = create_app(settings)
    client = app.test_client()
    big = assets.make_wav(work, seconds=60)
    response = verify(client, big)
    assert response.status_code == 413
    assert response.json["type"] == problem_type("payload-too-large")
    raw = client.post("/v1/verify", data=big.read_bytes(), content_type="application/octet-stream")
    assert raw.status_code == 413
    assert list((settings.data_dir / "spool").iterdir()) == []
    state_of(app).database.dispose()
