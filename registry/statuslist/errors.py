"""Refusals of the status-list endpoints."""

from __future__ import annotations

from registry.errors import NotFound


class StatusListNotFound(NotFound):
    slug = "status-list-not-found"
    title = "No such status list"
