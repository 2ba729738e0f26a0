"""Status lists (issue #12): the registry's Token Status Lists and one entry per consent token.

Grants issued before this revision keep tokens without a ``status`` claim and get no entry.

Revision ID: 0007
Revises: 0006 (manifest stores)
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_lists",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "status_list_entries",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("grant_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["consent_grants.id"]),
        sa.ForeignKeyConstraint(["list_id"], ["status_lists.id"]),
        sa.PrimaryKeyConstraint("list_id", "idx"),
        sa.UniqueConstraint("grant_id", name="uq_status_list_entries_grant_id"),
    )
    with op.batch_alter_table("status_list_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_status_list_entries_changes", ["list_id", "changed_version"], unique=False
        )
        batch_op.create_index("ix_status_list_entries_due", ["status", "expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_list_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_status_list_entries_due")
        batch_op.drop_index("ix_status_list_entries_changes")
    op.drop_table("status_list_entries")
    op.drop_table("status_lists")
