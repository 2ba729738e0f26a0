"""Signed checkpoints of the audit chains: published, kept, and what `registry audit verify`
finds with them (truncation, a chain deleted whole, a perfect rewrite, every break)."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from flask import Flask
from flask.testing import FlaskClient

from registry import create_app, migrate
from registry.audit.checkpoints import Checkpoint, parse_checkpoint
from registry.audit.errors import CheckpointRefused
from registry.audit.models import AuditCheckpoint, AuditEvent
from registry.audit.services import _event_digest
from registry.cli import main
from registry.db import create_db_engine
from registry.keys.c2pa_credential import create_dev_credential
from registry.keys.checkpoint_key import (
    CheckpointKey,
    CheckpointKeyError,
    NoteVerifier,
    SignedNoteError,
    init_checkpoint_key,
    load_checkpoint_key,
)
from registry.keys.keyring import init_keys
from registry.settings import ConfigurationError, Settings
from registry.state import state_of
from tests.conftest import BACKENDS, PG_URL
from tests.factories import Studio, assert_problem

Counts = Callable[[], dict[str, int]]
KEY_NAME = "registry.test/audit"  # the conftest issuer is http://registry.test
OWN = "/v1/audit/checkpoint"
PUBLIC = "/v1/audit/checkpoints/{}"
KEY = "/v1/audit/checkpoint-key"
events_table = AuditEvent.__table__  # type: ignore[attr-defined]
heads_table = AuditCheckpoint.__table__  # type: ignore[attr-defined]


# An independent reading of the formats (c2sp.org/signed-note, c2sp.org/tlog-checkpoint) ------


def open_note(note: str, vkey: str) -> list[str]:
    """The text lines of ``note`` after checking its one signature against ``vkey``."""
    name, key_id, material = vkey.split("+", 2)  # base64 may hold "+" too
    raw = base64.b64decode(material)
    assert raw[0] == 0x01 and len(raw) == 33  # Ed25519
    assert hashlib.sha256(name.encode() + b"\n\x01" + raw[1:]).digest()[:4].hex() == key_id
    text, blank, signatures = note.rpartition("\n\n")
    assert blank and note.endswith("\n")
    [line] = signatures.splitlines()
    prefix = f"\u2014 {name} "
    assert line.startswith(prefix), line
    signature = base64.b64decode(line[len(prefix) :], validate=True)
    assert signature[:4].hex() == key_id
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(signature[4:], (text + "\n").encode())
    return text.split("\n")


# Helpers --------------------------------------------------------------------------------------


def cli(settings: Settings, *args: str) -> Result:
    env = {
        "REGISTRY_DATA_DIR": str(settings.data_dir),
        "REGISTRY_DATABASE_URL": str(settings.database_url),
        "REGISTRY_ISSUER": settings.issuer,
    }
    return CliRunner().invoke(main, list(args), env=env)


def verify(settings: Settings, *kept: Path) -> Result:
    return cli(settings, "audit", "verify", *[f"--checkpoint={path}" for path in kept])


def broken_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("BROKEN")]


def vkey(client: FlaskClient) -> str:
    response = client.get(KEY)
    assert response.status_code == 200
    return response.get_data(as_text=True).strip()


def keep(studio: Studio, work: Path, name: str = "kept.checkpoint") -> Path:
    """What an auditor does: fetch the studio's checkpoint now and keep the file."""
    response = studio.get(OWN)
    assert response.status_code == 200, response.get_data(as_text=True)
    path = work / name
    path.write_bytes(response.get_data())
    return path


def chain_events(app: Flask, chain: str) -> list[AuditEvent]:
    with state_of(app).database.session_scope() as session:
        return list(
            session.scalars(
                sa.select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
            )
        )


def head_row(app: Flask, chain: str) -> AuditCheckpoint:
    with state_of(app).database.session_scope() as session:
        return session.scalars(
            sa.select(AuditCheckpoint).where(AuditCheckpoint.chain == chain)
        ).one()


def run_sql(app: Flask, *statements: sa.Executable) -> None:
    with state_of(app).database.engine.begin() as connection:
        for statement in statements:
            connection.execute(statement)


