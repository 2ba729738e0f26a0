"""Takedown notices: revoking a grant with the effect ``unpublish`` marks every media asset
that cited it and asks the organization that signed it, and every watcher, to take it down
(``takedown.requested``). Recipients list their notices and acknowledge them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.services import record_event
from registry.consent.models import ConsentGrant
from registry.db import utcnow
from registry.ids import is_uuid
from registry.media.citations import citing_media
from registry.pagination import Page, keyset_page, uuid_key
from registry.watches.errors import TakedownAlreadyAcknowledged, TakedownNotFound
from registry.watches.models import TakedownNotice
from registry.watches.services import watchers
from registry.webhooks.events import emit


def request_takedowns(session: Session, grant: ConsentGrant, *, now: datetime) -> int:
    """Mark the grant's media and send each recipient a notice; returns the notices sent."""
    assets = citing_media(session, org_id=grant.org_id, grant_id=grant.id)
    by_asset = watchers(session, assets)
    sent = 0
    for asset in assets:
        if asset.takedown_requested_at is None:
            asset.takedown_requested_at = now
        recipients = {org_id: "watcher" for org_id in by_asset.get(asset.id, {})}
        recipients[asset.org_id] = "signer"
        for org_id, role in sorted(recipients.items()):
            notice = TakedownNotice(
                org_id=org_id,
                role=role,
                grant_id=grant.id,
                asset_id=asset.id,
                manifest_id=asset.manifest_id,
                sha256=asset.sha256,
                source_sha256=asset.source_sha256,
                created_at=now,
            )
            session.add(notice)
            session.flush()
            data = {
                "takedown_id": notice.id,
                "role": role,
                "grant_id": grant.id,
                "manifest_id": asset.manifest_id,
                "sha256": asset.sha256,
                "source_sha256": asset.source_sha256,
            }
            if role == "signer":
                data["media_id"] = asset.id
            emit(session, org_id, "takedown.requested", data, now=now)
            sent += 1
    return sent


def get_takedown(
    session: Session, *, org_id: str, takedown_id: str, lock: bool = False
) -> TakedownNotice:
    notice = None
    if is_uuid(takedown_id):
        notice = session.get(TakedownNotice, takedown_id, with_for_update=lock or None)
    if notice is None or notice.org_id != org_id:
        raise TakedownNotFound(f"no takedown notice {takedown_id}")
    return notice


def list_takedowns(
    session: Session, *, org_id: str, state: str | None, cursor: str | None, limit: int
) -> Page[TakedownNotice]:
    query = sa.select(TakedownNotice).where(col(TakedownNotice.org_id) == org_id)
    if state:
        query = query.where(col(TakedownNotice.state) == state)
    return keyset_page(
        session, query, key=col(TakedownNotice.id), cursor=cursor, limit=limit, parse=uuid_key
    )


def acknowledge(session: Session, *, org_id: str, takedown_id: str, actor: str) -> TakedownNotice:
    """The recipient has seen the notice (and acted on it)."""
    notice = get_takedown(session, org_id=org_id, takedown_id=takedown_id, lock=True)
    if notice.state == "acknowledged":
        raise TakedownAlreadyAcknowledged("this notice was acknowledged already")
    notice.state = "acknowledged"
    notice.acknowledged_at = utcnow()
    record_event(
        session,
        org_id=org_id,
        actor=actor,
        action="takedown.acknowledged",
        object_type="takedown_notice",
        object_id=notice.id,
        payload={"grant_id": notice.grant_id, "manifest_id": notice.manifest_id},
    )
    return notice
