"""Managing an organization's webhook endpoints, their delivery log and manual replays."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.services import record_event
from registry.db import utcnow
from registry.ids import is_uuid
from registry.pagination import Page, keyset_page, uuid_key
from registry.webhooks.errors import (
    DeliveryNotFound,
    EndpointDisabled,
    EndpointNotFound,
    EventNotFound,
    UnknownEventType,
)
from registry.webhooks.events import EVENT_TYPES
from registry.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from registry.webhooks.signing import new_secret
from registry.webhooks.urls import resolve

# After a rotation the previous secret keeps signing (beside the new one) this long.
ROTATION_OVERLAP = timedelta(hours=24)


def _check_event_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise UnknownEventType(
            f"unknown event type(s): {', '.join(unknown)}", known=list(EVENT_TYPES)
        )
    return sorted(set(event_types))


def _audit(session: Session, endpoint: WebhookEndpoint, action: str, actor: str) -> None:
    record_event(
        session,
        org_id=endpoint.org_id,
        actor=actor,
        action=action,
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        payload={
            "url": endpoint.url,
            "event_types": endpoint.event_types,
            "enabled": endpoint.enabled,
        },
    )


def create_endpoint(
    session: Session,
    *,
    org_id: str,
    url: str,
    event_types: list[str],
    description: str,
    allow_private: bool,
    actor: str,
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (the caller shows the secret once)."""
    event_types = _check_event_types(event_types)
    resolve(url, allow_private=allow_private)
    endpoint = WebhookEndpoint(
        org_id=org_id,
        url=url,
        event_types=event_types,
        description=description,
        secret=new_secret(),
    )
    session.add(endpoint)
    session.flush()
    _audit(session, endpoint, "webhook_endpoint.created", actor)
    return endpoint


def get_endpoint(
    session: Session, *, org_id: str, endpoint_id: str, lock: bool = False
) -> WebhookEndpoint:
    """The organization's endpoint; another organization's id is simply not found."""
    endpoint = None
    if is_uuid(endpoint_id):
        endpoint = session.get(WebhookEndpoint, endpoint_id, with_for_update=lock or None)
    if endpoint is None or endpoint.org_id != org_id:
        raise EndpointNotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def list_endpoints(
    session: Session, *, org_id: str, cursor: str | None, limit: int
) -> Page[WebhookEndpoint]:
    query = sa.select(WebhookEndpoint).where(col(WebhookEndpoint.org_id) == org_id)
    return keyset_page(
        session, query, key=col(WebhookEndpoint.id), cursor=cursor, limit=limit, parse=uuid_key
    )


def update_endpoint(
    session: Session,
    *,
    org_id: str,
    endpoint_id: str,
    url: str | None,
    event_types: list[str] | None,
    description: str | None,
    enabled: bool | None,
    allow_private: bool,
    actor: str,
) -> WebhookEndpoint:
    """Change what was given; enabling clears the reason it was disabled and its failures."""
    endpoint = get_endpoint(session, org_id=org_id, endpoint_id=endpoint_id, lock=True)
    if event_types is not None:
        endpoint.event_types = _check_event_types(event_types)
    if url is not None:
        resolve(url, allow_private=allow_private)
        endpoint.url = url
    if description is not None:
        endpoint.description = description
    if enabled is not None:
        endpoint.enabled = enabled
        endpoint.disabled_reason = None if enabled else "disabled by its organization"
        if enabled:
            endpoint.failing_since = None
    endpoint.updated_at = utcnow()
    _audit(session, endpoint, "webhook_endpoint.updated", actor)
    return endpoint


def delete_endpoint(session: Session, *, org_id: str, endpoint_id: str, actor: str) -> None:
    """Remove an endpoint with its delivery log."""
    endpoint = get_endpoint(session, org_id=org_id, endpoint_id=endpoint_id, lock=True)
    deliveries = sa.select(col(WebhookDelivery.id)).where(
        col(WebhookDelivery.endpoint_id) == endpoint.id
    )
    session.execute(
        sa.delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(deliveries))
    )
    session.execute(
        sa.delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint.id)
    )
    _audit(session, endpoint, "webhook_endpoint.deleted", actor)
    session.delete(endpoint)
    session.flush()


