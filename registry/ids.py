"""Identifiers: time-ordered UUIDs (RFC 9562 version 7) so that ids sort by creation."""

from __future__ import annotations

import os
import re
import secrets
import time
import uuid


def new_id() -> str:
    """A new UUIDv7 string; sorts by creation time, which cursor pagination relies on."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 68) & 0xFFF) << 64  # rand_a
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b
    return str(uuid.UUID(int=value))


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def is_uuid(text: str) -> bool:
    """Whether ``text`` is a canonical UUID string (ids from the URL are checked before SQL)."""
    return isinstance(text, str) and _CANONICAL_UUID.fullmatch(text) is not None


def new_token(prefix: str, nbytes: int = 32) -> str:
    """A random URL-safe token with a readable prefix (client ids, secrets, pseudonyms)."""
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"
