"""Rate limits: one limit per client address, checked by the views that carry it.

Anonymous verification calls :meth:`AddressRateLimit.hit` itself. flask-limiter, used
before, checks every request in global before- and after-request hooks; on this service that
cost about a quarter of a no-op request's CPU on every route without a limit, the public
grant status among them.

The embedded storage: limits' ``MemoryStorage`` (5.8.0, the newest release here) restarts its
expiry timer after a check-then-act without a lock: two gthread request threads that hit the
limiter just as the timer ends both start the same ``threading.Timer``, and the second request
fails with "threads can only be started once" (a 500; alisaifee/limits#352, fixed upstream
after that release). Seen under load on anonymous ``POST /v1/verify``. Its counts can also
be lost when one address's first hits arrive together (see the class). The ``memory://``
setting maps to :class:`ThreadSafeMemoryStorage`; Redis (production) is not affected.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import limits
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from registry.errors import TooManyRequests

SCHEME = "registry-memory"


class AddressRateLimit:
    """At most ``rate`` (``"30/minute"``) per client address, counted in a fixed window.

    The counts live in the configured storage: memory for one process, Redis to share them
    across workers and hosts (``key_prefix`` separates deployments that share one Redis).
    """

    def __init__(self, rate: str, *, storage: str, key_prefix: str, scope: str) -> None:
        self.item = limits.parse(rate)
        self.storage = storage_from_string(storage_uri(storage))
        self._strategy = FixedWindowRateLimiter(self.storage)
        self._identifiers = (key_prefix, scope)

    def hit(self, address: str) -> None:
        """Count one request from ``address``; :class:`TooManyRequests` once the limit is spent."""
        if self._strategy.hit(self.item, *self._identifiers, address):
            return
        stats = self._strategy.get_window_stats(self.item, *self._identifiers, address)
        raise TooManyRequests(
            f"too many requests from one address without an access token (at most {self.item}); "
            "try again later or use a token",
            retry_after=max(1, math.ceil(stats.reset_time - time.time())),
        )


class ThreadSafeMemoryStorage(MemoryStorage):
    """``MemoryStorage`` with every operation, the expiry timer's included, under one lock.

    Its per-key locks do not cover the read of the expiry that comes first: a thread that
    finds a new key unexpired (no expiry yet) drops the count another thread has just made, so
    concurrent first hits from one address are lost now and then. One lock per storage costs
    nothing measurable here: an anonymous verification does ~10 ms of other work per hit.
    """

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - limits registers the scheme on class creation

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        self._lock = threading.RLock()  # before the base class starts its first timer
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def under_lock(self: ThreadSafeMemoryStorage, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return under_lock


# Every method that reads or changes the counters, the events or the timer; the two
# name-mangled ones are what the base class and its timer call.
for _name in (
    "incr",
    "decr",
    "get",
    "get_expiry",
    "clear",
    "reset",
    "acquire_entry",
    "get_moving_window",
    "acquire_sliding_window_entry",
    "get_sliding_window",
    "clear_sliding_window",
    "_MemoryStorage__expire_events",
    "_MemoryStorage__schedule_expiry",
):
    setattr(ThreadSafeMemoryStorage, _name, _serialized(getattr(MemoryStorage, _name)))


def storage_uri(configured: str) -> str:
    """The limits storage URI for the configured one (``memory://`` becomes the safe class)."""
    if configured.startswith("memory://"):
        return SCHEME + configured[len("memory") :]
    return configured
