"""Refusals of watches and takedown notices (each a problem with its own ``type``)."""

from __future__ import annotations

from registry.errors import Conflict, NotFound, RegistryError


class WatchNotFound(NotFound):
    slug = "watch-not-found"
    title = "Watch not found"


class WatchTargetRequired(RegistryError):
    status = 422
    slug = "watch-target-required"
    title = "Give exactly one of manifest_id and sha256"


class WatchedMediaUnknown(RegistryError):
    status = 422
    slug = "watch-media-unknown"
    title = "The registry signed no media with this identifier"


class WatchExists(Conflict):
    slug = "watch-exists"
    title = "This organization already watches this media"


class TakedownNotFound(NotFound):
    slug = "takedown-not-found"
    title = "Takedown notice not found"


class TakedownAlreadyAcknowledged(Conflict):
    slug = "takedown-already-acknowledged"
    title = "The takedown notice was acknowledged already"
