"""What can go wrong computing fingerprints and watermarks, in the registry's error classes.

Vendor errors (Pillow, PyAV/FFmpeg, Chromaprint, OpenCV, NumPy) are converted where the
vendor is called, in ``fingerprints`` and ``watermark``; nothing else in the package sees them.
"""

from __future__ import annotations

from registry.errors import InternalError, RegistryError
from registry.intake.errors import MalformedMedia


class UndecodableMedia(MalformedMedia):
    """The file has a supported signature but its pictures or sound cannot be decoded (422)."""

    slug = "media-undecodable"
    title = "The media content cannot be decoded"


class FingerprinterUnavailable(InternalError):
    """A library the fingerprints need is missing from this installation (500).

    Chromaprint comes from Debian's ``libchromaprint1`` (``make media-tools``); this is a
    deployment fault, never the client's.
    """

    slug = "fingerprinter-unavailable"
    title = "Media fingerprinting is not available on this server"


class WatermarkNotEmbeddable(RegistryError):
    """The image cannot carry the watermark: too small, or the key did not read back (422).

    ``reason`` is ``too_small`` or ``not_readable`` (e.g. a flat or saturated picture). The
    caller may sign the file without a watermark.
    """

    status = 422
    slug = "watermark-not-embeddable"
    title = "The image cannot carry an invisible watermark"
