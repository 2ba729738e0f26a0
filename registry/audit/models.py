"""Audit events: one hash chain per organization (``chain``), plus the ``registry`` chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.db import JSONColumn, UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (sa.UniqueConstraint("chain", "seq", name="uq_audit_events_chain_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=36)
    seq: int
    org_id: str | None = Field(default=None, index=True, max_length=36)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64)
    object_type: str = Field(max_length=32)
    object_id: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONColumn)
    payload_sha256: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """The head of one chain, written with each append (signed only when a checkpoint is asked for).

    ``log_id`` is the chain's public name in checkpoints (128 random bits, hex): published
    checkpoints do not name the organization, whose id is printed in every manifest it signs
    and would otherwise let anyone follow its activity.
    """

    __tablename__ = "audit_checkpoints"
    __table_args__ = (sa.UniqueConstraint("log_id", name="uq_audit_checkpoints_log_id"),)

    chain: str = Field(primary_key=True, max_length=36)
    log_id: str = Field(max_length=32)
    size: int
    head_hash: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
