"""Signing sessions (issue #13): media signed where it lives, known to the registry without
its bytes (no signed hash or storage key: the API says ``stored: false``; the claim's
assertion hashes); takedown notices of such media have no signed hash either.

Revision ID: 0009
Revises: 0008 (webhooks, watches, takedowns)
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "signing_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("manifest_label", sa.String(length=100), nullable=False),
        sa.Column("mime_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.Column("request", JSON, nullable=False),
        sa.Column("fingerprints", JSON, nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("media_assets", schema=None) as batch_op:
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("storage_key", existing_type=sa.String(length=300), nullable=True)
        batch_op.add_column(sa.Column("assertion_hashes", JSON, nullable=True))
    with op.batch_alter_table("takedown_notices", schema=None) as batch_op:
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=True)


def downgrade() -> None:
    # Media signed without uploading have no signed hash: they cannot be kept in the old shape.
    op.execute("DELETE FROM takedown_notices WHERE sha256 IS NULL")
    with op.batch_alter_table("takedown_notices", schema=None) as batch_op:
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=False)
    op.execute(
        "DELETE FROM provenance_codes WHERE asset_id IN "
        "(SELECT id FROM media_assets WHERE storage_key IS NULL)"
    )
    op.execute(
        "DELETE FROM manifest_stores WHERE asset_id IN "
        "(SELECT id FROM media_assets WHERE storage_key IS NULL)"
    )
    op.execute("DELETE FROM media_assets WHERE storage_key IS NULL")
    with op.batch_alter_table("media_assets", schema=None) as batch_op:
        batch_op.drop_column("assertion_hashes")
        batch_op.alter_column("storage_key", existing_type=sa.String(length=300), nullable=False)
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=False)
    op.drop_table("signing_sessions")
