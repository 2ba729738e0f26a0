"""Signed checkpoints of the audit chains, and checking the chains against checkpoints.

A checkpoint is a C2SP signed note (c2sp.org/signed-note) whose text has the
c2sp.org/tlog-checkpoint form::

    registry.example.org/audit/5f0c...e1      origin: <checkpoint key name>/<log id>
    42                                         size: the number of events in the chain
    q1p0JLs0...=                               root hash: base64 of the newest event's hash
    timestamp 2026-11-30T19:20:00Z             extension line: when it was signed

    — registry.example.org/audit <base64(key ID || Ed25519 signature)>

Each chain is a hash chain, not a Merkle tree: its "root hash" is the hash of its newest
event, which commits to every event before it. The tlog-checkpoint text is used anyway so
that auditors can keep, verify and compare checkpoints with standard tooling; there are no
inclusion or consistency proofs. Consistency of two checkpoints of one chain is checked by
the registry (``registry audit verify``): the event at the older checkpoint's size must
still have the hash that checkpoint states.

The chain's head (size, head hash) is stored with every append (``AuditCheckpoint``, in the
appending transaction) and signed only when a checkpoint is asked for, over that stored head
once it agrees with the newest event. A stored head detects events removed from the end of a
chain and a chain deleted whole, unless its row was changed too; a checkpoint a third party
kept detects those and a rewritten chain (an event edited and every later hash recomputed),
whatever was done to the database.

All chains are signed by one key under one key name (``<issuer host>/audit``). The
tlog-checkpoint spec recommends a key name equal to the origin; with one origin per chain
that would mean one verifier key per organization, so the origin extends the key name instead.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.errors import AuditLogInconsistent, AuditLogNotFound, CheckpointRefused
from registry.audit.models import AuditCheckpoint, AuditEvent
from registry.audit.services import ChainBreak, verify_chains
from registry.db import utcnow
from registry.keys.checkpoint_key import CheckpointKey, NoteVerifier, SignedNoteError

LOG_ID = re.compile(r"[0-9a-f]{32}")
_SIZE = re.compile(r"0|[1-9][0-9]*")
TIMESTAMP = "timestamp "
STORED = "the stored checkpoint"


def log_name(issuer: str) -> str:
    """The checkpoint key name: the issuer without its scheme, then ``/audit``."""
    parts = urlsplit(issuer)
    return f"{parts.netloc}{parts.path.rstrip('/')}/audit"


@dataclass(frozen=True)
class Checkpoint:
    """The text of a checkpoint: origin, size, head hash (hex) and extension lines."""

    origin: str
    size: int
    head_hash: str
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        root = base64.b64encode(bytes.fromhex(self.head_hash)).decode()
        return "\n".join((self.origin, str(self.size), root, *self.extensions)) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """A checkpoint's note text, as tlog-checkpoint defines it (the root is a SHA-256)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise CheckpointRefused("a checkpoint has at least three lines, none of them empty")
    origin, size, root, *extensions = lines[:-1]
    if not _SIZE.fullmatch(size):
        raise CheckpointRefused(f"the size {size!r} is not a decimal number")
    try:
        head = base64.b64decode(root, validate=True)
    except binascii.Error as exc:
        raise CheckpointRefused("the root hash is not base64") from exc
    if len(head) != 32:
        raise CheckpointRefused("the root hash is not a SHA-256 hash")
    return Checkpoint(origin, int(size), head.hex(), tuple(extensions))


@dataclass(frozen=True)
class KeptCheckpoint:
    """A checkpoint kept outside the registry, verified, and the log it names."""

    source: str
    log_id: str
    checkpoint: Checkpoint


def open_checkpoint(note: bytes, verifier: NoteVerifier, *, source: str) -> KeptCheckpoint:
    """Verify a kept checkpoint's signature with the registry's key, then parse it."""
    try:
        text = verifier.open(note)
    except SignedNoteError as exc:
        raise CheckpointRefused(exc.detail) from exc
    checkpoint = parse_checkpoint(text)
    prefix = verifier.name + "/"
    log_id = checkpoint.origin.removeprefix(prefix)
    if not checkpoint.origin.startswith(prefix) or not LOG_ID.fullmatch(log_id):
        raise CheckpointRefused(
            f"the origin {checkpoint.origin!r} is not an audit log of {verifier.name}"
        )
    return KeptCheckpoint(source=source, log_id=log_id, checkpoint=checkpoint)


# Serving checkpoints ------------------------------------------------------------------------


def find_log(
    session: Session, *, log_id: str | None = None, chain: str | None = None
) -> AuditCheckpoint:
    """The stored head of the chain with this log id (or chain name); 404 when there is none."""
    if log_id is not None:
        if not LOG_ID.fullmatch(log_id):
            raise AuditLogNotFound("no audit log has this id")
        where = col(AuditCheckpoint.log_id) == log_id
    else:
        where = col(AuditCheckpoint.chain) == chain
    head = session.scalars(sa.select(AuditCheckpoint).where(where)).one_or_none()
    if head is None:
        raise AuditLogNotFound(
            "no audit log has this id" if log_id is not None else "the audit log has no events"
        )
    return head


