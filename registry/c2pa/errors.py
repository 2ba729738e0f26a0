"""What can go wrong reading or signing C2PA data, in the registry's own error classes."""

from __future__ import annotations

from registry.errors import InternalError, RegistryError
from registry.intake.errors import MalformedMedia


class ManifestUnreadable(MalformedMedia):
    """A file whose container or C2PA data cannot be read, so no manifest report exists (422)."""

    slug = "manifest-unreadable"
    title = "The C2PA manifest of the file cannot be read"


class ManifestSigningFailed(InternalError):
    """Signing failed for a reason on our side: credential, manifest definition, disk (500)."""

    slug = "signing-failed"
    title = "Signing the media failed"


class MediaOverBudget(RegistryError):
    """Reading or signing the file needed more time or memory than its budget (422).

    ``limit`` says which (``time`` or ``memory``). The budget grows with the file's size
    (``registry.c2pa.budget.Budget``), so a real file does not reach it: the file is built to
    be costly, or the service is badly overloaded. Nothing was stored.
    """

    status = 422
    slug = "media-over-budget"
    title = "The file needs more time or memory to process than allowed"
