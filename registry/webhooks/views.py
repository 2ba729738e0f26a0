"""Webhook endpoints over HTTP: parse, call one service, render."""

from __future__ import annotations

from flask import Blueprint, Response

from registry.api import Rendered, operation
from registry.auth.principal import Principal
from registry.db import get_session
from registry.pagination import PageQuery
from registry.state import app_state
from registry.webhooks import endpoints
from registry.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from registry.webhooks.schemas import (
    Attempt,
    DeliveryList,
    DeliveryPublic,
    EndpointCreate,
    EndpointList,
    EndpointPublic,
    EndpointUpdate,
    EndpointWithSecret,
    EventList,
    EventListQuery,
    EventPublic,
    Replay,
)
from registry.webhooks.signing import message_id

bp = Blueprint("webhooks", __name__)
SCOPES = ["webhooks"]
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)
READ_ERRORS = (401, 403, 404, 422)


def _allow_private() -> bool:
    return app_state().settings.webhook_allow_private_urls


def endpoint_public(endpoint: WebhookEndpoint) -> EndpointPublic:
    return EndpointPublic.model_validate(endpoint.model_dump())


def _with_secret(endpoint: WebhookEndpoint) -> EndpointWithSecret:
    return EndpointWithSecret.model_validate(endpoint.model_dump())


def delivery_public(
    delivery: WebhookDelivery, event: WebhookEvent, attempts: list[WebhookAttempt]
) -> DeliveryPublic:
    return DeliveryPublic.model_validate(
        {
            "id": delivery.id,
            "event_id": event.id,
            "webhook_id": message_id(event.id),
            "event_type": event.type,
            "state": delivery.state,
            "attempts": [Attempt.model_validate(a.model_dump()) for a in attempts],
            "next_attempt_at": delivery.next_attempt_at if delivery.state == "pending" else None,
            "delivered_at": delivery.delivered_at,
            "created_at": delivery.created_at,
        }
    )


@bp.post("/v1/webhook-endpoints")
@operation(
    summary="Add a webhook endpoint (its secret is shown only in this response)",
    tags=["webhooks"],
    body=EndpointCreate,
    response=EndpointWithSecret,
    status=201,
    scopes=SCOPES,
    idempotent=True,
    errors=WRITE_ERRORS,
)
def create_endpoint(principal: Principal, body: EndpointCreate) -> Rendered:
    endpoint = endpoints.create_endpoint(
        get_session(),
        org_id=principal.org_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        allow_private=_allow_private(),
        actor=principal.actor,
    )
    return Rendered(
        _with_secret(endpoint), headers={"Location": f"/v1/webhook-endpoints/{endpoint.id}"}
    )


@bp.get("/v1/webhook-endpoints")
@operation(
    summary="List webhook endpoints",
    tags=["webhooks"],
    query=PageQuery,
    response=EndpointList,
    scopes=SCOPES,
    errors=READ_ERRORS,
)
def list_endpoints(principal: Principal, query: PageQuery) -> EndpointList:
    page = endpoints.list_endpoints(
        get_session(), org_id=principal.org_id, cursor=query.cursor, limit=query.limit
    )
    return EndpointList(
        items=[endpoint_public(e) for e in page.items], next_cursor=page.next_cursor
    )


@bp.get("/v1/webhook-endpoints/<endpoint_id>")
@operation(
    summary="Read a webhook endpoint",
    tags=["webhooks"],
    response=EndpointPublic,
    scopes=SCOPES,
    errors=READ_ERRORS,
)
def get_endpoint(principal: Principal, endpoint_id: str) -> EndpointPublic:
    return endpoint_public(
        endpoints.get_endpoint(get_session(), org_id=principal.org_id, endpoint_id=endpoint_id)
    )


@bp.patch("/v1/webhook-endpoints/<endpoint_id>")
@operation(
    summary="Change a webhook endpoint's URL, event types, description or enabled state",
    tags=["webhooks"],
    body=EndpointUpdate,
    response=EndpointPublic,
    scopes=SCOPES,
    errors=WRITE_ERRORS,
)
def update_endpoint(principal: Principal, endpoint_id: str, body: EndpointUpdate) -> EndpointPublic:
    endpoint = endpoints.update_endpoint(
        get_session(),
        org_id=principal.org_id,
        endpoint_id=endpoint_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        enabled=body.enabled,
        allow_private=_allow_private(),
        actor=principal.actor,
    )
    return endpoint_public(endpoint)