def signed_checkpoint(
    session: Session, head: AuditCheckpoint, key: CheckpointKey, *, now: datetime | None = None
) -> str:
    """A checkpoint of ``head``, signed now, once the chain's newest event agrees with it.

    The registry signs only what it recorded: a chain whose newest event is not the stored
    head was changed behind its back, and a checkpoint over it would contradict earlier ones.
    """
    newest = session.execute(
        sa.select(col(AuditEvent.seq), col(AuditEvent.hash))
        .where(col(AuditEvent.chain) == head.chain)
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    ).first()
    if newest is None or (newest.seq, newest.hash) != (head.size, head.head_hash):
        raise AuditLogInconsistent(
            "the audit log does not match its stored checkpoint; run `registry audit verify`"
        )
    moment = (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    checkpoint = Checkpoint(
        origin=f"{key.name}/{head.log_id}",
        size=head.size,
        head_hash=head.head_hash,
        extensions=(TIMESTAMP + moment.isoformat().replace("+00:00", "Z"),),
    )
    return key.sign(checkpoint.text())


def all_logs(session: Session) -> list[AuditCheckpoint]:
    return list(session.scalars(sa.select(AuditCheckpoint).order_by(col(AuditCheckpoint.chain))))


# Verifying against checkpoints --------------------------------------------------------------


def verify_log(
    session: Session, kept: Sequence[KeptCheckpoint] = ()
) -> tuple[int, list[ChainBreak]]:
    """Every chain recomputed, then held against its stored checkpoint and the kept ones.

    Returns the number of events checked and every break, by chain and seq.
    """
    checked, breaks = verify_chains(session)
    newest: dict[str, int] = {
        chain: seq
        for chain, seq in session.execute(
            sa.select(col(AuditEvent.chain), sa.func.max(col(AuditEvent.seq))).group_by(
                col(AuditEvent.chain)
            )
        )
    }
    heads = {head.chain: head for head in all_logs(session)}
    for chain in sorted(newest.keys() - heads.keys()):
        breaks.append(
            ChainBreak(chain, newest[chain], None, "the chain has no stored checkpoint (deleted)")
        )
    for chain, head in heads.items():
        stored = Checkpoint(f"log {head.log_id}", head.size, head.head_hash)
        breaks.extend(_against(session, chain, stored, newest.get(chain), STORED))
        last = newest.get(chain)
        if last is not None and last > head.size:
            breaks.append(
                ChainBreak(
                    chain,
                    last,
                    None,
                    f"{STORED} records {head.size} events, but the chain goes on to seq {last} "
                    "(events were added behind the registry's back)",
                )
            )
    by_log_id = {head.log_id: head.chain for head in heads.values()}
    for item in kept:
        source = f"checkpoint {item.source}"
        kept_chain = by_log_id.get(item.log_id)
        if kept_chain is None:
            breaks.append(
                ChainBreak(
                    f"log:{item.log_id}",
                    item.checkpoint.size,
                    None,
                    f"{source} is of a log the registry no longer has "
                    "(the chain and its stored checkpoint were deleted)",
                )
            )
            continue
        breaks.extend(
            _against(session, kept_chain, item.checkpoint, newest.get(kept_chain), source)
        )
    breaks.sort(key=lambda b: (b.chain, b.seq))
    return checked, breaks


def _against(
    session: Session, chain: str, checkpoint: Checkpoint, last: int | None, source: str
) -> list[ChainBreak]:
    """What is wrong with ``chain`` as ``checkpoint`` describes it (empty when it agrees)."""
    size = checkpoint.size
    if size == 0:
        return []
    if last is None:
        reason = f"{source} records {size} events, but the chain has none (it was deleted)"
        return [ChainBreak(chain, size, None, reason)]
    if last < size:
        reason = (
            f"{source} records {size} events, but the chain ends at seq {last} "
            "(events were removed from its end)"
        )
        return [ChainBreak(chain, size, None, reason)]
    event = session.execute(
        sa.select(col(AuditEvent.id), col(AuditEvent.hash)).where(
            col(AuditEvent.chain) == chain, col(AuditEvent.seq) == size
        )
    ).first()
    if event is None:
        reason = f"{source} records {size} events, but event {size} is missing"
        return [ChainBreak(chain, size, None, reason)]
    if event.hash != checkpoint.head_hash:
        reason = (
            f"{source} has head {checkpoint.head_hash} at seq {size}, but the event there has "
            f"hash {event.hash} (the chain was rewritten)"
        )
        return [ChainBreak(chain, size, event.id, reason)]
    return []
