"""Errors of the media package: what a client did wrong with a file, or what failed signing it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from registry.errors import (
    BadRequest,
    Forbidden,
    InternalError,
    NotFound,
    RegistryError,
    UnsupportedMediaType,
    problem_class,
)


class UnsupportedMedia(UnsupportedMediaType):
    """The content is not one of the formats the registry can label (415).

    The problem lists the accepted MIME types in ``supported`` so a client can tell what to send.
    """

    title = "Unsupported media type"

    def __init__(
        self, detail: str | None = None, *, supported: Iterable[str] = (), **extensions: Any
    ) -> None:
        super().__init__(detail, supported=list(supported), **extensions)


class MalformedMedia(RegistryError):
    """The content claims a supported format but cannot be parsed as one (422).

    Empty, truncated and garbage files land here: the client sent a bad file, the service
    did not fail, so this is never a 500.
    """

    status = 422
    slug = "malformed-media"
    title = "The media file is malformed"


class ManifestUnreadable(MalformedMedia):
    """A file whose container or C2PA data cannot be read, so no manifest report exists (422)."""

    slug = "manifest-unreadable"
    title = "The C2PA manifest of the file cannot be read"


class ManifestSigningFailed(InternalError):
    """Signing failed for a reason on our side: credential, manifest definition, disk (500)."""

    slug = "signing-failed"
    title = "Signing the media failed"


class GrantUseRefused(RegistryError):
    """A cited grant does not cover this use (422); ``grant_id`` and ``reason`` say which/why."""

    status = 422
    slug = "grant-use-refused"
    title = "A cited grant does not allow this use"

    def __init__(self, detail: str, *, grant_id: str, **extensions: Any) -> None:
        super().__init__(detail, grant_id=grant_id, reason=self.slug, **extensions)


def _refusal(slug: str, title: str) -> type[GrantUseRefused]:
    return problem_class(GrantUseRefused, slug, title)


GrantRevoked = _refusal("grant-revoked", "A cited grant has been revoked")
GrantExpired = _refusal("grant-expired", "A cited grant has expired")
GrantNotYetValid = _refusal("grant-not-yet-valid", "A cited grant is not valid yet")
GrantSuspended = _refusal("grant-suspended", "A cited grant is suspended")
GrantSuperseded = _refusal("grant-superseded", "A cited grant was superseded by a newer version")
GrantOutOfScope = _refusal("grant-out-of-scope", "The use is outside a cited grant's scope")
CitedGrantNotFound = _refusal("grant-not-found", "A cited grant does not exist")


class MediaNotFound(NotFound):
    slug = "media-not-found"
    title = "Media asset not found"


class ObjectOutsidePrefix(Forbidden):
    slug = "object-outside-prefix"
    title = "The object key is outside the organization's prefix"


class MissingUploadPart(BadRequest):
    slug = "missing-upload-part"
    title = "The multipart upload lacks a required part"
