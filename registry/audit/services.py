"""Append to and check the hash chains of the audit log.

Each event's ``hash`` is SHA-256 over the previous event's hash and the canonical event, so
changing, removing or reordering any stored event breaks every hash after it. Each append also
moves the chain's stored head (``AuditCheckpoint``: size and head hash), from which signed
checkpoints are made (``registry.audit.checkpoints``); removing the newest events, or a whole
chain, is visible against it.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.models import AuditCheckpoint, AuditEvent
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
    head = session.execute(
        sa.select(AuditCheckpoint)
        .where(col(AuditCheckpoint.chain) == chain)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    tip = (last.seq, last.hash) if last else (0, GENESIS)
    if head is not None and head.size > tip[0]:
        # The newest events were removed behind our back: go on from the head we recorded,
        # so the gap stays in the chain (and is reported) instead of being papered over.
        tip = (head.size, head.head_hash)
    payload = payload or {}
    # UTC without microseconds: the form the timestamp has after a round trip, so it hashes
    # the same when the chain is verified (another offset would read back as UTC).
    moment = (at or utcnow()).astimezone(UTC).replace(microsecond=0)
    event = AuditEvent(
        chain=chain,
        seq=tip[0] + 1,
        org_id=org_id,
        at=moment,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=payload,
        payload_sha256=hashlib.sha256(canonical_json(payload)).hexdigest(),
        prev_hash=tip[1],
        hash="",
    )
    event.hash = _event_digest(event)
    session.add(event)
    if head is None:
        session.add(
            AuditCheckpoint(
                chain=chain,
                log_id=secrets.token_hex(16),
                size=event.seq,
                head_hash=event.hash,
            )
        )
    else:
        head.size, head.head_hash, head.updated_at = event.seq, event.hash, utcnow()
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
        # Close the (server-side) cursor even when the caller stops early.
        result.close()


def verify_chains(session: Session) -> tuple[int, list[ChainBreak]]:
    """Recompute every chain; returns the number of events checked and every break.

    After a break the walk goes on from the stored event (its seq and hash), so each event
    that is inconsistent with the one before it is reported once, and a single change is not
    reported again for every event after it.
    """
    checked = 0
    breaks: list[ChainBreak] = []
    for chain in sorted(_chains(session)):
        prev, expected_seq = GENESIS, 1
        for event in _events(session, chain):
            checked += 1
            reason = _check_event(event, prev, expected_seq)
            if reason:
                breaks.append(ChainBreak(chain, event.seq, event.id, reason))
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
