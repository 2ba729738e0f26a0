"""What a client did wrong with a file it sent: the wrong kind, a broken one, a missing part."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from registry.errors import (
    BadRequest,
    Forbidden,
    RegistryError,
    UnsupportedMediaType,
    ValidationFailed,
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


class MissingUploadPart(BadRequest):
    slug = "missing-upload-part"
    title = "The multipart upload lacks a required part"


class ObjectOutsidePrefix(Forbidden):
    slug = "object-outside-prefix"
    title = "The object key is outside the organization's prefix"


class InvalidObjectKey(ValidationFailed):
    slug = "invalid-object-key"
    title = "The object key is not a valid storage key"


class MediaTooComplex(RegistryError):
    """The file is built from more boxes, chunks or segments, or nests them deeper, than real
    media ever does (422). ``registry.intake.structure`` counts them before c2pa sees the file:
    c2pa's cost grows with these counts (for MP4 with their square), not with the file's size.
    """

    status = 422
    slug = "media-too-complex"
    title = "The media file has more structure than the registry accepts"
