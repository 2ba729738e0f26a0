"""Rate limits: per client address, checked by the views that carry them. ``AddressRateLimit``
counts requests; ``AddressCostLimit`` counts a cost (bytes, c2pa milliseconds) and
``AnonymousVerifyCost`` holds the two that anonymous verification spends.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import limits
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from registry.errors import PayloadTooLarge, TooManyRequests
from registry.metrics import RATE_LIMITED

SCHEME = "registry-memory"


class AddressRateLimit:
    """At most ``rate`` (``"30/minute"``) per client address, counted in a fixed window.

    The counts live in the configured storage: memory for one process, Redis to share them
    across workers and hosts (``key_prefix`` separates deployments that share one Redis).
    """

    def __init__(
        self,
        rate: str,
        *,
        storage: str,
        key_prefix: str,
        scope: str,
        refusal: str = "from one address without an access token",
        advice: str = "try again later or use a token",
    ) -> None:
        self.item = limits.parse(rate)
        self._refusal, self._advice = refusal, advice
        self.storage = storage_from_string(storage_uri(storage))
        self._strategy = FixedWindowRateLimiter(self.storage)
        self._identifiers = (key_prefix, scope)

    def hit(self, address: str) -> None:
        """Count one request from ``address``; :class:`TooManyRequests` once the limit is spent."""
        if self._strategy.hit(self.item, *self._identifiers, address):
            return
        RATE_LIMITED.labels(self._identifiers[1]).inc()
        stats = self._strategy.get_window_stats(self.item, *self._identifiers, address)
        raise TooManyRequests(
            f"too many requests {self._refusal} (at most {self.item}); {self._advice}",
            retry_after=max(1, math.ceil(stats.reset_time - time.time())),
        )


class AddressCostLimit:
    """At most ``amount`` units of a cost (bytes, milliseconds of c2pa work) per client address
    and minute, in a fixed window in the configured storage.

    Requests do not all cost the same: a 2 GB upload or a file that keeps c2pa busy for
    seconds costs thousands of small ones. ``admit`` checks that ``cost`` still fits (without
    spending it); ``charge`` spends it, whether or not it fits (what was done was done), so the
    next ``admit`` from that address is refused until the window ends.
    """

    def __init__(
        self, amount: int, *, unit: str, storage: str, key_prefix: str, scope: str
    ) -> None:
        self.item = limits.RateLimitItemPerMinute(amount)
        self.unit = unit
        self.storage = storage_from_string(storage_uri(storage))
        self._strategy = FixedWindowRateLimiter(self.storage)
        self._identifiers = (key_prefix, scope)

    @property
    def amount(self) -> int:
        return int(self.item.amount)

    def admit(self, address: str, cost: int = 1) -> None:
        """:class:`TooManyRequests` unless ``cost`` more fits in this window."""
        if self._strategy.test(self.item, *self._identifiers, address, cost=max(1, cost)):
            return
        RATE_LIMITED.labels(self._identifiers[1]).inc()
        stats = self._strategy.get_window_stats(self.item, *self._identifiers, address)
        raise TooManyRequests(
            f"too much work for one address without an access token (at most {self.amount} "
            f"{self.unit} per minute); try again later or use a token",
            retry_after=max(1, math.ceil(stats.reset_time - time.time())),
        )

    def charge(self, address: str, cost: int) -> None:
        """Spend ``cost`` (nothing when it is 0)."""
        if cost > 0:
            self._strategy.hit(self.item, *self._identifiers, address, cost=cost)


class AnonymousVerifyCost:
    """What anonymous verification may spend besides requests: per address and minute, bytes
    of upload and milliseconds of c2pa work; per worker process, at most ``concurrent`` at
    once (see the views in registry/verification).

    The last keeps them from holding every thread of a gthread worker: /healthz, signed-in
    callers and the status reads need some. Slots are per process (the threads are); an
    address that finds none free gets a 429 at once.
    """

    def __init__(
        self,
        *,
        upload_bytes: AddressCostLimit,
        c2pa_milliseconds: AddressCostLimit,
        concurrent: int,
    ) -> None:
        self.upload_bytes = upload_bytes
        self.c2pa_milliseconds = c2pa_milliseconds
        self.concurrent = concurrent
        self._slots = threading.BoundedSemaphore(concurrent)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One of the worker's slots for anonymous verifications, or :class:`TooManyRequests`."""
        if not self._slots.acquire(blocking=False):
            RATE_LIMITED.labels("anonymous-verify-concurrency").inc()
            raise TooManyRequests(
                f"this server is verifying {self.concurrent} files without an access token "
                "already; try again in a moment or use a token",
                retry_after=1,
            )
        try:
            yield
        finally:
            self._slots.release()

    def admit(self, address: str, *, content_length: int | None) -> bool:
        """Check both budgets before the body is read; a declared length is charged now.

        Charging the Content-Length up front (rather than after reading) keeps concurrent
        uploads from one address from all passing the check before any is counted. A body
        larger than the whole budget can never fit: :class:`PayloadTooLarge`. True when the
        bytes were charged; otherwise the caller charges what it read (``charge``).
        """
        if content_length is not None and content_length > self.upload_bytes.amount:
            raise PayloadTooLarge(
                f"without an access token, files may be at most {self.upload_bytes.amount} "
                "bytes; use a token for larger ones"
            )
        self.c2pa_milliseconds.admit(address)
        self.upload_bytes.admit(address, content_length or 1)
        if content_length is None:
            return False
        self.upload_bytes.charge(address, content_length)
        return True

    def charge(self, address: str, *, upload_bytes: int = 0, c2pa_seconds: float = 0.0) -> None:
        """Spend what a verification used after the fact."""
        self.upload_bytes.charge(address, upload_bytes)
        self.c2pa_milliseconds.charge(address, math.ceil(c2pa_seconds * 1000))


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
