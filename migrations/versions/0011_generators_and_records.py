"""Generator inventory and creation records (issue #16): the AI tools an organization has
approved, and per signed work its generator, prompt digests (text only encrypted), inputs
and the people's contributions.

Revision ID: 0011
Revises: 0010 (the portal)
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "generators",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("documentation_url", sa.String(length=2000), nullable=True),
        sa.Column("license", sa.String(length=200), nullable=True),
        sa.Column("training_data", sa.String(length=32), nullable=False),
        sa.Column("training_data_notes", sa.String(length=2000), nullable=True),
        sa.Column("risk_class", sa.String(length=16), nullable=False),
        sa.Column("modalities", JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_reason", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "name", "version", name="uq_generators_org_name_version"),
    )
    with op.batch_alter_table("generators", schema=None) as batch_op:
        batch_op.create_index("ix_generators_org_id_id", ["org_id", "id"], unique=False)

    op.create_table(
        "creation_records",
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("generator_id", sa.String(length=36), nullable=False),
        sa.Column("generator", JSON, nullable=False),
        sa.Column("prompt_sha256", JSON, nullable=False),
        sa.Column("prompt_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("human", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["media_assets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["generator_id"],
            ["generators.id"],
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("asset_id"),
    )
    with op.batch_alter_table("creation_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_creation_records_generator_id"), ["generator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_creation_records_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("creation_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_creation_records_org_id"))
        batch_op.drop_index(batch_op.f("ix_creation_records_generator_id"))

    op.drop_table("creation_records")
    with op.batch_alter_table("generators", schema=None) as batch_op:
        batch_op.drop_index("ix_generators_org_id_id")

    op.drop_table("generators")
