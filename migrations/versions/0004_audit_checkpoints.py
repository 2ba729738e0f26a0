"""Audit checkpoints: the head (size, hash) of every chain, kept with each append.

Existing chains get a row from their newest event and a fresh random log id.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    checkpoints = op.create_table(
        "audit_checkpoints",
        sa.Column("chain", sa.String(length=36), nullable=False),
        sa.Column("log_id", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain"),
        sa.UniqueConstraint("log_id", name="uq_audit_checkpoints_log_id"),
    )
    events = sa.table(
        "audit_events",
        sa.column("chain", sa.String),
        sa.column("seq", sa.Integer),
        sa.column("hash", sa.String),
    )
    newest = (
        sa.select(events.c.chain, sa.func.max(events.c.seq).label("seq"))
        .group_by(events.c.chain)
        .subquery()
    )
    heads = sa.select(events.c.chain, events.c.seq, events.c.hash).join(
        newest, (events.c.chain == newest.c.chain) & (events.c.seq == newest.c.seq)
    )
    bind = op.get_bind()
    # UTC as the app's UTCDateTime stores it: naive on SQLite, aware on PostgreSQL.
    now = datetime.now(UTC).replace(microsecond=0)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    rows = [
        {
            "chain": chain,
            "log_id": secrets.token_hex(16),
            "size": seq,
            "head_hash": head,
            "updated_at": now,
        }
        for chain, seq, head in bind.execute(heads)
    ]
    if rows:
        op.bulk_insert(checkpoints, rows)


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
