"""Media tests run on both storage backends: a local directory and a real S3 (SeaweedFS)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from registry.settings import Settings
from registry.state import state_of
from tests.factories import GENERATOR, Studio
from tests.s3server import use_s3


@pytest.fixture(params=["local", "s3"])
def storage_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(  # type: ignore[override]
    settings: Settings,
    storage_backend: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    settings.max_upload_bytes = 8 * 1024 * 1024
    if storage_backend == "s3":
        server = request.getfixturevalue("s3_server")
        use_s3(settings, monkeypatch, server.endpoint_url, request.getfixturevalue("s3_bucket"))
    return settings


@pytest.fixture
def blobs(app: Flask) -> Callable[[], list[str]]:
    """Call to list every stored media blob (to prove that nothing was written)."""
    storage = state_of(app).storage
    return lambda: sorted(storage.list_keys("media/"))


@pytest.fixture
def spool_dir(settings: Settings) -> Path:
    return settings.data_dir / "spool"


@pytest.fixture
def snapshot(
    counts: Callable[[], dict[str, int]], blobs: Callable[[], list[str]], spool_dir: Path
) -> Callable[[], Callable[[], None]]:
    """``check = snapshot()`` before a refused request; ``check()`` proves nothing was left:
    no row, no blob and no temporary file."""

    def take() -> Callable[[], None]:
        before_rows, before_blobs = counts(), blobs()

        def check() -> None:
            assert counts() == before_rows
            assert blobs() == before_blobs
            assert not spool_dir.exists() or list(spool_dir.iterdir()) == []

        return check

    return take


def metadata(grant_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "grants": [
            {
                "grant_id": grant_id,
                "modalities": ["voice"],
                "purpose": "advertising",
                "territory": "US",
            }
        ],
        "generator": GENERATOR,
    }
    body.update(overrides)
    return body


def sign_upload(studio: Studio, path: Path, meta: dict[str, Any] | str, **kwargs: Any):  # type: ignore[no-untyped-def]
    meta_text = meta if isinstance(meta, str) else json.dumps(meta)
    with path.open("rb") as handle:
        return studio.client.post(
            "/v1/media",
            data={"file": (handle, kwargs.pop("filename", path.name)), "metadata": meta_text},
            headers=studio.headers,
            content_type="multipart/form-data",
            **kwargs,
        )


