"""Watches: an organization (often a platform that only verified a file) asks to hear of
changes to the consent behind some media, named by manifest id or file SHA-256."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.services import record_event
from registry.ids import is_uuid
from registry.media.citations import named_media
from registry.media.models import MediaAsset
from registry.pagination import Page, keyset_page, uuid_key
from registry.watches.errors import (
    WatchedMediaUnknown,
    WatchExists,
    WatchNotFound,
    WatchTargetRequired,
)
from registry.watches.models import Watch


def create_watch(
    session: Session,
    *,
    org_id: str,
    manifest_id: str | None,
    sha256: str | None,
    actor: str,
) -> Watch:
    """Watch the media this identifier names (it must name media the registry signed)."""
    if (manifest_id is None) == (sha256 is None):
        raise WatchTargetRequired("give exactly one of manifest_id and sha256")
    if not named_media(session, manifest_id=manifest_id, sha256=sha256):
        raise WatchedMediaUnknown("the registry signed no media with this identifier")
    existing = session.scalars(
        sa.select(Watch).where(
            col(Watch.org_id) == org_id,
            col(Watch.manifest_id) == manifest_id
            if manifest_id is not None
            else col(Watch.sha256) == sha256,
        )
    ).first()
    if existing is not None:
        raise WatchExists("this organization already watches this media", watch_id=existing.id)
    watch = Watch(org_id=org_id, manifest_id=manifest_id, sha256=sha256)
    session.add(watch)
    session.flush()
    record_event(
        session,
        org_id=org_id,
        actor=actor,
        action="watch.created",
        object_type="watch",
        object_id=watch.id,
        payload={"manifest_id": manifest_id, "sha256": sha256},
    )
    return watch


def get_watch(session: Session, *, org_id: str, watch_id: str) -> Watch:
    watch = session.get(Watch, watch_id) if is_uuid(watch_id) else None
    if watch is None or watch.org_id != org_id:
        raise WatchNotFound(f"no watch {watch_id}")
    return watch


def list_watches(session: Session, *, org_id: str, cursor: str | None, limit: int) -> Page[Watch]:
    query = sa.select(Watch).where(col(Watch.org_id) == org_id)
    return keyset_page(
        session, query, key=col(Watch.id), cursor=cursor, limit=limit, parse=uuid_key
    )


def delete_watch(session: Session, *, org_id: str, watch_id: str, actor: str) -> None:
    watch = get_watch(session, org_id=org_id, watch_id=watch_id)
    record_event(
        session,
        org_id=org_id,
        actor=actor,
        action="watch.deleted",
        object_type="watch",
        object_id=watch.id,
    )
    session.delete(watch)
    session.flush()


def watchers(session: Session, assets: list[MediaAsset]) -> dict[str, dict[str, list[str]]]:
    """For each asset id, the organizations watching it and their watch ids."""
    if not assets:
        return {}
    manifests = {a.manifest_id for a in assets}
    hashes = {h for a in assets for h in (a.sha256, a.source_sha256)}
    found = session.scalars(
        sa.select(Watch)
        .where(sa.or_(col(Watch.manifest_id).in_(manifests), col(Watch.sha256).in_(hashes)))
        .order_by(col(Watch.id))
    ).all()
    result: dict[str, dict[str, list[str]]] = {}
    for asset in assets:
        names = {asset.manifest_id}, {asset.sha256, asset.source_sha256}
        for watch in found:
            if watch.manifest_id in names[0] or watch.sha256 in names[1]:
                result.setdefault(asset.id, {}).setdefault(watch.org_id, []).append(watch.id)
    return result
