"""Refusals of signing: a cited grant that does not cover the use, or an unknown asset."""

from __future__ import annotations

from typing import Any

from registry.errors import NotFound, RegistryError


class GrantUseRefused(RegistryError):
    """A cited grant does not cover this use (422); ``grant_id`` and ``reason`` say which/why."""

    status = 422
    slug = "grant-use-refused"
    title = "A cited grant does not allow this use"

    def __init__(self, detail: str, *, grant_id: str, **extensions: Any) -> None:
        super().__init__(detail, grant_id=grant_id, reason=self.slug, **extensions)


class GrantRevoked(GrantUseRefused):
    slug = "grant-revoked"
    title = "A cited grant has been revoked"


class GrantExpired(GrantUseRefused):
    slug = "grant-expired"
    title = "A cited grant has expired"


class GrantNotYetValid(GrantUseRefused):
    slug = "grant-not-yet-valid"
    title = "A cited grant is not valid yet"


class GrantSuspended(GrantUseRefused):
    slug = "grant-suspended"
    title = "A cited grant is suspended"


class GrantSuperseded(GrantUseRefused):
    slug = "grant-superseded"
    title = "A cited grant was superseded by a newer version"


class GrantOutOfScope(GrantUseRefused):
    slug = "grant-out-of-scope"
    title = "The use is outside a cited grant's scope"


class CitedGrantNotFound(GrantUseRefused):
    slug = "grant-not-found"
    title = "A cited grant does not exist"


class MediaNotFound(NotFound):
    slug = "media-not-found"
    title = "Media asset not found"


class GrantPendingConfirmation(GrantUseRefused):
    slug = "grant-pending-confirmation"
    title = "A cited grant waits for the person's confirmation"


class GrantDeclined(GrantUseRefused):
    slug = "grant-declined"
    title = "The person declined a cited grant"


class SubjectDeclaredDoNotSynthesize(GrantUseRefused):
    slug = "grant-subject-declared-do-not-synthesize"
    title = "The person has declared do_not_synthesize and has not confirmed this grant"


class MediaNotStored(NotFound):
    """The asset was signed where it lives (a signing session): the registry has no bytes."""

    slug = "media-not-stored"
    title = "The registry holds no bytes of this media (it was signed without uploading)"
