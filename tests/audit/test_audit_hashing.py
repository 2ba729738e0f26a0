"""The audit hash format, pinned: a known event has a known digest, computed here independently.

An event's ``hash`` is SHA-256 over ``prev_hash``, a newline, and the canonical JSON (sorted
keys, compact separators, UTF-8 without escapes) of its chain, seq, at (ISO 8601, UTC), actor,
action, object_type, object_id, org_id and payload_sha256 (SHA-256 of the canonical payload).
A chain starts from GENESIS, 64 zeros. Changing this format breaks every stored chain.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from registry.audit.models import AuditCheckpoint, AuditEvent
from registry.audit.services import (
    GENESIS,
    REGISTRY_CHAIN,
    ChainBreak,
    _check_event,
    _event_digest,
    list_events,
    record_event,
    verify_chains,
)
from registry.state import state_of

ORG = "0190a8f2-6b1e-7c3d-9e4f-5a6b7c8d9e0f"
PAYLOAD = {"reason": "withdrawn by the subject", "effect": "stop_new_use"}
PAYLOAD_SHA256 = "7ad051f0ab6fc491aab530f7dc4d61d7fa3f0dc5aa3e3514e3b8323aec0d6648"
EMPTY_PAYLOAD_SHA256 = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
KNOWN = {
    "chain": ORG,
    "seq": 3,
    "at": datetime(2026, 5, 1, 12, 30, 45, tzinfo=UTC),
    "actor": "client:cr_test",
    "action": "grant.revoked",
    "object_type": "grant",
    "object_id": "0190a8f3-0000-7000-8000-000000000001",
    "org_id": ORG,
    "payload": PAYLOAD,
    "payload_sha256": PAYLOAD_SHA256,
    "prev_hash": "3" * 64,
}
KNOWN_DIGEST = "eadf54bedc064abe72e0c46bcbd36b91b448b3398fe4c672a70939cd49b40fa0"
# The registry's own chain (no organization), with text that is not ASCII.
UNICODE = {
    "chain": "registry",
    "seq": 1,
    "at": datetime(2026, 1, 1, tzinfo=UTC),
    "actor": "cli:zoë",
    "action": "organization.created",
    "object_type": "organization",
    "object_id": "org-1",
    "org_id": None,
    "payload": {"name": "Zoë Ångström"},
    "payload_sha256": "9563ca8b47f4b76be5fc731b2d4cf81085e1be1e8265a47b4e8106e3ee995d46",
    "prev_hash": "0" * 64,
}
UNICODE_DIGEST = "fb949e6012ee6b350a3b40d5b9008ddc7648ec646a407a937d6a33bde895b5a2"


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest_of(fields: dict[str, Any]) -> str:
    """The documented format, written out independently of registry.audit."""
    body = {
        "chain": fields["chain"],
        "seq": fields["seq"],
        "at": fields["at"].isoformat(),
        "actor": fields["actor"],
        "action": fields["action"],
        "object_type": fields["object_type"],
        "object_id": fields["object_id"],
        "org_id": fields["org_id"],
        "payload_sha256": fields["payload_sha256"],
    }
    return hashlib.sha256(fields["prev_hash"].encode() + b"\n" + canonical(body)).hexdigest()


def event(fields: dict[str, Any], **changes: Any) -> AuditEvent:
    values = {**fields, **changes}
    values.setdefault("hash", digest_of(values))
    return AuditEvent(**values)


# The format -------------------------------------------------------------------------------


def test_genesis_is_64_zeros() -> None:
    assert GENESIS == "0000000000000000000000000000000000000000000000000000000000000000"
    assert REGISTRY_CHAIN == "registry"


@pytest.mark.parametrize(
    ("fields", "digest"),
    [
        pytest.param(KNOWN, KNOWN_DIGEST, id="organization-chain"),
        pytest.param(UNICODE, UNICODE_DIGEST, id="registry-chain-utf8"),
    ],
)
def test_a_known_event_has_a_known_digest(fields: dict[str, Any], digest: str) -> None:
    assert digest_of(fields) == digest  # the documented format, computed here
    assert hashlib.sha256(canonical(fields["payload"])).hexdigest() == fields["payload_sha256"]

    assert _event_digest(AuditEvent(**fields, hash="")) == digest


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("chain", "0190a8f2-6b1e-7c3d-9e4f-5a6b7c8d9e00"),
        ("seq", 4),
        ("at", datetime(2026, 5, 1, 12, 30, 46, tzinfo=UTC)),
        ("at", datetime(2026, 5, 1, 14, 30, 45, tzinfo=timezone(timedelta(hours=2)))),
        ("actor", "client:cr_other"),
        ("action", "grant.suspended"),
        ("object_type", "subject"),
        ("object_id", "0190a8f3-0000-7000-8000-000000000002"),
        ("org_id", None),
        ("payload_sha256", EMPTY_PAYLOAD_SHA256),
        ("prev_hash", GENESIS),
    ],
    ids=lambda value: str(value)[:24],
)
def test_every_hashed_field_changes_the_digest(field: str, value: Any) -> None:
    changed = AuditEvent(**{**KNOWN, field: value}, hash="")

    assert _event_digest(changed) != KNOWN_DIGEST
    assert _event_digest(changed) == digest_of({**KNOWN, field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [("payload", {"reason": "edited"}), ("hash", "f" * 64), ("id", 99)],
)
def test_the_payload_is_hashed_through_its_digest_only(field: str, value: Any) -> None:
    assert _event_digest(AuditEvent(**{**KNOWN, field: value})) == KNOWN_DIGEST


# _check_event -----------------------------------------------------------------------------

FIRST = {**KNOWN, "seq": 1, "prev_hash": GENESIS}
SECOND = {**KNOWN, "seq": 2, "prev_hash": digest_of(FIRST), "action": "grant.suspended"}


@pytest.mark.parametrize(
    ("checked", "prev", "expected_seq", "reason"),
    [
        pytest.param(event(FIRST), GENESIS, 1, None, id="first"),
        pytest.param(event(SECOND), digest_of(FIRST), 2, None, id="second"),
        pytest.param(
            event(SECOND),
            digest_of(FIRST),
            1,
            "expected seq 1, found 2 (an event is missing)",
            id="seq-gap",
        ),
        pytest.param(
            event(FIRST),
            GENESIS,
            2,
            "expected seq 2, found 1 (an event is missing)",
            id="seq-repeated",
        ),
        pytest.param(
            event(SECOND),
            GENESIS,
            2,
            "prev_hash does not match the previous event's hash",
            id="prev-hash",
        ),
        pytest.param(
            event(SECOND, payload={"reason": "edited"}),
            digest_of(FIRST),
            2,
            "payload does not match payload_sha256",
            id="payload",
        ),
        pytest.param(
            event(SECOND, payload_sha256=EMPTY_PAYLOAD_SHA256, payload={}),
            digest_of(FIRST),
            2,
            None,
            id="payload-and-digest-rewritten-consistently",
        ),
        pytest.param(
            event(SECOND, hash=digest_of(SECOND), actor="client:cr_other"),
            digest_of(FIRST),
            2,
            "hash does not match the event's contents",
            id="hash",
        ),
        pytest.param(
            event(SECOND, hash="0" * 64),
            digest_of(FIRST),
            2,
            "hash does not match the event's contents",
            id="hash-replaced",
        ),
        # The first problem in that order is the one reported.
        pytest.param(
            event(SECOND, payload={}),
            GENESIS,
            3,
            "expected seq 3, found 2 (an event is missing)",
            id="seq-first",
        ),
        pytest.param(
            event(SECOND, payload={}, hash="0" * 64),
            GENESIS,
            2,
            "prev_hash does not match the previous event's hash",
            id="prev-hash-before-payload",
        ),
        pytest.param(
            event(SECOND, payload={}, hash="0" * 64),
            digest_of(FIRST),
            2,
            "payload does not match payload_sha256",
            id="payload-before-hash",
        ),
    ],
)
def test_check_event(checked: AuditEvent, prev: str, expected_seq: int, reason: str | None) -> None:
    assert _check_event(checked, prev, expected_seq) == reason


# record_event -----------------------------------------------------------------------------


def _record(session: Session, org_id: str | None, **kwargs: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "actor": "client:cr_test",
        "action": "grant.revoked",
        "object_type": "grant",
        "object_id": "0190a8f3-0000-7000-8000-000000000001",
    }
    fields.update(kwargs)
    return record_event(session, org_id=org_id, **fields)


def _fields(recorded: AuditEvent) -> dict[str, Any]:
    return {
        name: getattr(recorded, name)
        for name in (
            "chain",
            "seq",
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "org_id",
            "payload",
            "payload_sha256",
            "prev_hash",
            "hash",
        )
    }


@pytest.fixture
def local_time_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process runs in a zone that is not UTC (stored times must not depend on it)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_time_new_york")
def test_recorded_events_chain_from_genesis_in_utc_seconds(app: Flask) -> None:
    at = datetime(2026, 5, 1, 14, 30, 45, 987654, tzinfo=timezone(timedelta(hours=2)))
    with state_of(app).database.session_scope() as session:
        first = _fields(_record(session, ORG, payload=PAYLOAD, at=at))
        second = _fields(_record(session, ORG, action="grant.resumed", at=at + timedelta(hours=1)))
        third = _fields(_record(session, ORG, payload={}, at=at + timedelta(hours=2)))

    assert first == {
        **KNOWN,
        "seq": 1,
        "at": datetime(2026, 5, 1, 12, 30, 45, tzinfo=UTC),
        "prev_hash": GENESIS,
        "hash": digest_of({**KNOWN, "seq": 1, "prev_hash": GENESIS}),
    }
    assert first["at"].utcoffset() == timedelta(0)
    assert first["at"].isoformat() == "2026-05-01T12:30:45+00:00"
    assert second["seq"] == 2
    assert second["prev_hash"] == first["hash"]
    assert second["payload"] == {}
    assert second["payload_sha256"] == EMPTY_PAYLOAD_SHA256
    assert second["at"].isoformat() == "2026-05-01T13:30:45+00:00"
    assert second["hash"] == digest_of(second)
    assert third["seq"] == 3
    assert third["prev_hash"] == second["hash"]
    assert third["hash"] == digest_of(third)


def test_an_event_without_a_time_is_recorded_now_in_whole_seconds(app: Flask) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    with state_of(app).database.session_scope() as session:
        recorded = _fields(_record(session, ORG))
    after = datetime.now(UTC)

    assert before <= recorded["at"] <= after
    assert recorded["at"].microsecond == 0
    assert recorded["at"].utcoffset() == timedelta(0)
    assert recorded["hash"] == digest_of(recorded)


def test_events_without_an_organization_go_to_the_registry_chain(app: Flask) -> None:
    with state_of(app).database.session_scope() as session:
        chain_before = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.chain == REGISTRY_CHAIN)
        ).all()
        last = max(chain_before, key=lambda e: e.seq) if chain_before else None
        recorded = _fields(_record(session, None, at=datetime(2026, 1, 1, tzinfo=UTC)))
        org_event = _fields(_record(session, ORG, at=datetime(2026, 1, 1, tzinfo=UTC)))

    assert recorded["chain"] == "registry"
    assert recorded["org_id"] is None
    assert recorded["seq"] == (last.seq + 1 if last else 1)
    assert recorded["prev_hash"] == (last.hash if last else GENESIS)
    assert recorded["hash"] == digest_of(recorded)
    # A new organization's chain starts from GENESIS whatever the registry chain holds.
    assert (org_event["chain"], org_event["seq"], org_event["prev_hash"]) == (ORG, 1, GENESIS)


def test_appending_locks_the_chain_on_postgresql_only(app: Flask) -> None:
    database = state_of(app).database
    statements: list[tuple[str, Any]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    sa.event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with database.session_scope() as session:
            _record(session, ORG)
            dialect = session.get_bind().dialect.name
            held = None
            if dialect == "postgresql":
                held = session.execute(
                    sa.text(
                        "SELECT classid, objid FROM pg_locks WHERE locktype = 'advisory' "
                        "AND pid = pg_backend_pid()"
                    )
                ).all()
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", seen)

    locks = [s for s, _ in statements if "pg_advisory_xact_lock" in s]
    if dialect == "postgresql":
        assert len(locks) == 1
        assert [tuple(row) for row in held] == [(0, zlib.crc32(ORG.encode()))]  # type: ignore[union-attr]
    else:
        assert locks == []


# verify_chains ----------------------------------------------------------------------------


def _chain(session: Session, chain: str, count: int) -> None:
    for n in range(count):
        _record(session, chain, payload={"n": n}, action=f"step.{n}")


def _tamper(app: Flask, chain: str, seq: int, values: dict[str, Any]) -> int:
    """Edit (or, without values, delete) a stored event behind the service's back; its id."""
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    where = (table.c.chain == chain) & (table.c.seq == seq)
    with state_of(app).database.engine.begin() as connection:
        event_id = connection.execute(sa.select(table.c.id).where(where)).scalar_one()
        if values:
            connection.execute(table.update().where(where).values(**values))
        else:
            connection.execute(table.delete().where(where))
    return int(event_id)


