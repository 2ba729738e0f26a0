"""Idempotency-Key storage: the first response to a key is replayed for the same request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from registry.db import JSONColumn, UTCDateTime, utcnow
from registry.errors import IdempotencyConflict, ValidationFailed

MAX_KEY_LENGTH = 200


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_records"

    org_id: str = Field(primary_key=True, foreign_key="organizations.id", max_length=36)
    operation: str = Field(primary_key=True, max_length=100)
    key: str = Field(primary_key=True, max_length=MAX_KEY_LENGTH)
    request_sha256: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(sa_type=JSONColumn)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def check_key(key: str) -> None:
    """Refuse keys that cannot be stored."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters"
        )


def find_replay(
    session: Session, *, org_id: str, operation: str, key: str, request_sha256: str
) -> IdempotencyRecord | None:
    """The stored response for this key, or None; a different request is a conflict."""
    record = session.get(IdempotencyRecord, (org_id, operation, key))
    if record is None:
        return None
    if record.request_sha256 != request_sha256:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different request body"
        )
    return record


def remember(
    session: Session,
    *,
    org_id: str,
    operation: str,
    key: str,
    request_sha256: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    """Store the response so a retry with the same key gets it again."""
    session.add(
        IdempotencyRecord(
            org_id=org_id,
            operation=operation,
            key=key,
            request_sha256=request_sha256,
            status_code=status_code,
            response=response,
        )
    )
