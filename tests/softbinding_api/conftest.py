"""Registered media for the resolution tests (Soft Binding Resolution API and screening).

Assets are signed through the API (POST /v1/media), which watermarks pictures, fingerprints
them and indexes both. An asset registered ``marked=False`` has its watermark row taken out of
the index afterwards, as for a picture signing could not mark: it is found by fingerprints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import col

from registry.provenance.models import ProvenanceCode
from registry.provenance.watermark_keys import watermark_key
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
    signed = sign_through_api(studio, source, grant, work)
    state = state_of(app)
    key = watermark_key(signed.asset["id"], state.settings.watermark_secret.encode())
    if not marked:
        with state.database.session_scope() as session:
            session.execute(
                sa.delete(ProvenanceCode).where(
                    sa.and_(
                        col(ProvenanceCode.asset_id) == signed.asset["id"],
                        col(ProvenanceCode.family) == "watermark",
                    )
                )
            )
        key = None
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