def _verify(app: Flask) -> tuple[int, list[ChainBreak]]:
    with state_of(app).database.session_scope() as session:
        return verify_chains(session)


def _events_in_all_chains(app: Flask) -> int:
    with state_of(app).database.session_scope() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) or 0)


@pytest.fixture
def chains(app: Flask) -> int:
    """Chains org-a (3 events) and org-b (4 events); returns how many events exist in all."""
    with state_of(app).database.session_scope() as session:
        _chain(session, "org-b", 4)
        _chain(session, "org-a", 3)
    return _events_in_all_chains(app)


def test_intact_chains_verify_and_every_event_is_counted(app: Flask, chains: int) -> None:
    assert _verify(app) == (chains, [])
    assert chains >= 7


@pytest.mark.parametrize(
    ("seq", "values", "reported", "reason"),
    [
        pytest.param(
            2, {}, 3, "expected seq 2, found 3 (an event is missing)", id="deleted-middle-event"
        ),
        pytest.param(
            2,
            {"prev_hash": "f" * 64},
            2,
            "prev_hash does not match the previous event's hash",
            id="prev-hash",
        ),
        pytest.param(
            2, {"payload": {"n": 99}}, 2, "payload does not match payload_sha256", id="payload"
        ),
        pytest.param(
            2,
            {"actor": "client:cr_other"},
            2,
            "hash does not match the event's contents",
            id="actor",
        ),
        pytest.param(
            4, {"hash": "e" * 64}, 4, "hash does not match the event's contents", id="last-event"
        ),
    ],
)
def test_a_changed_event_is_reported_once_and_every_event_is_checked(
    app: Flask,
    chains: int,
    seq: int,
    values: dict[str, Any],
    reported: int,
    reason: str,
) -> None:
    _tamper(app, "org-b", seq, values)
    [(event_id,)] = _ids(app, "org-b", reported)

    checked, breaks = _verify(app)

    # The walk goes on from the stored event after a break: the events after it still link.
    assert breaks == [ChainBreak("org-b", reported, event_id, reason)]
    assert checked == _events_in_all_chains(app)


