"""Refusals of the webhook endpoints API (each a problem with its own ``type``)."""

from __future__ import annotations

from registry.errors import Conflict, NotFound, RegistryError


class EndpointNotFound(NotFound):
    slug = "webhook-endpoint-not-found"
    title = "Webhook endpoint not found"


class DeliveryNotFound(NotFound):
    slug = "webhook-delivery-not-found"
    title = "Webhook delivery not found"


class EventNotFound(NotFound):
    slug = "webhook-event-not-found"
    title = "Webhook event not found"


class WebhookUrlRefused(RegistryError):
    status = 422
    slug = "webhook-url-refused"
    title = "This URL cannot receive webhooks"


class UnknownEventType(RegistryError):
    status = 422
    slug = "webhook-unknown-event-type"
    title = "Unknown event type"


class EndpointDisabled(Conflict):
    slug = "webhook-endpoint-disabled"
    title = "The webhook endpoint is disabled"
