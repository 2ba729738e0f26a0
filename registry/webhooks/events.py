"""The event types, and the outbox: events written in the transaction of the change.

``emit`` adds the event and one pending delivery per enabled endpoint of the organization
that takes its type. Nothing is sent here: the worker (``registry worker``) sends what the
committed transaction left, so an event is neither lost when a process dies after the
commit nor sent for a change that rolled back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.db import utcnow
from registry.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

EVENT_TYPES = (
    "grant.issued",
    "grant.revoked",
    "grant.suspended",
    "grant.resumed",
    "grant.superseded",
    "grant.expired",
    "grant.confirmed",  # the person confirmed a pending grant (portal)
    "grant.declined",  # the person declined a pending grant (portal)
    "subject.declarations_changed",  # the person's do_not_train / do_not_synthesize changed
    "media.signed",
    "media.consent_changed",
    "takedown.requested",
    "generator.created",
    "generator.updated",
    "generator.approved",
    "generator.retired",
)
# Sent only by `registry webhooks test` and never stored in the outbox.
TEST_EVENT_TYPE = "webhook.test"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_body(event_type: str, data: dict[str, Any], at: datetime) -> str:
    """The payload as sent: ``{type, timestamp, data}``, minified (what is signed)."""
    return json.dumps(
        {"type": event_type, "timestamp": iso(at), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
        sort_keys=True,
    )


def takes(endpoint: WebhookEndpoint, event_type: str) -> bool:
    """Whether an endpoint receives this type (an empty filter takes every type)."""
    return not endpoint.event_types or event_type in endpoint.event_types


def emit(
    session: Session,
    org_id: str,
    event_type: str,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
) -> WebhookEvent:
    """Record an event for ``org_id`` (ids only, never personal data) in this transaction."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    now = now or utcnow()
    event = WebhookEvent(
        org_id=org_id, type=event_type, body=event_body(event_type, data, now), created_at=now
    )
    session.add(event)
    endpoints = session.scalars(
        sa.select(WebhookEndpoint).where(
            col(WebhookEndpoint.org_id) == org_id, col(WebhookEndpoint.enabled).is_(True)
        )
    ).all()
    for endpoint in endpoints:
        if takes(endpoint, event_type):
            session.add(
                WebhookDelivery(
                    event_id=event.id,
                    endpoint_id=endpoint.id,
                    org_id=org_id,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    session.flush()
    return event
