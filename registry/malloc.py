"""glibc malloc, tuned for c2pa's large buffers, for the gunicorn workers and the c2pa helpers.

Signing a file allocates and frees buffers of several times its size. By default each one
above 32 MiB (and, on a request thread's arena, above 64 MiB) is a fresh mmap that the kernel
must fault in and zero: ~200,000 page faults for a 115 MB WAV, most of its signing time. With
one arena and no mmap, a freed buffer is reused by the next one (85,000 faults; signing
0.69 s -> 0.49 s). Freed memory goes back to the system only when asked (``Heap.release``,
after a request or a call that left more than ``RELEASE_ABOVE`` bytes free: mallinfo2, then
malloc_trim, ~2 ms). The price: a growing buffer that cannot grow in place is copied rather
than remapped, so a signing now and then peaks higher (seen: +60 MB for a 100 MiB MP4, about
one signing in eight). ``REGISTRY_MALLOC_TUNING=0`` turns this off.

Imports nothing from the registry: the c2pa helper process loads it without the package.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any

_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8
RELEASE_ABOVE = 4 * 1024 * 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


class Heap:
    """The tuned heap of this process (see the module docstring)."""

    def __init__(self, libc: Any) -> None:
        self._libc = libc

    def release(self) -> None:
        """Give freed memory back to the system when more than ``RELEASE_ABOVE`` is free."""
        if self._libc.mallinfo2().fordblks > RELEASE_ABOVE:
            self._libc.malloc_trim(0)


def tune() -> Heap | None:
    """Tune this process's heap before its threads exist; None where there is nothing to tune
    (not glibc, glibc older than 2.33, or REGISTRY_MALLOC_TUNING=0)."""
    if os.environ.get("REGISTRY_MALLOC_TUNING", "1") == "0":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_ARENA_MAX, 1)  # before the request threads exist, so all share it
        libc.mallopt(_M_MMAP_MAX, 0)
        libc.mallopt(_M_TRIM_THRESHOLD, 1024 * 1024 * 1024)  # released by Heap.release
        libc.malloc_trim  # noqa: B018 - present, or AttributeError
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        return None
    return Heap(libc)