def delete_newest(app: Flask, chain: str, count: int) -> int:
    """Delete the chain's ``count`` newest events behind the registry's back; the new size."""
    size = len(chain_events(app, chain)) - count
    run_sql(
        app,
        events_table.delete().where(events_table.c.chain == chain, events_table.c.seq > size),
    )
    return size


def cover_tracks(app: Flask, chain: str) -> None:
    """What a careful attacker does next: make the stored head match the changed chain."""
    newest = chain_events(app, chain)[-1]
    run_sql(
        app,
        heads_table.update()
        .where(heads_table.c.chain == chain)
        .values(size=newest.seq, head_hash=newest.hash),
    )


def rewrite_from(app: Flask, chain: str, seq: int, **changes: Any) -> None:
    """Edit event ``seq`` and recompute its hash and every later prev_hash and hash."""
    prev = None
    statements = []
    for event in chain_events(app, chain):
        if event.seq == seq:
            for name, value in changes.items():
                setattr(event, name, value)
        if event.seq >= seq:
            if prev is not None:
                event.prev_hash = prev
            event.hash = _event_digest(event)
            statements.append(
                events_table.update()
                .where(events_table.c.id == event.id)
                .values(prev_hash=event.prev_hash, hash=event.hash, **changes)
            )
            changes = {}
        prev = event.hash
    run_sql(app, *statements)


@pytest.fixture
def busy_studio(studio: Studio) -> Studio:
    """A studio whose chain holds seven events."""
    grant = studio.grant()
    studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    studio.subject()
    studio.subject()
    return studio


# The signed-note format ---------------------------------------------------------------------

SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_the_signed_note_spec_example_verifies() -> None:
    verifier = NoteVerifier.from_vkey(SPEC_VKEY)

    assert verifier.vkey == SPEC_VKEY
    assert verifier.open(SPEC_NOTE) == "This is an example message.\n"


def test_a_signed_note_round_trips_and_any_change_is_refused() -> None:
    key = CheckpointKey(name="example.org/audit", private_key=Ed25519PrivateKey.generate())
    note = key.sign("example.org/audit/x\n3\n" + base64.b64encode(b"\1" * 32).decode() + "\n")

    assert open_note(note, key.verifier.vkey)[1] == "3"
    assert NoteVerifier.from_vkey(key.verifier.vkey).open(note).startswith("example.org/audit/x\n")
    with pytest.raises(SignedNoteError, match="does not verify"):
        key.verifier.open(note.replace("\n3\n", "\n4\n"))
    other = CheckpointKey(name="example.org/audit", private_key=Ed25519PrivateKey.generate())
    with pytest.raises(SignedNoteError, match=r"no signature by example\.org/audit"):
        other.verifier.open(note)


def test_a_note_signed_also_by_an_unknown_key_verifies() -> None:
    key = CheckpointKey(name="example.org/audit", private_key=Ed25519PrivateKey.generate())
    witness = CheckpointKey(name="witness.example/w", private_key=Ed25519PrivateKey.generate())
    note = key.sign("hello\n")
    cosigned = note + witness.sign("hello\n").split("\n\n")[1]

    assert key.verifier.open(cosigned) == "hello\n"


@pytest.mark.parametrize(
    "text",
    [
        "o\n3\n",  # two lines
        "o\n03\n" + base64.b64encode(b"\0" * 32).decode() + "\n",  # leading zero
        "o\n3\n" + base64.b64encode(b"\0" * 20).decode() + "\n",  # not a SHA-256
        "o\n3\nnot base64!\n",
    ],
)
def test_malformed_checkpoint_texts_are_refused(text: str) -> None:
    with pytest.raises(CheckpointRefused):
        parse_checkpoint(text)


def test_a_checkpoint_text_round_trips() -> None:
    checkpoint = Checkpoint("h/audit/x", 42, "ab" * 32, ("timestamp 2026-01-01T00:00:00Z",))

    assert parse_checkpoint(checkpoint.text()) == checkpoint
    assert checkpoint.text().split("\n")[2] == base64.b64encode(b"\xab" * 32).decode()


# The public endpoints -------------------------------------------------------------------------


