"""What a grant's lifecycle change tells whom: the grant's own event to its organization, and
``media.consent_changed`` to every organization watching media that cites the grant.

Called in the transaction of the change (the outbox, ``webhooks.events.emit``). Payloads
carry ids and hashes, never names, descriptions or reasons (free text may hold personal data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from registry.consent.models import ConsentGrant
from registry.media.citations import citing_media
from registry.watches.services import watchers
from registry.webhooks.events import emit

# The changes that reach watchers of media citing the grant.
CONSENT_CHANGES = frozenset({"grant.revoked", "grant.suspended", "grant.resumed", "grant.expired"})


def grant_data(grant: ConsentGrant, now: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "grant_id": grant.id,
        "version": grant.version,
        "status": grant.effective_status(now),
        "token_sha256": grant.token_sha256,
        "status_url": f"/v1/grants/{grant.id}/status",
        **extra,
    }


def grant_changed(
    session: Session, grant: ConsentGrant, event_type: str, *, now: datetime, **extra: Any
) -> None:
    """Emit ``event_type`` for the grant and tell the watchers of media citing it."""
    emit(session, grant.org_id, event_type, grant_data(grant, now, **extra), now=now)
    if event_type not in CONSENT_CHANGES:
        return
    assets = citing_media(session, org_id=grant.org_id, grant_id=grant.id)
    by_asset = watchers(session, assets)
    for asset in assets:
        for org_id, watch_ids in by_asset.get(asset.id, {}).items():
            emit(
                session,
                org_id,
                "media.consent_changed",
                {
                    "change": event_type,
                    "grant_id": grant.id,
                    "grant_status": grant.effective_status(now),
                    "manifest_id": asset.manifest_id,
                    "sha256": asset.sha256,
                    "source_sha256": asset.source_sha256,
                    "watch_ids": watch_ids,
                },
                now=now,
            )
