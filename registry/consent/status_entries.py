"""Each consent token's entry in a status list: allocated at issue, flipped with the grant.

The value an entry holds is the grant's effective status in the list's terms (``list_value``):
active (also before ``valid_from``, which the token's ``nbf`` covers) is VALID; suspended is
SUSPENDED (reversible); revoked, superseded and expired are INVALID (final). Every change of a
list bumps its version in the same transaction (``registry.statuslist.models``).

Indices are drawn at random (``secrets``) among a list's free indices; a list takes at most
half its size in grants, so a draw finds a free index in two tries on average and the unused
half are decoys that hide how many tokens a list holds. A full list is followed by a new one.
Grants issued before status lists existed have no entry: ``mark`` leaves them alone.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.consent.models import ConsentGrant
from registry.db import utcnow
from registry.errors import ServiceUnavailable
from registry.statuslist.codec import INVALID, SUSPENDED, VALID
from registry.statuslist.models import StatusList, StatusListEntry

# A list is open for allocation while it holds fewer grants than size // FILL_DIVISOR.
FILL_DIVISOR = 2
# Random draws before giving up (at most half the indices are taken: 2^-64 to fail).
DRAWS = 64


def list_value(grant: ConsentGrant, now: datetime) -> int:
    """The status-list value of a grant's effective status at ``now``."""
    status = grant.effective_status(now)
    if status == "active":
        return VALID
    if status in ("suspended", "pending_confirmation"):
        return SUSPENDED  # reversible: a pending grant becomes valid when confirmed
    return INVALID  # revoked, superseded, expired, declined


@dataclass(frozen=True)
class Allocation:
    list_id: int
    idx: int


def _bump(session: Session, list_id: int, *, allocated: int = 0) -> int:
    """Count one change of the list (locking its row until commit); the new version."""
    statement = (
        sa.update(StatusList)
        .where(col(StatusList.id) == list_id)
        .values(
            version=col(StatusList.version) + 1,
            allocated=col(StatusList.allocated) + allocated,
        )
        .returning(col(StatusList.version))
    )
    return int(session.execute(statement).scalar_one())


def _open_list(session: Session, size: int) -> StatusList:
    """The newest list with room, locked; a new list (of ``size``) when it is full.

    Transactions that find the newest list full race to open the next one: the loser's
    insert fails, it waits for the winner's lock and looks again (the winner may have filled
    it meanwhile, so this goes on until a list has room).
    """
    status_list = session.scalars(
        sa.select(StatusList)
        .order_by(col(StatusList.id).desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    while status_list is None or status_list.allocated >= status_list.size // FILL_DIVISOR:
        list_id = status_list.id + 1 if status_list is not None else 1
        try:
            with session.begin_nested():
                session.add(StatusList(id=list_id, size=size, allocated=0, version=0))
        except sa.exc.IntegrityError:  # another transaction opened it first
            pass
        status_list = session.get(StatusList, list_id, with_for_update=True, populate_existing=True)
        if status_list is None:  # pragma: no cover - the insert failed and nothing is there
            raise ServiceUnavailable("no status list could be opened; retry")
    return status_list


def allocate(session: Session, grant: ConsentGrant, *, size: int, now: datetime) -> Allocation:
    """Give a new grant (added to the session, not yet flushed) an entry at a random index."""
    status_list = _open_list(session, size)
    for _ in range(DRAWS):
        idx = secrets.randbelow(status_list.size)
        taken = session.execute(
            sa.select(col(StatusListEntry.idx)).where(
                col(StatusListEntry.list_id) == status_list.id, col(StatusListEntry.idx) == idx
            )
        ).first()
        if taken is None:
            break
    else:  # pragma: no cover - 2^-64
        raise ServiceUnavailable("no free status-list index was found; retry")
    version = _bump(session, status_list.id, allocated=1)
    session.add(
        StatusListEntry(
            list_id=status_list.id,
            idx=idx,
            grant_id=grant.id,
            status=list_value(grant, now),
            expires_at=grant.valid_until,
            changed_version=version,
        )
    )
    return Allocation(status_list.id, idx)


def mark(
    session: Session, grant: ConsentGrant, now: datetime | None = None
) -> StatusListEntry | None:
    """Make the grant's entry (if it has one) show its status now; call after each change.
    Returns the entry (its list and index), or None for a grant issued before lists."""
    value = list_value(grant, now or utcnow())
    entry = session.scalars(
        sa.select(StatusListEntry).where(col(StatusListEntry.grant_id) == grant.id)
    ).first()
    if entry is None or entry.status == value:
        return entry
    entry.status = value
    entry.changed_version = _bump(session, entry.list_id)
    return entry


def expire_due(
    session: Session, *, now: datetime | None = None, limit: int = 1000
) -> Sequence[ConsentGrant]:
    """Flip to INVALID the entries of grants past ``valid_until`` that still read VALID.

    Returns the grants flipped (at most ``limit``, oldest end first), each exactly once over
    all calls: a second call, or another worker at the same time, skips them (the flip is a
    conditional update; on PostgreSQL workers also skip rows another holds). The caller
    commits. Suspended grants keep SUSPENDED (their status is still "suspended"); resuming
    one after its end marks it INVALID.
    """
    now = now or utcnow()
    due = session.execute(
        sa.select(col(StatusListEntry.list_id), col(StatusListEntry.grant_id))
        .where(col(StatusListEntry.status) == VALID, col(StatusListEntry.expires_at) <= now)
        .order_by(col(StatusListEntry.expires_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    by_list: dict[int, list[str]] = defaultdict(list)
    for list_id, grant_id in due:
        by_list[list_id].append(grant_id)
    flipped: list[str] = []
    for list_id, grant_ids in sorted(by_list.items()):
        version = _bump(session, list_id)
        result = session.execute(
            sa.update(StatusListEntry)
            .where(
                col(StatusListEntry.grant_id).in_(grant_ids),
                col(StatusListEntry.status) == VALID,
            )
            .values(status=INVALID, changed_version=version)
            .returning(col(StatusListEntry.grant_id))
        )
        flipped.extend(result.scalars())
    if not flipped:
        return []
    grants = session.scalars(sa.select(ConsentGrant).where(col(ConsentGrant.id).in_(flipped)))
    return sorted(grants, key=lambda grant: (grant.valid_until, grant.id))
