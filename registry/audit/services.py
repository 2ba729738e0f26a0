"""Append to and check the hash chains of the audit log.

Each event's ``hash`` is SHA-256 over the previous event's hash and the canonical event, so
changing, removing or reordering any stored event breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.models import AuditEvent
from registry.canonical import canonical_json
from registry.db import utcnow
from registry.pagination import Page, int_key, keyset_page

GENESIS = "0" * 64
REGISTRY_CHAIN = "registry"


def _event_digest(event: AuditEvent) -> str:
    body = {
        "chain": event.chain,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "org_id": event.org_id,
        "payload_sha256": event.payload_sha256,
    }
    return hashlib.sha256(event.prev_hash.encode() + b"\n" + canonical_json(body)).hexdigest()


def _lock_chain(session: Session, chain: str) -> None:
    # PostgreSQL: serialize appends to one chain; SQLite already holds the write lock.
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(chain.encode())
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def record_event(
    session: Session,
    *,
    org_id: str | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append an event to the organization's chain in the caller's transaction."""
    chain = org_id or REGISTRY_CHAIN
    _lock_chain(session, chain)
    last = session.execute(
        sa.select(col(AuditEvent.seq), col(AuditEvent.hash))
        .where(col(AuditEvent.chain) == chain)
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    ).first()
    payload = payload or {}
    # UTC without microseconds: the form the timestamp has after a round trip, so it hashes
    # the same when the chain is verified (another offset would read back as UTC).
    moment = (at or utcnow()).astimezone(UTC).replace(microsecond=0)
    event = AuditEvent(
        chain=chain,
        seq=(last.seq + 1) if last else 1,
        org_id=org_id,
        at=moment,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=payload,
        payload_sha256=hashlib.sha256(canonical_json(payload)).hexdigest(),
        prev_hash=last.hash if last else GENESIS,
        hash="",
    )
    event.hash = _event_digest(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    chain: str
    seq: int
    event_id: int | None
    reason: str


def _chains(session: Session) -> list[str]:
    return list(session.scalars(sa.select(col(AuditEvent.chain)).distinct()))


def _events(session: Session, chain: str) -> Iterator[AuditEvent]:
    query = (
        sa.select(AuditEvent)
        .where(col(AuditEvent.chain) == chain)
        .order_by(col(AuditEvent.seq))
        .execution_options(yield_per=1000)
    )
    result = session.scalars(query)
    try:
        yield from result
    finally:
        # The caller stops at a chain's first break; close the (server-side) cursor now.
        result.close()


def verify_chains(session: Session) -> tuple[int, list[ChainBreak]]:
    """Recompute every chain; returns the number of events checked and the first break of each."""
    checked = 0
    breaks: list[ChainBreak] = []
    for chain in sorted(_chains(session)):
        prev, expected_seq = GENESIS, 1
        for event in _events(session, chain):
            checked += 1
            reason = _check_event(event, prev, expected_seq)
            if reason:
                breaks.append(ChainBreak(chain, event.seq, event.id, reason))
                break
            prev, expected_seq = event.hash, event.seq + 1
    return checked, breaks


def _check_event(event: AuditEvent, prev: str, expected_seq: int) -> str | None:
    if event.seq != expected_seq:
        return f"expected seq {expected_seq}, found {event.seq} (an event is missing)"
    if event.prev_hash != prev:
        return "prev_hash does not match the previous event's hash"
    if hashlib.sha256(canonical_json(event.payload)).hexdigest() != event.payload_sha256:
        return "payload does not match payload_sha256"
    if _event_digest(event) != event.hash:
        return "hash does not match the event's contents"
    return None


def list_events(
    session: Session, *, org_id: str, cursor: str | None, limit: int, action: str | None
) -> Page[AuditEvent]:
    """One page of an organization's events in chain order."""
    query = sa.select(AuditEvent).where(col(AuditEvent.chain) == org_id)
    if action:
        query = query.where(col(AuditEvent.action) == action)
    return keyset_page(
        session, query, key=col(AuditEvent.seq), cursor=cursor, limit=limit, parse=int_key
    )
