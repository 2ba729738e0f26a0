"""Webhook endpoints, the outbox of events, their deliveries and each delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.db import JSONColumn, UTCDateTime, utcnow
from registry.ids import new_id


class WebhookEndpoint(SQLModel, table=True):
    """Where an organization receives events. The secret signs them (HMAC, so it is kept)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (sa.Index("ix_webhook_endpoints_org_id_id", "org_id", "id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    org_id: str = Field(foreign_key="organizations.id", max_length=36)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=200)
    # Event types delivered here; empty: every type.
    event_types: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=200)
    secret: str = Field(max_length=100)
    # After a rotation the previous secret also signs, until previous_secret_until.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Start of the current run of failed attempts (None after a success).
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookEvent(SQLModel, table=True):
    """The outbox: one event for one organization, written in the transaction of its change.

    ``body`` is the exact JSON sent (and signed) on every attempt; ``id`` is the
    ``webhook-id``, the same for every attempt and endpoint, so receivers can deduplicate.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (sa.Index("ix_webhook_events_org_id_id", "org_id", "id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    org_id: str = Field(foreign_key="organizations.id", max_length=36)
    type: str = Field(max_length=64)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event to one endpoint: the worker's queue (``pending`` rows due by ``next_attempt_at``).

    A worker claims a row by moving ``next_attempt_at`` past its lease and writing a fresh
    ``lease``; only the holder of that lease may record the outcome. A worker that dies leaves
    the row to be claimed again when the lease runs out (at least once).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    event_id: str = Field(foreign_key="webhook_events.id", index=True, max_length=36)
    endpoint_id: str = Field(foreign_key="webhook_endpoints.id", max_length=36)
    org_id: str = Field(foreign_key="organizations.id", max_length=36)
    # pending | delivered | failed (gave up after the retry window)
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease: str | None = Field(default=None, max_length=36)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """The delivery log: every attempt, its answer and how long it took."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(foreign_key="webhook_deliveries.id", index=True, max_length=36)
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=300)
    duration_ms: int = 0


def attempt_summary(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "attempted_at": attempt.attempted_at,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
    }