def test_the_checkpoint_key_is_published_as_a_note_verifier_key(client: FlaskClient) -> None:
    response = client.get(KEY)

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "max-age" in response.headers["Cache-Control"]
    name, key_id, material = response.get_data(as_text=True).strip().split("+", 2)
    assert name == KEY_NAME
    assert re.fullmatch(r"[0-9a-f]{8}", key_id)
    assert base64.b64decode(material)[0] == 0x01


def test_a_checkpoint_states_origin_size_and_head_and_verifies(
    busy_studio: Studio, client: FlaskClient, counts: Counts
) -> None:
    listed = busy_studio.get("/v1/audit/events", query_string={"limit": 500}).json["items"]
    before = counts()

    own = busy_studio.get(OWN)

    assert own.status_code == 200
    assert own.mimetype == "text/plain"
    origin, size, root, timestamp = open_note(own.get_data(as_text=True), vkey(client))
    assert origin.startswith(KEY_NAME + "/")
    log_id = origin.removeprefix(KEY_NAME + "/")
    assert re.fullmatch(r"[0-9a-f]{32}", log_id)
    assert int(size) == len(listed) == 7
    assert base64.b64decode(root) == bytes.fromhex(listed[-1]["hash"])
    signed_at = datetime.fromisoformat(timestamp.removeprefix("timestamp "))
    assert abs(datetime.now(UTC) - signed_at) < timedelta(minutes=1)
    assert counts() == before  # asking for a checkpoint writes nothing

    public = client.get(PUBLIC.format(log_id))  # anyone, no token

    assert public.status_code == 200
    assert open_note(public.get_data(as_text=True), vkey(client))[:3] == [origin, size, root]


def test_a_checkpoint_carries_no_personal_data_and_not_the_organization(
    busy_studio: Studio, client: FlaskClient
) -> None:
    origin = busy_studio.get(OWN).get_data(as_text=True).split("\n")[0]

    body = client.get(PUBLIC.format(origin.rsplit("/", 1)[1])).get_data(as_text=True)

    for private in (busy_studio.org_id, "Northwind Studios", "Ada Example", busy_studio.client_id):
        assert private not in body
    assert len(body.split("\n\n")[0].split("\n")) == 4  # origin, size, root, timestamp


def test_the_checkpoint_moves_with_every_event(studio: Studio, client: FlaskClient) -> None:
    first = open_note(studio.get(OWN).get_data(as_text=True), vkey(client))

    studio.subject()
    second = open_note(studio.get(OWN).get_data(as_text=True), vkey(client))

    assert second[0] == first[0]
    assert int(second[1]) == int(first[1]) + 1
    assert second[2] != first[2]


@pytest.mark.parametrize("log_id", ["0" * 32, "not-a-log-id", "A" * 32])
def test_an_unknown_log_is_a_404_problem(
    studio: Studio, client: FlaskClient, counts: Counts, log_id: str
) -> None:
    before = counts()

    response = client.get(PUBLIC.format(log_id))

    assert_problem(response, 404, "audit-log-not-found")
    assert counts() == before


def test_the_own_checkpoint_needs_the_audit_read_scope(
    app: Flask, client: FlaskClient, counts: Counts
) -> None:
    writer = Studio.create(app, client, name="No Audit", scopes=frozenset({"grants:read"}))
    before = counts()

    assert_problem(writer.get(OWN), 403, "insufficient-scope")
    assert_problem(client.get(OWN), 401, "unauthorized")
    assert counts() == before


def test_the_registry_refuses_to_sign_a_truncated_chain(
    app: Flask, busy_studio: Studio, client: FlaskClient, counts: Counts
) -> None:
    origin = busy_studio.get(OWN).get_data(as_text=True).split("\n")[0]
    delete_newest(app, busy_studio.org_id, 2)
    before = counts()

    response = client.get(PUBLIC.format(origin.rsplit("/", 1)[1]))

    assert_problem(response, 500, "audit-log-inconsistent")
    assert counts() == before


# registry audit verify --------------------------------------------------------------------


def test_an_intact_log_verifies_against_stored_and_kept_checkpoints(
    busy_studio: Studio, settings: Settings, work: Path, counts: Counts
) -> None:
    kept = keep(busy_studio, work)
    busy_studio.subject()  # the chain grows past the kept checkpoint: still consistent

    result = verify(settings, kept)

    assert result.exit_code == 0, result.output
    assert f"{counts()['audit_events']} events checked" in result.stdout
    assert "1 kept checkpoints" in result.stdout


