"""Subjects (the people whose voice or likeness is used) and their consent grants."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.consent.scope import effective_status
from registry.db import JSONColumn, UTCDateTime, utcnow
from registry.ids import new_id


class Subject(SQLModel, table=True):
    __tablename__ = "subjects"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    org_id: str = Field(foreign_key="organizations.id", index=True, max_length=36)
    # What tokens and manifests name instead of the person.
    pseudonymous_id: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    display_name: str = Field(max_length=200)
    status: str = Field(default="living", max_length=16)
    date_of_birth: date | None = None
    date_of_death: date | None = None
    jurisdictions: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    external_ref: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConsentGrant(SQLModel, table=True):
    """A grant is immutable once issued; only its lifecycle columns change."""

    __tablename__ = "consent_grants"
    __table_args__ = (
        sa.Index("ix_consent_grants_org_subject", "org_id", "subject_id"),
        # Listing pages through an organization's grants in id (creation) order.
        sa.Index("ix_consent_grants_org_id_id", "org_id", "id"),
        # The worker's expiry job: active grants past valid_until.
        sa.Index("ix_consent_grants_status_valid_until", "status", "valid_until"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    org_id: str = Field(foreign_key="organizations.id", max_length=36)
    subject_id: str = Field(foreign_key="subjects.id", max_length=36)
    grantee_org_id: str = Field(foreign_key="organizations.id", max_length=36)

    granted_by: dict[str, Any] = Field(sa_type=JSONColumn)
    representation: dict[str, Any] | None = Field(default=None, sa_type=JSONColumn)
    modalities: list[str] = Field(sa_type=JSONColumn)
    operations: list[str] = Field(sa_type=JSONColumn)
    purposes: list[dict[str, Any]] = Field(sa_type=JSONColumn)
    prohibited_uses: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    media_types: list[str] = Field(sa_type=JSONColumn)
    territories: list[str] = Field(sa_type=JSONColumn)

    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    consent_timestamp: datetime = Field(sa_type=UTCDateTime)

    compensation: dict[str, Any] | None = Field(default=None, sa_type=JSONColumn)
    training: str = Field(default="not_allowed", max_length=16)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONColumn)

    version: int = 1
    supersedes: str | None = Field(default=None, foreign_key="consent_grants.id", max_length=36)
    superseded_by: str | None = Field(default=None, max_length=36)
    status: str = Field(default="active", max_length=24)
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revocation: dict[str, Any] | None = Field(default=None, sa_type=JSONColumn)
    # When the person confirmed the grant in the portal (None: the studio's word alone).
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    token: str = Field(sa_type=sa.Text)
    token_sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def effective_status(self, now: datetime) -> str:
        """The stored status, except that an active grant past ``valid_until`` is expired."""
        return effective_status(self.status, self.valid_until, now)
