"""Fixtures: a migrated database (SQLite, and PostgreSQL when configured) with media assets
to index, and generated media."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from registry.db import create_db_engine, utcnow
from registry.ids import new_id
from registry.media.models import MediaAsset

ORG_ID = "00000000-0000-7000-8000-00000000a11c"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
        session.rollback()


@pytest.fixture
def make_assets(session: Session) -> Callable[[int], list[str]]:
    """Insert ``n`` media asset rows (the index's foreign key target); returns their ids."""

    def make(n: int) -> list[str]:
        if (
            session.execute(
                sa.text("SELECT 1 FROM organizations WHERE id = :id"), {"id": ORG_ID}
            ).first()
            is None
        ):
            session.execute(
                sa.text(
                    "INSERT INTO organizations (id, name, created_at) "
                    "VALUES (:id, 'Provenance', CURRENT_TIMESTAMP)"
                ),
                {"id": ORG_ID},
            )
        ids = [new_id() for _ in range(n)]
        session.execute(sa.insert(MediaAsset), [asset_row(asset_id) for asset_id in ids])
        session.flush()
        return ids

    return make


def asset_row(asset_id: str) -> dict[str, object]:
    return {
        "id": asset_id,
        "org_id": ORG_ID,
        "sha256": "0" * 64,
        "source_sha256": "1" * 64,
        "manifest_id": f"urn:c2pa:{asset_id}",
        "mime_type": "image/jpeg",
        "size": 1,
        "source_size": 1,
        "storage_key": f"media/{asset_id}.jpg",
        "grant_ids": [],
        "grant_uses": [],
        "generator": {"name": "test", "version": "1"},
        "digital_source_type": "trainedAlgorithmicMedia",
        "created_by": "test",
        "created_at": utcnow(),
    }


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "media"
    directory.mkdir()
    return directory