def test_truncation_is_detected_against_the_stored_checkpoint(
    app: Flask, busy_studio: Studio, settings: Settings
) -> None:
    size = delete_newest(app, busy_studio.org_id, 2)

    result = verify(settings)

    assert result.exit_code == 1
    assert broken_lines(result) == [
        f"BROKEN chain {busy_studio.org_id} at seq {size + 2}: the stored checkpoint records "
        f"{size + 2} events, but the chain ends at seq {size} (events were removed from its end)"
    ]


def test_truncation_is_detected_against_a_kept_checkpoint_when_the_stored_one_was_changed(
    app: Flask, busy_studio: Studio, settings: Settings, work: Path
) -> None:
    kept = keep(busy_studio, work)
    size = delete_newest(app, busy_studio.org_id, 2)
    cover_tracks(app, busy_studio.org_id)
    assert verify(settings).exit_code == 0  # the registry's own records no longer show it

    result = verify(settings, kept)

    assert result.exit_code == 1
    assert broken_lines(result) == [
        f"BROKEN chain {busy_studio.org_id} at seq {size + 2}: checkpoint {kept} records "
        f"{size + 2} events, but the chain ends at seq {size} (events were removed from its end)"
    ]


def test_events_appended_after_a_truncation_keep_the_gap(
    app: Flask, busy_studio: Studio, settings: Settings
) -> None:
    size = delete_newest(app, busy_studio.org_id, 2)

    busy_studio.subject()  # the next event follows the recorded head, not the truncated chain

    result = verify(settings)
    assert result.exit_code == 1
    assert broken_lines(result) == [
        f"BROKEN chain {busy_studio.org_id} at seq {size + 3} (event id "
        f"{chain_events(app, busy_studio.org_id)[-1].id}): expected seq {size + 1}, "
        f"found {size + 3} (an event is missing)"
    ]


def test_a_chain_deleted_whole_is_detected_against_its_stored_checkpoint(
    app: Flask, busy_studio: Studio, other_studio: Studio, settings: Settings
) -> None:
    run_sql(app, events_table.delete().where(events_table.c.chain == busy_studio.org_id))

    result = verify(settings)

    assert result.exit_code == 1
    assert broken_lines(result) == [
        f"BROKEN chain {busy_studio.org_id} at seq 7: the stored checkpoint records 7 events, "
        "but the chain has none (it was deleted)"
    ]


def test_a_chain_deleted_whole_with_its_stored_checkpoint_is_detected_against_a_kept_one(
    app: Flask, busy_studio: Studio, settings: Settings, work: Path
) -> None:
    kept = keep(busy_studio, work)
    log_id = kept.read_text().split("\n")[0].rsplit("/", 1)[1]
    run_sql(
        app,
        events_table.delete().where(events_table.c.chain == busy_studio.org_id),
        heads_table.delete().where(heads_table.c.chain == busy_studio.org_id),
    )
    assert verify(settings).exit_code == 0  # nothing inside the registry remembers the chain

    result = verify(settings, kept)

    assert result.exit_code == 1
    assert broken_lines(result) == [
        f"BROKEN chain log:{log_id} at seq 7: checkpoint {kept} is of a log the registry no "
        "longer has (the chain and its stored checkpoint were deleted)"
    ]


def test_a_stored_checkpoint_deleted_is_a_break(
    app: Flask, busy_studio: Studio, settings: Settings
) -> None:
    run_sql(app, heads_table.delete().where(heads_table.c.chain == busy_studio.org_id))

    result = verify(settings)

    assert result.exit_code == 1
    assert broken_lines(result) == [
        f"BROKEN chain {busy_studio.org_id} at seq 7: the chain has no stored checkpoint (deleted)"
    ]