def rotate_secret(
    session: Session, *, org_id: str, endpoint_id: str, actor: str, now: datetime | None = None
) -> WebhookEndpoint:
    """A new secret; the previous one also signs for ``ROTATION_OVERLAP``."""
    now = now or utcnow()
    endpoint = get_endpoint(session, org_id=org_id, endpoint_id=endpoint_id, lock=True)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    _audit(session, endpoint, "webhook_endpoint.secret_rotated", actor)
    return endpoint


def list_deliveries(
    session: Session, *, org_id: str, endpoint_id: str, cursor: str | None, limit: int
) -> tuple[Page[WebhookDelivery], dict[str, WebhookEvent], dict[str, list[WebhookAttempt]]]:
    """A page of an endpoint's deliveries (oldest first), their events and attempts."""
    endpoint = get_endpoint(session, org_id=org_id, endpoint_id=endpoint_id)
    query = sa.select(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint.id)
    page: Page[WebhookDelivery] = keyset_page(
        session, query, key=col(WebhookDelivery.id), cursor=cursor, limit=limit, parse=uuid_key
    )
    ids = [d.id for d in page.items]
    events = {
        e.id: e
        for e in session.scalars(
            sa.select(WebhookEvent).where(
                col(WebhookEvent.id).in_({d.event_id for d in page.items})
            )
        )
    }
    attempts: dict[str, list[WebhookAttempt]] = {i: [] for i in ids}
    for attempt in session.scalars(
        sa.select(WebhookAttempt)
        .where(col(WebhookAttempt.delivery_id).in_(ids))
        .order_by(col(WebhookAttempt.id))
    ):
        attempts[attempt.delivery_id].append(attempt)
    return page, events, attempts


def replay(
    session: Session,
    *,
    org_id: str,
    endpoint_id: str,
    event_id: str | None = None,
    delivery_id: str | None = None,
    now: datetime | None = None,
) -> WebhookDelivery:
    """Send an event again to an endpoint now (the same ``webhook-id``): a new delivery."""
    now = now or utcnow()
    endpoint = get_endpoint(session, org_id=org_id, endpoint_id=endpoint_id)
    if delivery_id is not None:
        delivery = session.get(WebhookDelivery, delivery_id) if is_uuid(delivery_id) else None
        if delivery is None or delivery.endpoint_id != endpoint.id:
            raise DeliveryNotFound(f"no delivery {delivery_id} of this endpoint")
        event_id = delivery.event_id
    event = session.get(WebhookEvent, event_id) if event_id and is_uuid(event_id) else None
    if event is None or event.org_id != org_id:
        raise EventNotFound(f"no event {event_id}")
    if not endpoint.enabled:
        raise EndpointDisabled("enable the endpoint before replaying to it")
    again = WebhookDelivery(
        event_id=event.id,
        endpoint_id=endpoint.id,
        org_id=org_id,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(again)
    session.flush()
    return again


def get_event(session: Session, *, org_id: str, event_id: str) -> WebhookEvent:
    event = session.get(WebhookEvent, event_id) if is_uuid(event_id) else None
    if event is None or event.org_id != org_id:
        raise EventNotFound(f"no event {event_id}")
    return event


def list_events(
    session: Session, *, org_id: str, event_type: str | None, cursor: str | None, limit: int
) -> Page[WebhookEvent]:
    """A page of the organization's events, oldest first (to find one to replay)."""
    query = sa.select(WebhookEvent).where(col(WebhookEvent.org_id) == org_id)
    if event_type:
        query = query.where(col(WebhookEvent.type) == event_type)
    return keyset_page(
        session, query, key=col(WebhookEvent.id), cursor=cursor, limit=limit, parse=uuid_key
    )
