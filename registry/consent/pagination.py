"""Opaque cursors over time-ordered ids."""

from __future__ import annotations

import base64
import binascii

from registry.errors import ValidationFailed
from registry.ids import is_uuid


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The id a cursor points after; 422 for a cursor we did not issue."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed("query.cursor is not a cursor this API returned") from exc
    if not is_uuid(value):
        raise ValidationFailed("query.cursor is not a cursor this API returned")
    return value
