"""API shapes of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from registry.pagination import PageQuery


class AuditEventPublic(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    payload: dict[str, Any]
    payload_sha256: str
    prev_hash: str
    hash: str


class AuditEventList(BaseModel):
    items: list[AuditEventPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page")


class AuditQuery(PageQuery):
    limit: int = Field(default=100, ge=1, le=500)
    action: Annotated[str, Field(max_length=64)] | None = None
