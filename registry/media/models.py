"""Media assets: files the registry signed, and what they cited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.db import JSONColumn, UTCDateTime, utcnow
from registry.ids import new_id


class MediaAsset(SQLModel, table=True):
    __tablename__ = "media_assets"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    org_id: str = Field(foreign_key="organizations.id", index=True, max_length=36)
    # Verification looks files up by either hash, across organizations. A file signed where
    # it lives (``local_signing``) never reaches the registry: its signed hash is unknown.
    sha256: str | None = Field(default=None, index=True, max_length=64)
    source_sha256: str = Field(index=True, max_length=64)
    manifest_id: str = Field(index=True, max_length=100)
    mime_type: str = Field(max_length=64)
    # 2 GiB uploads overflow a 32-bit integer.
    size: int = Field(sa_type=sa.BigInteger)
    source_size: int = Field(sa_type=sa.BigInteger)
    storage_key: str | None = Field(default=None, max_length=300)  # None: not stored
    grant_ids: list[str] = Field(sa_type=JSONColumn)
    # Per cited grant: the use claimed and the grant's state when the file was signed.
    grant_uses: list[dict[str, Any]] = Field(sa_type=JSONColumn)
    generator: dict[str, str] = Field(sa_type=JSONColumn)
    digital_source_type: str = Field(max_length=64)
    title: str | None = Field(default=None, max_length=200)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set when a grant it cited was revoked with the effect "unpublish" (a takedown notice).
    takedown_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Label -> hash (hex) of each assertion of the claim the registry signed (signing sessions).
    assertion_hashes: dict[str, str] | None = Field(default=None, sa_type=JSONColumn)

    @property
    def stored(self) -> bool:
        """False for media signed where they live (a signing session): the registry holds no
        bytes of them, only the size and source hash their pipeline declared and the claim's
        assertion hashes."""
        return self.storage_key is not None


class ManifestStore(SQLModel, table=True):
    """The C2PA manifest store signing embedded in an asset (JUMBF, ``application/c2pa``),
    as c2pa returned it: the Soft Binding Resolution API serves it by manifest id."""

    __tablename__ = "manifest_stores"

    asset_id: str = Field(foreign_key="media_assets.id", primary_key=True, max_length=36)
    data: bytes = Field(sa_type=sa.LargeBinary)