def test_a_renumbered_event_is_reported_where_it_left_and_where_it_went(
    app: Flask, chains: int
) -> None:
    moved = _tamper(app, "org-b", 1, {"seq": 9})
    [(second,)] = _ids(app, "org-b", 2)

    checked, breaks = _verify(app)

    assert breaks == [
        ChainBreak("org-b", 2, second, "expected seq 1, found 2 (an event is missing)"),
        ChainBreak("org-b", 9, moved, "expected seq 5, found 9 (an event is missing)"),
    ]
    assert checked == chains


def _ids(app: Flask, chain: str, seq: int) -> list[tuple[int]]:
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    with state_of(app).database.engine.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.id).where((table.c.chain == chain) & (table.c.seq == seq))
        ).all()
    return [tuple(row) for row in rows]


def test_every_break_is_reported_in_chain_order(app: Flask, chains: int) -> None:
    b1_id = _tamper(app, "org-b", 1, {"actor": "client:cr_other"})
    b3_id = _tamper(app, "org-b", 3, {"actor": "client:cr_other"})
    a_id = _tamper(app, "org-a", 2, {"payload": {"n": -1}})

    checked, breaks = _verify(app)

    assert breaks == [
        ChainBreak("org-a", 2, a_id, "payload does not match payload_sha256"),
        ChainBreak("org-b", 1, b1_id, "hash does not match the event's contents"),
        ChainBreak("org-b", 3, b3_id, "hash does not match the event's contents"),
    ]
    assert checked == chains


