"""Which media cite a grant (``MediaAsset.grant_ids``), and which media an identifier names."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.media.models import MediaAsset


def cites(session: Session, grant_id: str) -> Any:
    """A condition on ``media_assets``: its ``grant_ids`` contain ``grant_id``."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.text("media_assets.grant_ids @> CAST(:cited AS jsonb)").bindparams(
            cited=json.dumps([grant_id])
        )
    return sa.text(
        "EXISTS (SELECT 1 FROM json_each(media_assets.grant_ids) WHERE json_each.value = :cited)"
    ).bindparams(cited=grant_id)


def citing_query(session: Session, *, org_id: str, grant_id: str) -> sa.Select[Any]:
    """The organization's assets that cite the grant (grants are cited only by their own
    organization's media)."""
    return sa.select(MediaAsset).where(col(MediaAsset.org_id) == org_id, cites(session, grant_id))


def citing_media(session: Session, *, org_id: str, grant_id: str) -> list[MediaAsset]:
    return list(
        session.scalars(
            citing_query(session, org_id=org_id, grant_id=grant_id).order_by(col(MediaAsset.id))
        )
    )


def hash_condition(sha256: str) -> Any:
    """A condition on ``media_assets``: its signed or its source file has this SHA-256."""
    return sa.or_(col(MediaAsset.sha256) == sha256, col(MediaAsset.source_sha256) == sha256)


def by_hash(session: Session, sha256: str) -> tuple[MediaAsset | None, MediaAsset | None]:
    """The asset whose signed file has this SHA-256, and the one whose source file has it
    (one query; each None when no asset has it)."""
    found = session.scalars(sa.select(MediaAsset).where(hash_condition(sha256)).limit(2)).all()
    signed = next((a for a in found if a.sha256 == sha256), None)
    source = next((a for a in found if a.source_sha256 == sha256), None)
    return signed, source


def named_media(
    session: Session, *, manifest_id: str | None = None, sha256: str | None = None
) -> list[MediaAsset]:
    """Assets with this manifest id, or whose signed or source file has this SHA-256."""
    if manifest_id is not None:
        condition = col(MediaAsset.manifest_id) == manifest_id
    elif sha256 is not None:
        condition = hash_condition(sha256)
    else:
        return []
    return list(session.scalars(sa.select(MediaAsset).where(condition).limit(100)))
