"""The worker's expiry job: a grant passing ``valid_until`` is announced once
(``grant.expired``, and ``media.consent_changed`` to watchers of media citing it). The
worker's other expiry job, ``consent.status_entries.expire_due``, flips the same grants'
status-list entries.

``GrantExpiryAnnouncement`` records each announcement (its primary key makes it once only,
even with several workers: on PostgreSQL the grants are taken with ``SKIP LOCKED``, and a lost
race is a rolled-back batch that the next run redoes without the grants already announced).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.consent.models import ConsentGrant
from registry.watches.announce import grant_changed
from registry.watches.models import GrantExpiryAnnouncement
from registry.webhooks.events import iso

BATCH = 500


def announce_expired(session: Session, now: datetime) -> int:
    """Announce up to ``BATCH`` grants that expired and were not announced; returns how many."""
    announced = sa.select(col(GrantExpiryAnnouncement.grant_id)).where(
        col(GrantExpiryAnnouncement.grant_id) == col(ConsentGrant.id)
    )
    grants = session.scalars(
        sa.select(ConsentGrant)
        .where(
            col(ConsentGrant.status) == "active",
            col(ConsentGrant.valid_until) <= now,
            ~announced.exists(),
        )
        .order_by(col(ConsentGrant.valid_until))
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    for grant in grants:
        session.add(GrantExpiryAnnouncement(grant_id=grant.id, announced_at=now))
        grant_changed(session, grant, "grant.expired", now=now, valid_until=iso(grant.valid_until))
    session.flush()
    return len(grants)
