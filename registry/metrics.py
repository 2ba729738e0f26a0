"""Prometheus metrics (``prometheus-client``), served at ``/metrics``.

Every series is declared here, once. Under gunicorn each worker is a process of its own:
``infra/gunicorn.conf.py`` points ``PROMETHEUS_MULTIPROC_DIR`` at a directory before the
workers start, every process writes its samples there (memory-mapped files), and a scrape
adds them up across the processes (``MultiProcessCollector``); a worker that exits is marked
dead by gunicorn's ``child_exit`` hook. Without that variable (tests, the CLI) the samples
live in the process's own registry.

What is counted, and where:

- HTTP requests by method, route template (Flask's ``url_rule``, never the raw path) and
  status, with a latency histogram: the before/after-request hooks below.
- Signing and verification: durations and bytes by media type (decorators on
  ``media.services.sign_and_store`` and ``verification.services.verify_file``).
- Refusals by problem type: wherever a problem is rendered (``registry/http_errors.py``).
- Access tokens issued (``auth.tokens.issue_access_token``), rate-limit refusals by limit
  (``registry/ratelimit.py``), database errors (``registry/db.py``'s ``handle_error``) and
  storage errors (``registry/storage/s3.py``'s one conversion).
- Webhook deliveries by outcome (``registry/webhooks/worker.py``), and at scrape time the
  outbox's depth (due deliveries) and the age of each status list's signed token.
- Process metrics (CPU, memory, file descriptors) of the worker that answers the scrape,
  and of the gunicorn master (``registry_master_*``) when there is one.

``/metrics`` needs ``Authorization: Bearer <REGISTRY_METRICS_TOKEN>`` when that is set; in
production without it the route answers 404 (scrape the separate bind of
``REGISTRY_METRICS_BIND`` instead, see docs/operations.md).
"""

from __future__ import annotations

import functools
import hmac
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar, cast

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from registry.errors import NotFound, Unauthorized

P = ParamSpec("P")
R = TypeVar("R")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # the route label of requests no rule matched (404s, 405s)

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
    "registry_database_errors", "Database operational errors (answered 503)", ["kind"]
)
STORAGE_ERRORS = Counter(
    "registry_storage_errors", "Media storage (S3) errors, by the error they became", ["kind"]
)
WEBHOOK_DELIVERIES = Counter(
    "registry_webhook_deliveries",
    "Webhook delivery attempts by outcome (delivered, retry, gone, failed)",
    ["outcome"],
)


def media_type_label(mime_type: str | None) -> str:
    """A bounded label: the sniffed MIME type's shape only (``image/png``), never a header."""
    if not mime_type or len(mime_type) > 64 or "/" not in mime_type:
        return "unknown"
    return mime_type.split(";", 1)[0].strip().lower()


def timed_signing(func: Callable[P, R]) -> Callable[P, R]:
    """Decorates ``sign_and_store(plan, *, signing, source, workdir)``."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        result = func(*args, **kwargs)
        plan = args[0] if args else kwargs.get("plan")
        media_format = getattr(plan, "media_format", None)
        media_type = media_type_label(getattr(media_format, "mime_type", None))
        SIGNING_SECONDS.labels(media_type).observe(time.perf_counter() - started)
        source = kwargs.get("source")
        SIGNING_BYTES.labels(media_type).inc(getattr(source, "size", 0))
        return result

    return wrapper


def timed_verification(func: Callable[P, R]) -> Callable[P, R]:
    """Decorates ``verify_file(session, *, verifier, source, ...)``: its result names the type."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        result = func(*args, **kwargs)
        media_type = media_type_label(getattr(result, "mime_type", None))
        VERIFICATION_SECONDS.labels(media_type).observe(time.perf_counter() - started)
        VERIFICATION_BYTES.labels(media_type).inc(getattr(kwargs.get("source"), "size", 0))
        return result

    return wrapper


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


# --- HTTP --------------------------------------------------------------------------------


def _start() -> None:
    g.metrics_started = time.perf_counter()


# The labelled children by their labels: ``labels()`` validates and locks on every call,
# which costs as much again as the sample itself (benchmarks/instrumentation.py). The keys
# are bounded: methods, route templates and status codes.
_latency_children: dict[tuple[str, str], Any] = {}
_request_children: dict[tuple[str, str, int], Any] = {}


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is None:
        return response
    elapsed = time.perf_counter() - started
    rule = request.url_rule
    route = rule.rule if rule is not None else UNMATCHED
    method = request.method if request.method in _METHODS else "other"
    latency = _latency_children.get((method, route))
    if latency is None:
        latency = _latency_children[(method, route)] = HTTP_LATENCY.labels(method, route)
    latency.observe(elapsed)
    status = response.status_code
    counter = _request_children.get((method, route, status))
    if counter is None:
        counter = _request_children[(method, route, status)] = HTTP_REQUESTS.labels(
            method, route, str(status)
        )
    counter.inc()
    return response


# --- /metrics ----------------------------------------------------------------------------


class _ScrapeTime(Collector):
    """Gauges read when scraped: the outbox's depth and the status lists' token ages."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterable[GaugeMetricFamily]:
        from registry.state import state_of
        from registry.webhooks.models import WebhookDelivery

        state = state_of(self.app)
        depth = GaugeMetricFamily(
            "registry_outbox_depth", "Webhook deliveries waiting to be sent (state pending)"
        )
        oldest = GaugeMetricFamily(
            "registry_outbox_oldest_due_seconds",
            "How long the most overdue pending webhook delivery has been due (0: none)",
        )
        import sqlalchemy as sa
        from sqlmodel import col

        from registry.db import utcnow

        now = utcnow()
        query = sa.select(sa.func.count(), sa.func.min(col(WebhookDelivery.next_attempt_at))).where(
            col(WebhookDelivery.state) == "pending"
        )
        with state.database.engine.connect() as connection:
            count, earliest = connection.execute(query).one()
        depth.add_metric([], float(count))
        overdue = (now - _aware(earliest)).total_seconds() if earliest is not None else 0.0
        oldest.add_metric([], max(0.0, overdue))
        yield depth
        yield oldest
        ages = GaugeMetricFamily(
            "registry_status_list_token_age_seconds",
            "Age of the newest signed token of each status list this worker serves",
            labels=["list"],
        )
        for list_id, issued in state.status_lists.issued_at().items():
            ages.add_metric([str(list_id)], max(0.0, time.time() - issued))
        yield ages


def _aware(moment: Any) -> Any:
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class _MasterProcess(ProcessCollector):
    """The gunicorn master's process metrics (its pid is the worker's parent)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(namespace="registry_master", pid=os.getppid, registry=registry)


def registry_for_scrape(app: Flask | None) -> CollectorRegistry:
    """The samples of every process (multiprocess mode) or of this one, and the scrape-time
    gauges of ``app``."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        ProcessCollector(registry=registry)  # the worker answering
        _MasterProcess(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    if app is not None:
        registry.register(_ScrapeTime(app))
    return registry


class _Default(Collector):
    """The process's own default registry (its series and the standard process metrics)."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    from flask import current_app

    from registry.state import app_state

    settings = app_state().settings
    token = settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("/metrics needs the metrics bearer token")
    elif settings.env == "production":
        raise NotFound(f"nothing at {request.path}")
    body = generate_latest(registry_for_scrape(cast(Flask, current_app)))
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_observe)
    app.register_blueprint(bp)
