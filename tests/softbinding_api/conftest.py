"""Registered media for the resolution tests (Soft Binding Resolution API and screening).

Assets are signed through the API (POST /v1/media), then indexed here with ``index.add`` on
the fingerprints of the signed file (and the watermark key embedded before signing). Once
signing does both itself (#11, items 1 and 2), this indexing is redundant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.provenance import index, watermark
from registry.provenance.fingerprints import fingerprint, watermark_fingerprint
from registry.state import state_of
from tests.factories import Studio
from tests.provenance.media import half_jpeg70, save, scene
from tests.verification.conftest import sign_through_api


@dataclass
class Registered:
    """A signed, indexed picture: the signed file, its asset, grant and watermark key."""

    path: Path
    asset: dict[str, Any]
    grant: dict[str, Any]
    key: bytes | None

    @property
    def manifest_id(self) -> str:
        return str(self.asset["manifest_id"])


def register_picture(
    app: Flask, studio: Studio, work: Path, *, seed: int, marked: bool = True
) -> Registered:
    """A generated scene signed by ``studio`` (watermarked first when ``marked``), indexed."""
    grant = studio.grant(media_types=["image", "audio", "video"])
    source = save(scene(seed), work / f"scene-{seed}.jpg", quality=95)
    key = None
    if marked:
        key = hashlib.sha256(f"key-{seed}".encode()).digest()[: watermark.KEY_BYTES]
        marked_path = work / f"marked-{seed}.jpg"
        watermark.embed(source, marked_path, key)
        source = marked_path
    signed = sign_through_api(studio, source, grant, work)
    codes = fingerprint(signed.path, "image")
    if key is not None:
        codes.append(watermark_fingerprint(key))
    with state_of(app).database.session_scope() as session:
        index.add(session, signed.asset["id"], codes)
    return Registered(signed.path, signed.asset, grant, key)


@pytest.fixture
def registered(app: Flask, studio: Studio, work: Path) -> Registered:
    return register_picture(app, studio, work, seed=11)


@pytest.fixture
def unmarked(app: Flask, studio: Studio, work: Path) -> Registered:
    """Registered without a watermark: found by its fingerprints only."""
    return register_picture(app, studio, work, seed=12, marked=False)


def reencoded(path: Path, work: Path) -> Path:
    """The issue's platform copy: half the size, JPEG quality 70, no metadata."""
    from PIL import Image

    with Image.open(path) as picture:
        return save(half_jpeg70(picture.convert("RGB")), work / f"half-{path.stem}.jpg")


def unrelated(work: Path) -> Path:
    return save(scene(999), work / "unrelated.jpg", quality=90)


def post_file(client: FlaskClient, url: str, path: Path, **kwargs: Any):  # type: ignore[no-untyped-def]
    """The file as a raw body of its media type (as C2PA clients send it)."""
    mime = {".jpg": "image/jpeg", ".png": "image/png"}.get(path.suffix, "application/octet-stream")
    return client.post(url, data=path.read_bytes(), content_type=mime, **kwargs)


@pytest.fixture
def snapshot(counts: Callable[[], dict[str, int]], app: Flask, settings: Any):  # type: ignore[no-untyped-def]
    """Call to get every table's row count, the stored media keys and the spooled files: equal
    snapshots before and after a request prove it wrote nothing."""
    storage = state_of(app).storage
    spool = settings.data_dir / "spool"

    def take() -> tuple[dict[str, int], list[str], list[Path]]:
        files = sorted(p for p in spool.rglob("*") if p.is_file()) if spool.exists() else []
        return counts(), storage.list_keys("media/"), files

    return take
