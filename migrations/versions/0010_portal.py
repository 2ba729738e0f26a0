"""The portal (issue #15): people's accounts (passkeys, linked profiles), invitations,
declarations (do_not_train, do_not_synthesize); grants gain confirmed_at and room for the
status pending_confirmation.

Revision ID: 0010
Revises: 0009 (signing sessions)
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_handle", sa.String(length=64), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_handle"),
    )
    op.create_table(
        "person_passkeys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("transports", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credential_id"),
    )
    with op.batch_alter_table("person_passkeys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_passkeys_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "person_profiles",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_id"),
    )
    with op.batch_alter_table("person_profiles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_profiles_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "subject_declarations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_id", "kind", name="uq_subject_declarations"),
    )
    with op.batch_alter_table("subject_declarations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_declarations_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "subject_invitations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_by", sa.String(length=36), nullable=True),
        sa.Column("delivery", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    with op.batch_alter_table("subject_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_invitations_subject_id"), ["subject_id"], unique=False
        )

    with op.batch_alter_table("consent_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column(
            "status",
            existing_type=sa.VARCHAR(length=16),
            type_=sa.String(length=24),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("consent_grants", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=24),
            type_=sa.VARCHAR(length=16),
            existing_nullable=False,
        )
        batch_op.drop_column("confirmed_at")

    with op.batch_alter_table("subject_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_invitations_subject_id"))

    op.drop_table("subject_invitations")
    with op.batch_alter_table("subject_declarations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_declarations_subject_id"))

    op.drop_table("subject_declarations")
    with op.batch_alter_table("person_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_profiles_person_id"))

    op.drop_table("person_profiles")
    with op.batch_alter_table("person_passkeys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_passkeys_person_id"))

    op.drop_table("person_passkeys")
    op.drop_table("persons")
