"""When to try a failed delivery again: exponential backoff with jitter, up to a cap.

Attempt n (1-based) failed: wait ``BASE x FACTOR^(n-1)`` seconds, at most ``CAP``, times a
random factor in [1 - JITTER, 1 + JITTER]. With these numbers each wait is at least twice the
one before until the cap (3 x 0.8 / 1.2 = 2), and a delivery is tried about 11 times in its
first 24 hours. A ``Retry-After`` the receiver sent is honoured when it asks for longer.
"""

from __future__ import annotations

import random
from datetime import timedelta

BASE_SECONDS = 5.0
FACTOR = 3.0
CAP_SECONDS = 10 * 3600.0
JITTER = 0.2


def retry_delay(
    attempts: int, rng: random.Random, *, retry_after: float | None = None
) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    exponent = min(max(attempts, 1) - 1, 32)
    seconds = min(BASE_SECONDS * FACTOR**exponent, CAP_SECONDS)
    seconds *= rng.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, CAP_SECONDS))
    return timedelta(seconds=seconds)