def test_events_are_walked_in_seq_order_not_in_the_order_they_are_stored(app: Flask) -> None:
    with state_of(app).database.session_scope() as session:
        _chain(session, "org-c", 3)
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    in_chain = table.c.chain == "org-c"
    with state_of(app).database.engine.begin() as connection:
        rows = connection.execute(sa.select(table).where(in_chain).order_by(table.c.seq)).all()
        connection.execute(table.delete().where(in_chain))
        for row in reversed(rows):  # stored newest first: a scan without ORDER BY reads 3, 2, 1
            values = {k: v for k, v in row._mapping.items() if k != "id"}
            connection.execute(table.insert().values(**values))

    stored = _events_in_all_chains(app)
    with state_of(app).database.session_scope() as session:
        if session.get_bind().dialect.name == "postgresql":
            # Without an index the rows come in storage order (SQLite always reads the index).
            for setting in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):
                session.execute(sa.text(f"SET LOCAL {setting} = off"))
        assert verify_chains(session) == (stored, [])


# The chain's head ------------------------------------------------------------------------
# The stored head (AuditCheckpoint) and the last event decide where an append goes.


def _head(app: Flask, chain: str, **values: Any) -> None:
    table = AuditCheckpoint.__table__  # type: ignore[attr-defined]
    with state_of(app).database.engine.begin() as connection:
        where = table.c.chain == chain
        if values:
            connection.execute(table.update().where(where).values(**values))
        else:
            connection.execute(table.delete().where(where))