def test_a_perfect_rewrite_is_detected_against_a_kept_checkpoint(
    app: Flask, busy_studio: Studio, settings: Settings, work: Path
) -> None:
    kept = keep(busy_studio, work)
    rewrite_from(app, busy_studio.org_id, 3, actor="client:innocent-bystander")
    cover_tracks(app, busy_studio.org_id)
    assert verify(settings).exit_code == 0  # every hash recomputed: the chain is consistent

    result = verify(settings, kept)

    head = chain_events(app, busy_studio.org_id)[-1]
    kept_head = base64.b64decode(kept.read_text().split("\n")[2]).hex()
    assert result.exit_code == 1
    assert broken_lines(result) == [
        f"BROKEN chain {busy_studio.org_id} at seq 7 (event id {head.id}): checkpoint {kept} has "
        f"head {kept_head} at seq 7, but the event there has hash {head.hash} "
        "(the chain was rewritten)"
    ]


def test_a_rewrite_without_covering_tracks_shows_against_the_stored_checkpoint(
    app: Flask, busy_studio: Studio, settings: Settings
) -> None:
    rewrite_from(app, busy_studio.org_id, 3, actor="client:innocent-bystander")

    result = verify(settings)

    assert result.exit_code == 1
    [line] = broken_lines(result)
    assert "the stored checkpoint has head" in line
    assert "(the chain was rewritten)" in line


def test_every_break_in_a_chain_is_reported(
    app: Flask, busy_studio: Studio, other_studio: Studio, settings: Settings
) -> None:
    chain = busy_studio.org_id
    run_sql(
        app,
        events_table.update()
        .where(events_table.c.chain == chain, events_table.c.seq == 2)
        .values(actor="client:innocent-bystander"),
        events_table.update()
        .where(events_table.c.chain == chain, events_table.c.seq == 5)
        .values(payload={"edited": True}),
    )
    ids = {event.seq: event.id for event in chain_events(app, chain)}

    result = verify(settings)

    assert result.exit_code == 1
    assert broken_lines(result) == [
        f"BROKEN chain {chain} at seq 2 (event id {ids[2]}): "
        "hash does not match the event's contents",
        f"BROKEN chain {chain} at seq 5 (event id {ids[5]}): payload does not match payload_sha256",
    ]
    assert other_studio.org_id not in result.stderr


# Refused checkpoint files -------------------------------------------------------------------


def test_a_kept_checkpoint_with_a_bad_signature_is_refused(
    busy_studio: Studio, settings: Settings, work: Path, counts: Counts
) -> None:
    kept = keep(busy_studio, work)
    kept.write_text(kept.read_text().replace("\n7\n", "\n9\n", 1))  # a bigger log, claimed
    before = counts()

    result = verify(settings, kept)

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"REFUSED checkpoint {kept}: the signature by {KEY_NAME} (key ID "
        f"{vkey(busy_studio.client).split('+', 2)[1]}) does not verify"
    )
    assert "BROKEN" not in result.stderr
    assert counts() == before


def test_a_checkpoint_signed_by_another_key_is_refused(
    busy_studio: Studio, settings: Settings, work: Path, counts: Counts
) -> None:
    genuine = keep(busy_studio, work).read_text()
    impostor = CheckpointKey(name=KEY_NAME, private_key=Ed25519PrivateKey.generate())
    forged = work / "forged.checkpoint"
    forged.write_text(impostor.sign(genuine.split("\n\n")[0] + "\n"))
    before = counts()

    result = verify(settings, forged)

    assert result.exit_code == 2
    assert f"REFUSED checkpoint {forged}: the note has no signature by {KEY_NAME}" in result.stderr
    assert counts() == before


def test_a_checkpoint_that_is_not_a_note_is_refused(
    studio: Studio, settings: Settings, work: Path
) -> None:
    junk = work / "junk.checkpoint"
    junk.write_text("registry.test/audit/x\n1\nAAAA\n")

    result = verify(settings, junk)

    assert result.exit_code == 2
    assert "REFUSED checkpoint" in result.stderr
    assert "no blank line before its signatures" in result.stderr


# registry audit checkpoints, registry keys init, production ------------------------------


