"""Prometheus metrics (``prometheus-client``): every series, declared once.

This module holds the series and what feeds them, and imports nothing from Flask or the rest
of the registry, so that services, storage and the worker may count.
``registry/metrics_http.py`` counts requests and serves ``/metrics``. Under gunicorn each
worker is a process of its own: ``infra/gunicorn.conf.py`` points ``PROMETHEUS_MULTIPROC_DIR``
at a directory before the workers start, every process writes its samples there, and a
scrape adds them up across the processes; a worker that exits is marked dead by gunicorn's
``child_exit`` hook. Without that variable (tests, the CLI) the samples live in the
process's own registry.

What is counted, and where:

- HTTP requests by method, route template and status, with a latency histogram
  (``metrics_http``'s hooks).
- Signing and verification: durations and bytes by media type (``work_done``, called by
  ``media.services.sign_and_store`` and ``verification.services.verify_file``).
- Refusals by problem type: wherever a problem is rendered (``registry/http_errors.py``).
- Tokens issued (``auth.tokens.issue_access_token``, ``consent.tokens``), rate-limit refusals
  by limit (``registry/ratelimit.py``), database errors (``registry/db.py``'s
  ``handle_error``) and storage errors (``registry/storage/s3.py``'s one conversion).
- Webhook deliveries by outcome (``registry/webhooks/worker.py``); at scrape time the
  outbox's depth and the age of each status list's signed token (``metrics_http``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
    start_http_server,
)

P = ParamSpec("P")
R = TypeVar("R")

# Latency buckets from a no-op (~1 ms) to signing a large file (minutes).
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_WORK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

HTTP_REQUESTS = Counter(
    "registry_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "registry_http_request_duration_seconds",
    "Time from the first before-request hook to the response, by method and route template",
    ["method", "route"],
    buckets=_HTTP_BUCKETS,
)
SIGNING_SECONDS = Histogram(
    "registry_signing_duration_seconds",
    "Watermarking, fingerprinting, signing and storing one file, by media type",
    ["media_type"],
    buckets=_WORK_BUCKETS,
)
SIGNING_BYTES = Counter(
    "registry_signing_bytes", "Bytes of the files signed, by media type", ["media_type"]
)
VERIFICATION_SECONDS = Histogram(
    "registry_verification_duration_seconds",
    "Verifying one file (manifest, grants, recovery), by media type",
    ["media_type"],
    buckets=_WORK_BUCKETS,
)
VERIFICATION_BYTES = Counter(
    "registry_verification_bytes", "Bytes of the files verified, by media type", ["media_type"]
)
PROBLEMS = Counter(
    "registry_problems",
    "Problem responses (refusals and failures), by problem type slug and status",
    ["type", "status"],
)
TOKENS_ISSUED = Counter("registry_tokens_issued", "Access tokens issued", ["kind"])
RATE_LIMITED = Counter(
    "registry_rate_limit_rejections", "Requests refused by a rate or cost limit", ["limit"]
)
DATABASE_ERRORS = Counter(
    "registry_database_errors",
    "Database errors by exception class (OperationalError: answered 503)",
    ["kind"],
)
STORAGE_ERRORS = Counter(
    "registry_storage_errors", "Media storage (S3) errors, by the error they became", ["kind"]
)
WEBHOOK_DELIVERIES = Counter(
    "registry_webhook_deliveries",
    "Webhook delivery attempts by outcome (delivered, refused, unreachable, gone)",
    ["outcome"],
)


def media_type_label(mime_type: str | None) -> str:
    """A bounded label: the sniffed MIME type's shape only (``image/png``), never a header."""
    if not mime_type or len(mime_type) > 64 or "/" not in mime_type:
        return "unknown"
    return mime_type.split(";", 1)[0].strip().lower()


def work_done(
    seconds: Histogram, bytes_: Counter, *, mime_type: str | None, size: int, started: float
) -> None:
    """One file signed or verified: the seconds since ``started`` (``time.perf_counter()``)
    and its bytes, by media type (``sign_and_store`` and ``verify_file`` call it last)."""
    media_type = media_type_label(mime_type)
    seconds.labels(media_type).observe(time.perf_counter() - started)
    bytes_.labels(media_type).inc(size)


def summed_registry() -> CollectorRegistry:
    """The samples of every process writing to ``PROMETHEUS_MULTIPROC_DIR``, added up."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def serve(bind: str, registry: CollectorRegistry | None = None) -> None:
    """Serve ``registry`` (None: this process's default one) over HTTP on ``bind``
    (``host:port``, loopback without a host), from a daemon thread: the gunicorn master's
    ``REGISTRY_METRICS_BIND`` and the worker's ``REGISTRY_WORKER_METRICS_BIND``."""
    host, _, port = bind.rpartition(":")
    start_http_server(
        int(port), addr=host or "127.0.0.1", registry=REGISTRY if registry is None else registry
    )


def counted_token(kind: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Counts each token a function returns."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        counter = TOKENS_ISSUED.labels(kind)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            result = func(*args, **kwargs)
            counter.inc()
            return result

        return wrapper

    return decorate
