"""Rate-limit storage for one process: limits' memory storage, safe under request threads.

limits' ``MemoryStorage`` (5.8.0, the newest release here) restarts its expiry timer after a
check-then-act without a lock: two gthread request threads that hit the limiter just as the
timer ends both start the same ``threading.Timer``, and the second request fails with
"threads can only be started once" (a 500; alisaifee/limits#352, fixed upstream after that
release). Seen under load on anonymous ``POST /v1/verify`` with the embedded default storage.
The ``memory://`` setting maps to this class; Redis (production) is not affected.
"""

from __future__ import annotations

import threading
from typing import Any

from limits.storage import MemoryStorage

SCHEME = "registry-memory"


class ThreadSafeMemoryStorage(MemoryStorage):
    """``MemoryStorage`` whose expiry timer is checked and restarted under a lock."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - limits registers the scheme on class creation

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        self._timer_lock = threading.Lock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    # Overrides MemoryStorage.__schedule_expiry (name-mangled), which incr/acquire_entry call.
    def _MemoryStorage__schedule_expiry(self) -> None:
        with self._timer_lock:
            if not self.timer.is_alive():
                self.timer = threading.Timer(0.01, self._MemoryStorage__expire_events)  # type: ignore[attr-defined]
                self.timer.start()


def storage_uri(configured: str) -> str:
    """The limits storage URI for the configured one (``memory://`` becomes the safe class)."""
    if configured.startswith("memory://"):
        return SCHEME + configured[len("memory") :]
    return configured