def test_exported_checkpoints_of_every_chain_verify(
    busy_studio: Studio, other_studio: Studio, settings: Settings, work: Path
) -> None:
    out = work / "kept"

    exported = cli(settings, "audit", "checkpoints", "--out", str(out))

    assert exported.exit_code == 0, exported.output
    files = sorted(out.glob("*.checkpoint"))
    assert len(files) == 2  # one per chain: the two studios
    result = verify(settings, *files)
    assert result.exit_code == 0, result.output
    assert "2 kept checkpoints" in result.stdout


def test_keys_init_creates_the_checkpoint_key_once_and_prints_its_verifier_key(
    tmp_path: Path,
) -> None:
    env = {"REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_ISSUER": "https://registry.example"}

    first = CliRunner().invoke(main, ["keys", "init"], env=env)
    second = CliRunner().invoke(main, ["keys", "init"], env=env)

    key = load_checkpoint_key(tmp_path / "keys", name="registry.example/audit")
    assert first.exit_code == 0, first.output
    assert f"created: audit checkpoint key {key.verifier.vkey}" in first.stdout
    assert f"present: audit checkpoint key {key.verifier.vkey}" in second.stdout
    assert key.is_development
    assert (tmp_path / "keys" / "checkpoint" / "ed25519.pem").stat().st_mode & 0o777 == 0o600


def _production(tmp_path: Path) -> Settings:
    """Production settings and keys that pass every other check."""
    dev = create_dev_credential(tmp_path / "dev-c2pa")
    shutil.copy(dev.chain_path, tmp_path / "chain.pem")
    shutil.copy(dev.key_path, tmp_path / "key.pem")
    settings = Settings(
        env="production",
        data_dir=tmp_path / "data",
        database_url="postgresql+psycopg://registry@db.internal:5432/registry",
        secret_key="s" * 48,
        watermark_secret="w" * 48,
        prompt_secret="p" * 48,
        c2pa_cert_chain=tmp_path / "chain.pem",
        c2pa_private_key=tmp_path / "key.pem",
        _env_file=None,  # type: ignore[call-arg]
    )
    init_keys(settings.keys_dir, development=False)
    return settings


def test_production_refuses_a_development_checkpoint_key(tmp_path: Path) -> None:
    settings = _production(tmp_path)
    init_checkpoint_key(settings.keys_dir, development=True)

    with pytest.raises(ConfigurationError, match="development audit checkpoint key"):
        create_app(settings)


def test_production_does_not_make_a_checkpoint_key_itself(tmp_path: Path) -> None:
    settings = _production(tmp_path)

    with pytest.raises(CheckpointKeyError, match="run `registry keys init`"):
        create_app(settings)
    assert not (settings.keys_dir / "checkpoint" / "ed25519.pem").exists()


# The migration ------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, not migrated yet (a private schema on PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"
        return
    assert PG_URL
    schema = f"registry_upgrade_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def test_the_migration_records_the_head_of_every_existing_chain(empty_database: str) -> None:
    migrate.upgrade(empty_database, "0003")
    engine = create_db_engine(empty_database)
    rows = [
        {"chain": chain, "seq": seq, "hash": f"{chain[-1]}{seq}".ljust(64, "0")}
        for chain, count in (("org-a", 3), ("org-b", 1))
        for seq in range(1, count + 1)
    ]
    common = {
        "org_id": None,
        "at": datetime(2026, 1, 1, tzinfo=UTC),
        "actor": "a",
        "action": "b",
        "object_type": "c",
        "object_id": "d",
        "payload": {},
        "payload_sha256": "0" * 64,
        "prev_hash": "0" * 64,
    }
    try:
        with engine.begin() as connection:
            connection.execute(events_table.insert(), [{**common, **row} for row in rows])
        migrate.upgrade(empty_database)
        with engine.connect() as connection:
            heads = (
                connection.execute(sa.select(heads_table).order_by(heads_table.c.chain))
                .mappings()
                .all()
            )
    finally:
        engine.dispose()

    assert [(h["chain"], h["size"], h["head_hash"]) for h in heads] == [
        ("org-a", 3, "a3".ljust(64, "0")),
        ("org-b", 1, "b1".ljust(64, "0")),
    ]
    assert all(re.fullmatch(r"[0-9a-f]{32}", h["log_id"]) for h in heads)
    assert heads[0]["log_id"] != heads[1]["log_id"]
    assert all(h["updated_at"] is not None for h in heads)
