"""Durable credentials (#11): a file the registry signed is still recognised by POST /v1/verify
after a platform strips its metadata, re-encodes, resizes, crops or converts it.

Media are generated here (``tests.provenance.media``), signed through the API, transformed,
and verified. A recognised file gets ``warn`` (never ``pass``) with a ``recovered`` block,
or ``fail`` when its grant was revoked; an unrelated file of the same kind matches nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from registry.c2pa.labels import SOFT_BINDING_LABEL, WATERMARKED_ACTION
from registry.cli import main
from registry.provenance.fingerprints import ALG, WATERMARK_ALG
from registry.provenance.models import ProvenanceCode
from registry.provenance.softbinding import values_of
from registry.state import state_of
from tests.factories import Studio
from tests.provenance import media
from tests.verification.conftest import Signed, checks_of, sign_through_api, verify

Transform = Callable[[Path, Path], Path]


def _image(fmt: str, **options: Any) -> Transform:
    """Decode the picture (its metadata stays behind) and save it again as ``fmt``."""

    def apply(src: Path, dst: Path) -> Path:
        with Image.open(src) as picture:
            media.save(picture.convert("RGB"), dst, format=fmt, **options)
        return dst

    return apply


def _picture(change: Callable[[Image.Image], Image.Image], fmt: str) -> Transform:
    def apply(src: Path, dst: Path) -> Path:
        with Image.open(src) as picture:
            media.save(change(picture.convert("RGB")), dst, format=fmt)
        return dst

    return apply


def _half(picture: Image.Image) -> Image.Image:
    return picture.resize((picture.width // 2, picture.height // 2), Image.Resampling.BICUBIC)


def _crop(removed: float) -> Callable[[Image.Image], Image.Image]:
    def apply(picture: Image.Image) -> Image.Image:
        w, h = picture.size
        dx, dy = int(w * removed / 2), int(h * removed / 2)
        return picture.crop((dx, dy, w - dx, h - dy))

    return apply


def _corner(removed: float) -> Callable[[Image.Image], Image.Image]:
    def apply(picture: Image.Image) -> Image.Image:
        w, h = picture.size
        return picture.crop((int(w * removed), int(h * removed), w, h))

    return apply


def _audio(ext: str, bitrate: int) -> Transform:
    return lambda src, dst: media.transcode_audio(src, dst.with_suffix(ext), bitrate=bitrate)


def _trim(removed: float) -> Transform:
    """The sound with ``removed`` of its length cut from its end (then WAV again)."""

    def apply(src: Path, dst: Path) -> Path:
        import av

        with av.open(str(src)) as container:
            samples = [f.to_ndarray() for f in container.decode(audio=0)]
        import numpy as np

        sound = np.concatenate(samples, axis=1)[0]
        return media.write_audio(dst, sound[: int(len(sound) * (1 - removed))])

    return apply


TRANSFORMS: dict[str, dict[str, Transform]] = {
    "jpeg": {
        "metadata stripped": media.strip_metadata,
        "re-encoded JPEG q70": _image("JPEG", quality=70),
        "resized to half": _picture(_half, "JPEG"),
        "cropped 10%": _picture(_crop(0.10), "JPEG"),
        "cropped 10% at a corner": _picture(_corner(0.10), "JPEG"),
        "converted to PNG": _image("PNG"),
    },
    "png": {
        "metadata stripped": media.strip_metadata,
        "re-encoded JPEG q70": _image("JPEG", quality=70),
        "resized to half": _picture(_half, "PNG"),
        "cropped 10%": _picture(_crop(0.10), "PNG"),
        "cropped 10% at a corner": _picture(_corner(0.10), "PNG"),
        "converted to WEBP": _image("WEBP", quality=80),
    },
    "wav": {
        "metadata stripped": media.strip_metadata,
        "re-encoded MP3 128 kbps": _audio(".mp3", 128_000),
        "re-encoded AAC 128 kbps": _audio(".m4a", 128_000),
        "cropped 10%": _trim(0.10),
    },
    "mp4": {
        "metadata stripped": media.strip_metadata,
        "re-encoded H.264 CRF 30": lambda s, d: media.reencode_video(s, d, crf=30),
        "resized to half": lambda s, d: media.reencode_video(s, d, crf=23, size=(160, 90)),
        "cropped 10%": lambda s, d: media.reencode_video(s, d, crf=23, crop=0.10),
    },
}
CASES = [(kind, name) for kind, transforms in TRANSFORMS.items() for name in transforms]


def make_source(kind: str, directory: Path, seed: int) -> Path:
    """A generated file of ``kind``: pictures with structure, sound, a short video."""
    if kind == "jpeg":
        return media.save(media.scene(seed), directory / f"scene-{seed}.jpg", quality=92)
    if kind == "png":
        return media.save(media.scene(seed), directory / f"scene-{seed}.png")
    if kind == "wav":
        sound = media.synth_audio(seed, 12)
        return media.write_audio(directory / f"sound-{seed}.wav", sound, title=f"Take {seed}")
    return media.make_video(directory / f"video-{seed}.mp4", seed, seconds=6, size=(320, 180))


@pytest.fixture
def grant(studio: Studio) -> dict[str, Any]:
    return studio.grant(media_types=["image", "audio", "video"])


def sign(studio: Studio, grant: dict[str, Any], work: Path, kind: str, seed: int = 1) -> Signed:
    return sign_through_api(studio, make_source(kind, work, seed), grant, work)


def assert_recovered(result: dict[str, Any], signed: Signed) -> dict[str, Any]:
    """A recognised file: warn, the matched asset first, what its manifest says."""
    assert result["verdict"] == "warn", result["summary"]
    checks = checks_of(result)
    assert (checks["provenance"]["status"], checks["provenance"]["code"]) == (
        "warn",
        "provenance.recovered",
    )
    assert result["known_asset"]["id"] == signed.asset["id"]
    recovered = result["recovered"]
    best = recovered["matches"][0]
    assert best["asset_id"] == signed.asset["id"]
    assert best["manifest_id"] == signed.asset["manifest_id"]
    assert best["ai_generated"] is True
    assert best["generator"] == {"name": "VoiceForge", "version": "2.1"}
    assert best["created_at"] == signed.asset["created_at"]
    assert best["manifest_url"] == f"/manifests/{signed.asset['manifest_id']}"
    assert best["consent_in_force"] is True
    assert best["grants"] == [
        {
            "grant_id": signed.grant["id"],
            "status_now": "active",
            "status_url": f"/v1/grants/{signed.grant['id']}/status",
        }
    ]
    assert result["recovered_from"] == recovered["method"]
    if recovered["method"] == "watermark":
        assert (best["alg"], best["unit"], best["similarity"]) == (WATERMARK_ALG, "watermark", 1.0)
    else:
        assert best["alg"] == ALG and 0.5 <= best["similarity"] <= 1.0
    assert "recognises its content" in result["summary"]
    return best


@pytest.mark.parametrize(("kind", "transform"), CASES)
def test_a_transformed_copy_is_recovered(
    client: FlaskClient,
    studio: Studio,
    grant: dict[str, Any],
    work: Path,
    kind: str,
    transform: str,
) -> None:
    signed = sign(studio, grant, work, kind)
    copy = TRANSFORMS[kind][transform](signed.path, work / f"copy.{signed.path.suffix[1:]}")

    response = verify(client, copy)

    assert response.status_code == 200, response.json
    result = response.json
    if result["recovered_from"] in ("source_hash", "signed_hash"):
        pytest.fail(f"{transform} left the bytes as they were: nothing to recover")
    best = assert_recovered(result, signed)
    assert best["media_url"] is None  # an anonymous caller
    assert checks_of(result)["manifest_present"]["code"] == "manifest.stripped"


@pytest.mark.parametrize("kind", sorted(TRANSFORMS))
def test_an_unrelated_file_of_the_same_kind_matches_nothing(
    client: FlaskClient, studio: Studio, grant: dict[str, Any], work: Path, kind: str
) -> None:
    sign(studio, grant, work, kind, seed=1)
    sign(studio, grant, work, kind, seed=2)
    unrelated = make_source(kind, work, seed=77)

    result = verify(client, unrelated).json

    assert result["verdict"] == "fail"
    assert result["recovered"] is None and result["known_asset"] is None
    assert result["recovered_from"] is None
    checks = checks_of(result)
    assert checks["manifest_present"]["code"] == "manifest.missing"
    assert (checks["provenance"]["status"], checks["provenance"]["code"]) == (
        "not_applicable",
        "provenance.no_match",
    )


def test_a_recovered_file_whose_grant_was_revoked_fails(
    client: FlaskClient, studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    signed = sign(studio, grant, work, "jpeg")
    revoked = studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    assert revoked.status_code == 200, revoked.json
    copy = TRANSFORMS["jpeg"]["resized to half"](signed.path, work / "half.jpg")

    result = verify(client, copy).json

    assert result["verdict"] == "fail"
    checks = checks_of(result)
    assert (checks["consent"]["status"], checks["consent"]["code"]) == ("fail", "consent.revoked")
    assert checks["provenance"]["code"] == "provenance.recovered"
    best = result["recovered"]["matches"][0]
    assert best["asset_id"] == signed.asset["id"]
    assert best["consent_in_force"] is False
    assert [g["status_now"] for g in best["grants"]] == ["revoked"]
    assert result["grants"][0]["status_now"] == "revoked"
    assert "revoked" in result["summary"]


def test_only_the_signing_organization_sees_the_link_to_its_media(
    client: FlaskClient, studio: Studio, other_studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    signed = sign(studio, grant, work, "jpeg")
    copy = TRANSFORMS["jpeg"]["re-encoded JPEG q70"](signed.path, work / "q70.jpg")

    owner = verify(client, copy, headers=studio.headers).json
    other = verify(client, copy, headers=other_studio.headers).json
    anonymous = verify(client, copy).json

    assert owner["recovered"]["matches"][0]["media_url"] == f"/v1/media/{signed.asset['id']}"
    assert other["recovered"]["matches"][0]["media_url"] is None
    assert anonymous["recovered"]["matches"][0]["media_url"] is None
    # Otherwise the same answer for everyone, and nothing personal in it.
    for result in (other, anonymous):
        assert {**result["recovered"]["matches"][0], "media_url": None} == {
            **owner["recovered"]["matches"][0],
            "media_url": None,
        }
    text = str(anonymous)
    assert "Ada Example" not in text and "Radio spots" not in text


def test_a_broken_manifest_keeps_its_verdict_and_reports_the_match(
    client: FlaskClient, studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    signed = sign(studio, grant, work, "jpeg")
    data = bytearray(signed.path.read_bytes())
    # One bit of the compressed picture, half-way through its scan: the hash no longer holds.
    position = data.rindex(b"\xff\xda") + (len(data) - data.rindex(b"\xff\xda")) // 2
    while data[position] >= 0xFE or data[position - 1] == 0xFF:
        position += 1
    data[position] ^= 0x01
    broken = work / "broken.jpg"
    broken.write_bytes(bytes(data))

    result = verify(client, broken).json

    assert result["verdict"] == "fail"
    checks = checks_of(result)
    assert checks["integrity"]["status"] == "fail"
    assert checks["provenance"]["code"] == "provenance.recovered"
    assert result["recovered"]["matches"][0]["asset_id"] == signed.asset["id"]
    assert result["recovered_from"] is None  # the manifest is there: its claims are judged


def test_the_signed_manifest_carries_the_soft_bindings_and_the_codes_are_indexed(
    app: Flask, client: FlaskClient, studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    signed = sign(studio, grant, work, "jpeg")

    result = verify(client, signed.path).json
    assert result["verdict"] == "pass"
    assert checks_of(result)["provenance"]["code"] == "provenance.in_manifest"
    store = _manifest_store(signed.path)
    manifest = store["manifests"][store["active_manifest"]]
    bindings = {
        a["data"]["alg"]: a["data"]
        for a in manifest["assertions"]
        if a["label"].startswith(SOFT_BINDING_LABEL)
    }
    assert set(bindings) == {ALG, WATERMARK_ALG}
    [key] = values_of(bindings[WATERMARK_ALG])
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    assert [a["action"] for a in actions["data"]["actions"]] == ["c2pa.created", WATERMARKED_ACTION]

    with state_of(app).database.engine.connect() as connection:
        rows = connection.execute(
            sa.select(ProvenanceCode.family, ProvenanceCode.code).where(
                ProvenanceCode.asset_id == signed.asset["id"]
            )
        ).all()
    families = sorted(family for family, _ in rows)
    assert families.count("watermark") == 1 and families.count("image") == len(
        values_of(bindings[ALG])
    )
    stored_key = next(code for family, code in rows if family == "watermark")
    assert stored_key % (1 << 64) == int.from_bytes(key, "big")


def test_a_picture_too_small_for_the_watermark_is_signed_with_fingerprints_only(
    app: Flask, client: FlaskClient, studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    small = media.save(media.scene(5, (200, 160)), work / "small.png")
    signed = sign_through_api(studio, small, grant, work)

    store = _manifest_store(signed.path)
    manifest = store["manifests"][store["active_manifest"]]
    algs = {
        a["data"]["alg"]
        for a in manifest["assertions"]
        if a["label"].startswith(SOFT_BINDING_LABEL)
    }
    assert algs == {ALG}
    with state_of(app).database.engine.connect() as connection:
        families = (
            connection.execute(
                sa.select(ProvenanceCode.family).where(
                    ProvenanceCode.asset_id == signed.asset["id"]
                )
            )
            .scalars()
            .all()
        )
    assert "watermark" not in families and "image" in families
    copy = TRANSFORMS["png"]["re-encoded JPEG q70"](signed.path, work / "small.jpg")
    assert verify(client, copy).json["recovered"]["method"] == "fingerprint"


def test_the_verify_page_says_it_in_plain_words(
    client: FlaskClient, studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    signed = sign(studio, grant, work, "jpeg")
    copy = TRANSFORMS["jpeg"]["resized to half"](signed.path, work / "half.jpg")

    with copy.open("rb") as handle:
        page = client.post(
            "/verify", data={"file": (handle, "half.jpg")}, content_type="multipart/form-data"
        ).get_data(as_text=True)

    assert 'id="recovered"' in page
    assert "Recognised without its label" in page
    assert "an invisible watermark in its picture" in page
    assert "treat it as AI-generated media" in page
    assert signed.asset["manifest_id"] in page


def test_the_cli_recognises_a_reencoded_copy(
    live_server: str, studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    signed = sign(studio, grant, work, "jpeg")
    copy = TRANSFORMS["jpeg"]["resized to half"](signed.path, work / "reupload.jpg")

    result = CliRunner().invoke(main, ["verify", str(copy)], env={"REGISTRY_URL": live_server})

    assert result.exit_code == 1, result.output  # warn
    assert "WARN" in result.output and "recognises its content" in result.output
    assert f"recognised by its watermark ({WATERMARK_ALG}, similarity 100%)" in result.output
    assert f"asset {signed.asset['id']}" in result.output
    assert "AI-generated by VoiceForge 2.1" in result.output and "consent in force" in result.output
    assert "provenance.recovered" in result.output


def _manifest_store(path: Path) -> dict[str, Any]:
    from registry.c2pa.adapter import read_manifest

    report = read_manifest(path=path, mime_type=_mime(path), trust_anchors_pem=None)
    assert report.manifest_store is not None
    return report.manifest_store


def _mime(path: Path) -> str:
    return {".jpg": "image/jpeg", ".png": "image/png", ".wav": "audio/wav", ".mp4": "video/mp4"}[
        path.suffix
    ]
