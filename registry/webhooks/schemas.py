"""API shapes of webhook endpoints, deliveries and events."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from registry.pagination import PageQuery
from registry.webhooks.events import EVENT_TYPES
from registry.webhooks.signing import message_id

EventType = Annotated[str, Field(max_length=64, json_schema_extra={"enum": list(EVENT_TYPES)})]
Url = Annotated[str, Field(min_length=1, max_length=2000)]
Description = Annotated[str, Field(max_length=200)]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class EndpointCreate(RequestModel):
    url: Url
    event_types: list[EventType] = Field(
        default_factory=list,
        max_length=len(EVENT_TYPES),
        description="The event types delivered here; empty: every type",
    )
    description: Description = ""


class EndpointUpdate(RequestModel):
    url: Url | None = None
    event_types: list[EventType] | None = Field(default=None, max_length=len(EVENT_TYPES))
    description: Description | None = None
    enabled: bool | None = None


class EndpointPublic(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointPublic):
    secret: str = Field(
        description="whsec_...: verifies the webhook-signature header (Standard Webhooks); "
        "shown only now"
    )


class EndpointList(BaseModel):
    items: list[EndpointPublic]
    next_cursor: str | None


class Attempt(BaseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryPublic(BaseModel):
    id: str
    event_id: str
    webhook_id: str = Field(description="The webhook-id header of every attempt")
    event_type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: list[Attempt]
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]
    next_cursor: str | None


class Replay(RequestModel):
    event_id: Annotated[str, Field(min_length=1, max_length=36)]


class EventPublic(BaseModel):
    id: str
    webhook_id: str
    type: str
    created_at: datetime
    payload: dict[str, Any] = Field(description="The body sent: {type, timestamp, data}")

    @classmethod
    def of(cls, event_id: str, event_type: str, created_at: datetime, body: str) -> EventPublic:
        return cls(
            id=event_id,
            webhook_id=message_id(event_id),
            type=event_type,
            created_at=created_at,
            payload=json.loads(body),
        )


class EventList(BaseModel):
    items: list[EventPublic]
    next_cursor: str | None


class EventListQuery(PageQuery):
    type: EventType | None = None
