"""gunicorn settings for `make run` and production (override with GUNICORN_* / REGISTRY_*)."""

import ctypes
import os

port = os.environ.get("REGISTRY_PORT", "8000")
bind = [os.environ.get("REGISTRY_BIND", f"127.0.0.1:{port}")]
worker_class = "gthread"
workers = int(os.environ.get("REGISTRY_WORKERS", "1"))
# A thread serves one request at a time. In production nginx buffers request bodies before
# gunicorn sees them (infra/nginx/); without it, a client that stops sending its body holds a
# thread for REGISTRY_BODY_READ_TIMEOUT seconds at most (registry/body_deadline.py).
threads = int(os.environ.get("REGISTRY_THREADS", "8"))
reuse_port = True
# Large media uploads take a while on slow links.
timeout = int(os.environ.get("REGISTRY_WORKER_TIMEOUT", "300"))
keepalive = 5
accesslog = os.environ.get("REGISTRY_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("REGISTRY_LOG_LEVEL", "info")


def when_ready(server):  # type: ignore[no-untyped-def]
    base = f"http://{bind[0]}"
    server.log.info("Consent Registry is serving on %s", base)
    print(
        f"\n  Consent Registry: {base}\n"
        f"    verify     {base}/verify  (drop a file, see its verdict)\n"
        f"    API docs   {base}/docs\n"
        f"    OpenAPI    {base}/openapi.json\n"
        f"    JWKS       {base}/.well-known/jwks.json\n"
        f"    health     {base}/healthz  {base}/readyz\n",
        flush=True,
    )


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    import sys

    # A thread back from a database round trip waits for the GIL up to the switch interval
    # (5 ms by default); with many threads that wait dominates tail latency.
    sys.setswitchinterval(float(os.environ.get("REGISTRY_GIL_SWITCH_INTERVAL", "0.0005")))
    if os.environ.get("REGISTRY_MALLOC_TUNING", "1") != "0":
        _tune_malloc()


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    import gc

    # The loaded app is ~110,000 long-lived objects (modules, models, c2pa's bindings). A full
    # collection walks all of them (~40 ms here) while every thread of the worker waits; frozen,
    # collections walk only what requests create.
    gc.collect()
    gc.freeze()


# glibc malloc, tuned for c2pa. Signing a file allocates and frees buffers of several times its
# size. By default each one above 32 MiB (and, on a request thread's arena, above 64 MiB) is a
# fresh mmap that the kernel must fault in and zero: ~200,000 page faults for a 115 MB WAV, most
# of its signing time. With one arena and no mmap, a freed buffer is reused by the next one
# (85,000 faults; signing 0.69 s -> 0.49 s). Freed memory goes back to the system after any
# POST that left more than _RELEASE_ABOVE bytes free in the heap (mallinfo2; malloc_trim costs
# ~2 ms, in post_request: after the response is sent), so the idle worker is smaller than
# without this. The price: a growing buffer that cannot grow in place is copied rather
# than remapped, so a signing now and then peaks higher (seen: +60 MB for a 100 MiB MP4, about
# one signing in eight). REGISTRY_MALLOC_TUNING=0 turns this off.
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8
_RELEASE_ABOVE = 4 * 1024 * 1024
_libc = None


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]


def _tune_malloc():  # type: ignore[no-untyped-def]
    global _libc
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_ARENA_MAX, 1)  # before the request threads exist, so all share it
        libc.mallopt(_M_MMAP_MAX, 0)
        libc.mallopt(_M_TRIM_THRESHOLD, 1024 * 1024 * 1024)  # trimmed in post_request
        libc.malloc_trim  # noqa: B018 - present, or AttributeError
        libc.mallinfo2.restype = _MallInfo2  # glibc >= 2.33
    except (OSError, AttributeError):  # not glibc (musl, macOS), or too old: nothing to tune
        return
    _libc = libc


_MEDIA_PATHS = ("/v1/media", "/v1/verify", "/verify")  # the requests that sign or verify files


def post_request(worker, req, environ, resp):  # type: ignore[no-untyped-def]
    # Only POSTs of media leave big buffers behind; other requests skip even the heap
    # statistics (mallinfo2 walks the free lists under the one arena's lock).
    media = environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").startswith(
        _MEDIA_PATHS
    )
    if media and _libc is not None and _libc.mallinfo2().fordblks > _RELEASE_ABOVE:
        _libc.malloc_trim(0)
