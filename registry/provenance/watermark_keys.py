"""The watermark's key: what the mark carries, without the libraries that embed or read it.

Kept apart from ``watermark`` (OpenCV and blind-watermark, ~0.6 s of CPU and ~100 MB to
import) so that a gunicorn worker, which only derives keys and checks binding values, never
loads them; embedding and reading run in the c2pa helpers (``provenance.jobs``).
"""

from __future__ import annotations

import hashlib
import hmac

KEY_BYTES = 8


def watermark_key(asset_id: str, secret: bytes) -> bytes:
    """The 8-byte key for an asset: HMAC-SHA256 of its id under the server's secret."""
    if not secret:
        raise ValueError("the watermark secret must not be empty")
    mac = hmac.new(secret, b"registry-watermark-key/v1:" + asset_id.encode(), hashlib.sha256)
    return mac.digest()[:KEY_BYTES]
