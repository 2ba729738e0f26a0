"""Identifiers: time-ordered UUIDs (RFC 9562 version 7) so that ids sort by creation."""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
import uuid

_last = 0
_lock = threading.Lock()


def new_id() -> str:
    """A new UUIDv7 string; sorts by creation time, which cursor pagination and the order of
    events written in one transaction rely on.

    ``rand_a`` holds the sub-millisecond fraction of the clock (RFC 9562, 6.2, method 3) and
    an id never sorts before the last one this process made (a same-tick id is the last + 1):
    with 12 random bits there, two ids of one millisecond came out in either order.
    """
    global _last
    millis, nanos = divmod(time.time_ns(), 1_000_000)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (nanos * 4096 // 1_000_000) << 64  # rand_a: the fraction of the millisecond
    value |= 0b10 << 62  # variant
    value |= int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)  # rand_b
    with _lock:
        if value <= _last:
            value = _last + 1
        _last = value
    return str(uuid.UUID(int=value))


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def is_uuid(text: str) -> bool:
    """Whether ``text`` is a canonical UUID string (ids from the URL are checked before SQL)."""
    return isinstance(text, str) and _CANONICAL_UUID.fullmatch(text) is not None


def new_token(prefix: str, nbytes: int = 32) -> str:
    """A random URL-safe token with a readable prefix (client ids, secrets, pseudonyms)."""
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"