def _last(app: Flask, chain: str) -> tuple[int, str]:
    with state_of(app).database.session_scope() as session:
        event = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq.desc())  # type: ignore[attr-defined]
        ).first()
        assert event is not None
        return event.seq, event.hash


def test_without_a_stored_head_an_append_follows_the_last_event(app: Flask) -> None:
    with state_of(app).database.session_scope() as session:
        _chain(session, "org-b", 5)  # a longer chain elsewhere
        _chain(session, "org-a", 3)
    last = _last(app, "org-a")
    _head(app, "org-a")

    with state_of(app).database.session_scope() as session:
        appended = _fields(_record(session, "org-a"))
        head = session.get(AuditCheckpoint, "org-a")
        assert head is not None
        stored = (head.size, head.head_hash)

    assert (appended["seq"], appended["prev_hash"]) == (last[0] + 1, last[1])
    assert stored == (4, appended["hash"])


def test_a_head_at_the_last_event_does_not_replace_its_hash(app: Flask) -> None:
    with state_of(app).database.session_scope() as session:
        _chain(session, "org-a", 3)
    last = _last(app, "org-a")
    _head(app, "org-a", head_hash="c" * 64)  # same size, another hash

    with state_of(app).database.session_scope() as session:
        appended = _fields(_record(session, "org-a"))

    assert (appended["seq"], appended["prev_hash"]) == (4, last[1])


def test_a_head_past_the_last_event_keeps_the_gap(app: Flask) -> None:
    with state_of(app).database.session_scope() as session:
        _chain(session, "org-a", 3)
    head_hash = _last(app, "org-a")[1]
    _tamper(app, "org-a", 3, {})  # the newest event removed; the head still says 3

    with state_of(app).database.session_scope() as session:
        appended = _fields(_record(session, "org-a"))

    assert (appended["seq"], appended["prev_hash"]) == (4, head_hash)


def test_the_head_is_read_afresh_by_a_session_that_appended_before(app: Flask) -> None:
    database = state_of(app).database
    with database.session_scope() as session:
        _record(session, "org-a")
        held = session.get(AuditCheckpoint, "org-a")  # the session now holds the head at 1
        assert held is not None
        assert held.size == 1
        session.commit()
        with database.session_scope() as other:
            _chain(other, "org-a", 2)  # the head moves to 3
        head_hash = _last(app, "org-a")[1]
        _tamper(app, "org-a", 3, {})
        _tamper(app, "org-a", 2, {})  # events 2 and 3 removed behind its back

        appended = _fields(_record(session, "org-a"))

    assert (appended["seq"], appended["prev_hash"]) == (4, head_hash)


# list_events ------------------------------------------------------------------------------


def test_list_events_pages_one_chain_in_order_and_filters_by_action(app: Flask) -> None:
    with state_of(app).database.session_scope() as session:
        for action in ("x", "y", "x", "z", "x"):
            _record(session, "org-a", action=action)
        _record(session, "org-b", action="x")

    with state_of(app).database.session_scope() as session:
        first = list_events(session, org_id="org-a", cursor=None, limit=2, action=None)
        first_seqs = [e.seq for e in first.items]
        second = list_events(
            session, org_id="org-a", cursor=first.next_cursor, limit=2, action=None
        )
        second_seqs = [e.seq for e in second.items]
        everything = list_events(session, org_id="org-a", cursor=None, limit=10, action=None)
        everything_seqs = [(e.chain, e.seq) for e in everything.items]
        only_x = list_events(session, org_id="org-a", cursor=None, limit=10, action="x")
        only_x_seqs = [(e.seq, e.action) for e in only_x.items]
        empty_filter = list_events(session, org_id="org-a", cursor=None, limit=10, action="")

    assert first_seqs == [1, 2]
    assert first.next_cursor is not None
    assert second_seqs == [3, 4]
    assert everything_seqs == [("org-a", n) for n in (1, 2, 3, 4, 5)]
    assert everything.next_cursor is None
    assert only_x_seqs == [(1, "x"), (3, "x"), (5, "x")]
    assert len(empty_filter.items) == 5