@bp.delete("/v1/webhook-endpoints/<endpoint_id>")
@operation(
    summary="Delete a webhook endpoint and its delivery log",
    tags=["webhooks"],
    status=204,
    scopes=SCOPES,
    errors=READ_ERRORS,
)
def delete_endpoint(principal: Principal, endpoint_id: str) -> Response:
    endpoints.delete_endpoint(
        get_session(), org_id=principal.org_id, endpoint_id=endpoint_id, actor=principal.actor
    )
    return Response(status=204)


@bp.post("/v1/webhook-endpoints/<endpoint_id>/rotate-secret")
@operation(
    summary="Rotate an endpoint's secret (the previous one also signs for 24 hours)",
    tags=["webhooks"],
    response=EndpointWithSecret,
    scopes=SCOPES,
    errors=READ_ERRORS,
)
def rotate_secret(principal: Principal, endpoint_id: str) -> EndpointWithSecret:
    endpoint = endpoints.rotate_secret(
        get_session(), org_id=principal.org_id, endpoint_id=endpoint_id, actor=principal.actor
    )
    return _with_secret(endpoint)


@bp.get("/v1/webhook-endpoints/<endpoint_id>/deliveries")
@operation(
    summary="An endpoint's delivery log: each event sent there and every attempt",
    tags=["webhooks"],
    query=PageQuery,
    response=DeliveryList,
    scopes=SCOPES,
    errors=READ_ERRORS,
)
def list_deliveries(principal: Principal, endpoint_id: str, query: PageQuery) -> DeliveryList:
    page, events, attempts = endpoints.list_deliveries(
        get_session(),
        org_id=principal.org_id,
        endpoint_id=endpoint_id,
        cursor=query.cursor,
        limit=query.limit,
    )
    return DeliveryList(
        items=[delivery_public(d, events[d.event_id], attempts[d.id]) for d in page.items],
        next_cursor=page.next_cursor,
    )


def _replayed(delivery: WebhookDelivery) -> Rendered:
    session = get_session()
    event = endpoints.get_event(session, org_id=delivery.org_id, event_id=delivery.event_id)
    return Rendered(delivery_public(delivery, event, []), status=202)


@bp.post("/v1/webhook-endpoints/<endpoint_id>/deliveries/<delivery_id>/replay")
@operation(
    summary="Send a delivery's event again (same webhook-id)",
    tags=["webhooks"],
    response=DeliveryPublic,
    status=202,
    scopes=SCOPES,
    errors=WRITE_ERRORS,
)
def replay_delivery(principal: Principal, endpoint_id: str, delivery_id: str) -> Rendered:
    delivery = endpoints.replay(
        get_session(), org_id=principal.org_id, endpoint_id=endpoint_id, delivery_id=delivery_id
    )
    return _replayed(delivery)


@bp.post("/v1/webhook-endpoints/<endpoint_id>/replay")
@operation(
    summary="Send one of the organization's events to this endpoint (again)",
    tags=["webhooks"],
    body=Replay,
    response=DeliveryPublic,
    status=202,
    scopes=SCOPES,
    errors=WRITE_ERRORS,
)
def replay_event(principal: Principal, endpoint_id: str, body: Replay) -> Rendered:
    delivery = endpoints.replay(
        get_session(), org_id=principal.org_id, endpoint_id=endpoint_id, event_id=body.event_id
    )
    return _replayed(delivery)


@bp.get("/v1/webhook-events")
@operation(
    summary="List the organization's events (the outbox), oldest first",
    tags=["webhooks"],
    query=EventListQuery,
    response=EventList,
    scopes=SCOPES,
    errors=READ_ERRORS,
)
def list_events(principal: Principal, query: EventListQuery) -> EventList:
    page = endpoints.list_events(
        get_session(),
        org_id=principal.org_id,
        event_type=query.type,
        cursor=query.cursor,
        limit=query.limit,
    )
    return EventList(
        items=[EventPublic.of(e.id, e.type, e.created_at, e.body) for e in page.items],
        next_cursor=page.next_cursor,
    )
