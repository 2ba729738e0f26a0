"""What can go wrong reading or signing C2PA data, in the registry's own error classes."""

from __future__ import annotations

from registry.errors import InternalError
from registry.intake.errors import MalformedMedia


class ManifestUnreadable(MalformedMedia):
    """A file whose container or C2PA data cannot be read, so no manifest report exists (422)."""

    slug = "manifest-unreadable"
    title = "The C2PA manifest of the file cannot be read"


class ManifestSigningFailed(InternalError):
    """Signing failed for a reason on our side: credential, manifest definition, disk (500)."""

    slug = "signing-failed"
    title = "Signing the media failed"
