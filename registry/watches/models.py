"""Watches on media (by manifest id or file hash), takedown notices, and expiry announcements."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.db import UTCDateTime, utcnow
from registry.ids import new_id


class Watch(SQLModel, table=True):
    """An organization asks to hear when the consent behind some media changes.

    Exactly one of ``manifest_id`` and ``sha256`` is set; a hash matches the signed file and
    the source it was made from.
    """

    __tablename__ = "watches"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "manifest_id", name="uq_watches_org_manifest"),
        sa.UniqueConstraint("org_id", "sha256", name="uq_watches_org_sha256"),
        sa.Index("ix_watches_org_id_id", "org_id", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    org_id: str = Field(foreign_key="organizations.id", max_length=36)
    manifest_id: str | None = Field(default=None, index=True, max_length=100)
    sha256: str | None = Field(default=None, index=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TakedownNotice(SQLModel, table=True):
    """A request to take one media file down, addressed to one organization (``org_id``)."""

    __tablename__ = "takedown_notices"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "asset_id", "grant_id", name="uq_takedown_notices_target"),
        sa.Index("ix_takedown_notices_org_id_id", "org_id", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    org_id: str = Field(foreign_key="organizations.id", max_length=36)
    # signer: the organization that signed the media; watcher: one that watched it.
    role: str = Field(max_length=16)
    grant_id: str = Field(foreign_key="consent_grants.id", max_length=36)
    asset_id: str = Field(foreign_key="media_assets.id", max_length=36)
    manifest_id: str = Field(max_length=100)
    sha256: str | None = Field(default=None, max_length=64)  # None: signed without uploading
    source_sha256: str = Field(max_length=64)
    # requested | acknowledged
    state: str = Field(default="requested", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class GrantExpiryAnnouncement(SQLModel, table=True):
    """``grant.expired`` was emitted for this grant (once: the worker's expiry job skips it)."""

    __tablename__ = "grant_expiry_announcements"

    grant_id: str = Field(foreign_key="consent_grants.id", primary_key=True, max_length=36)
    announced_at: datetime = Field(sa_type=UTCDateTime)
