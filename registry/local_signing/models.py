"""Signing sessions: one authorized signing of media the registry never receives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.db import JSONColumn, UTCDateTime, utcnow
from registry.ids import new_id


class SigningSession(SQLModel, table=True):
    """What a pipeline was authorized to sign, until it is signed (once) or expires.

    ``definition`` is the manifest definition the registry built (the pipeline embeds it as
    given); ``claim`` is the C2PA claim (CBOR) the registry signed, kept as evidence.
    """

    __tablename__ = "signing_sessions"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    org_id: str = Field(foreign_key="organizations.id", max_length=36)
    created_by: str = Field(max_length=100)
    # The asset the signature records (its id is in the manifest: SB 942 content id).
    asset_id: str = Field(max_length=36)
    manifest_label: str = Field(max_length=100)
    mime_type: str = Field(max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    source_sha256: str | None = Field(default=None, max_length=64)  # or with the signature
    request: dict[str, Any] = Field(sa_type=JSONColumn)  # the MediaMetadata fields
    fingerprints: list[str] = Field(sa_type=JSONColumn)  # ISCC units, canonical form
    definition: dict[str, Any] = Field(sa_type=JSONColumn)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claim: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
