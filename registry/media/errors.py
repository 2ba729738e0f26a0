"""Errors of the media package: what a client did wrong with a file, or what failed signing it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from registry.errors import RegistryError, UnsupportedMediaType


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


class ManifestSigningFailed(RegistryError):
    """Signing failed for a reason on our side: credential, manifest definition, disk (500)."""

    status = 500
    slug = "signing-failed"
    title = "Signing the media failed"
