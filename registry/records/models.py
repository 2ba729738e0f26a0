"""The creation record of a signed asset (one per asset, written with it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.db import JSONColumn, UTCDateTime, utcnow


class CreationRecord(SQLModel, table=True):
    __tablename__ = "creation_records"

    asset_id: str = Field(foreign_key="media_assets.id", primary_key=True, max_length=36)
    org_id: str = Field(foreign_key="organizations.id", index=True, max_length=36)
    generator_id: str = Field(foreign_key="generators.id", index=True, max_length=36)
    # The inventory entry as it stood at signing (it may change or be retired later).
    generator: dict[str, Any] = Field(sa_type=JSONColumn)
    # SHA-256 (hex) of each prompt's UTF-8 text, in order.
    prompt_sha256: list[str] = Field(sa_type=JSONColumn)
    # The prompts' text, only when the studio asked to keep it: AES-256-GCM (records.prompts).
    prompt_ciphertext: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    # [{sha256, label}]: the assets the work was made from.
    inputs: list[dict[str, Any]] = Field(sa_type=JSONColumn)
    # [{role, action, description}]: what the people did.
    human: list[dict[str, Any]] = Field(sa_type=JSONColumn)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
