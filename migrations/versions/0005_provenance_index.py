"""Provenance index (issue #11): the perceptual codes and watermark keys of media assets.

Revision ID: 0005
Revises: 0004 (audit checkpoints)
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provenance_codes",
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("family", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.BigInteger(), nullable=False),
        sa.Column("c0", sa.Integer(), nullable=False),
        sa.Column("c1", sa.Integer(), nullable=False),
        sa.Column("c2", sa.Integer(), nullable=False),
        sa.Column("tail", sa.LargeBinary(), nullable=True),
        sa.Column("start_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["media_assets.id"]),
        sa.PrimaryKeyConstraint("asset_id", "family", "seq"),
    )
    with op.batch_alter_table("provenance_codes", schema=None) as batch_op:
        for chunk in ("c0", "c1", "c2"):
            batch_op.create_index(f"ix_provenance_codes_{chunk}", ["family", chunk], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("provenance_codes", schema=None) as batch_op:
        for chunk in ("c0", "c1", "c2"):
            batch_op.drop_index(f"ix_provenance_codes_{chunk}")
    op.drop_table("provenance_codes")
