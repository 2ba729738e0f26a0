"""`registry storage reconcile`: stored media files and asset rows brought back in step."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from registry.cli import main
from registry.db import utcnow
from registry.media.reconcile import reconcile_storage
from registry.settings import Settings
from registry.state import state_of
from registry.storage import media_key
from tests.factories import Studio
from tests.media import assets
from tests.media.conftest import metadata, sign_upload

LATER = timedelta(hours=2)  # "now" for the reconciliation: every file is past the grace


def _signed(studio: Studio, work: Path) -> dict[str, str]:
    response = sign_upload(studio, assets.make_wav(work), metadata(studio.grant()["id"]))
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def _orphan(app: Flask, work: Path, digest: str = "ab" * 32) -> str:
    key = media_key(digest, "wav")
    state_of(app).storage.put_file(key, assets.make_wav(work), "audio/wav")
    return key


def _reconcile(app: Flask, *, repair: bool, later: timedelta = LATER):  # type: ignore[no-untyped-def]
    with state_of(app).database.session_scope() as session:
        return reconcile_storage(
            session, state_of(app).storage, repair=repair, now=utcnow() + later
        )


def test_a_file_without_a_row_is_reported_then_deleted(
    app: Flask, studio: Studio, work: Path, blobs: Callable[[], list[str]]
) -> None:
    kept = _signed(studio, work)
    orphan = _orphan(app, work)

    found = _reconcile(app, repair=False)
    assert found.orphans == [orphan]
    assert found.missing == []
    assert orphan in blobs()

    repaired = _reconcile(app, repair=True)
    assert repaired.orphans == [orphan]
    assert blobs() == [media_key(kept["sha256"], "wav")]
    assert _reconcile(app, repair=True).consistent


def test_a_young_file_without_a_row_is_left_alone(
    app: Flask, work: Path, blobs: Callable[[], list[str]]
) -> None:
    orphan = _orphan(app, work)

    found = _reconcile(app, repair=True, later=timedelta(0))

    assert found.orphans == []
    assert blobs() == [orphan]


def test_a_row_without_its_file_is_reported_and_kept(
    app: Flask, studio: Studio, work: Path, counts: Callable[[], dict[str, int]]
) -> None:
    asset = _signed(studio, work)
    key = media_key(asset["sha256"], "wav")
    state_of(app).storage.delete(key)
    before = counts()

    found = _reconcile(app, repair=True)

    assert found.missing == [key]
    assert counts() == before


@pytest.mark.parametrize("storage_backend", ["local"], indirect=True)
def test_an_unfinished_local_write_is_removed(app: Flask) -> None:
    root = state_of(app).storage.root  # type: ignore[attr-defined]
    temporary = root / "media" / "ab" / ".tmp-killed-write"
    temporary.parent.mkdir(parents=True, exist_ok=True)
    temporary.write_bytes(b"half a file")
    hour_ago = time.time() - 3600
    os.utime(temporary, (hour_ago, hour_ago))

    found = _reconcile(app, repair=True, later=timedelta(minutes=30))

    assert found.incomplete == ["media/ab/.tmp-killed-write"]
    assert not temporary.exists()


@pytest.mark.parametrize("storage_backend", ["s3"], indirect=True)
def test_an_unfinished_multipart_upload_is_aborted(app: Flask, s3_server, s3_bucket: str) -> None:  # type: ignore[no-untyped-def]
    s3 = s3_server.client()
    started = s3.create_multipart_upload(Bucket=s3_bucket, Key="media/cd/unfinished.wav")

    found = _reconcile(app, repair=True)

    assert found.incomplete == ["media/cd/unfinished.wav"]
    uploads = s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert started["UploadId"] not in [u["UploadId"] for u in uploads]


@pytest.mark.parametrize("storage_backend", ["local"], indirect=True)
def test_the_command_exits_1_on_orphans_and_repairs_them(
    app: Flask, settings: Settings, work: Path, blobs: Callable[[], list[str]]
) -> None:
    orphan = _orphan(app, work)
    env = {
        "REGISTRY_DATA_DIR": str(settings.data_dir),
        "REGISTRY_DATABASE_URL": settings.database_url,
    }

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, ["storage", "reconcile", *args], env=env)

    young = run()
    assert young.exit_code == 0, young.output  # inside the grace period
    reported = run("--grace-minutes", "0")
    assert reported.exit_code == 1
    assert f"orphan file (found): {orphan}" in reported.output
    repaired = run("--grace-minutes", "0", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert f"orphan file (deleted): {orphan}" in repaired.output
    assert blobs() == []
