"""Manifest stores (issue #11): the C2PA manifest store embedded in each signed asset.

What c2pa returns when it signs (JUMBF, ``application/c2pa``), kept so that the Soft Binding
Resolution API can serve ``GET /manifests/{manifestId}``. Assets signed before this
revision have none (c2pa cannot export the store of a signed file afterwards).

Revision ID: 0006
Revises: 0005 (provenance index)
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "manifest_stores",
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["media_assets.id"]),
        sa.PrimaryKeyConstraint("asset_id"),
    )


def downgrade() -> None:
    op.drop_table("manifest_stores")
