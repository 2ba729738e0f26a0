"""The HTTP side of the metrics: the per-request hooks and ``/metrics``.

``registry/metrics.py`` holds the series (no Flask: services import it); this module counts
requests by method, route template and status with a latency histogram (before/after-request
hooks), and serves the samples: summed over gunicorn's processes in multi-process mode
(``PROMETHEUS_MULTIPROC_DIR``, set by ``infra/gunicorn.conf.py``), with the gauges read at
scrape time (outbox depth, status-list token ages) and the answering worker's and the
master's process metrics. ``/metrics`` needs ``Authorization: Bearer <REGISTRY_METRICS_TOKEN>``
when that is set; in production without it the route answers 404. The gauges and process
metrics are served here only: the master's separate port (``REGISTRY_METRICS_BIND``) holds
the workers' counters and histograms.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any, cast

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlmodel import col

from registry.db import READ_ONLY, utcnow
from registry.errors import NotFound, Unauthorized
from registry.metrics import HTTP_LATENCY, HTTP_REQUESTS, summed_registry
from registry.state import app_state, state_of
from registry.webhooks.models import WebhookDelivery

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # the route label of requests no rule matched (404s, 405s)


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
        state = state_of(self.app)
        depth = GaugeMetricFamily(
            "registry_outbox_depth", "Webhook deliveries waiting to be sent (state pending)"
        )
        oldest = GaugeMetricFamily(
            "registry_outbox_oldest_due_seconds",
            "How long the most overdue pending webhook delivery has been due (0: none)",
        )
        now = utcnow()
        query = sa.select(sa.func.count(), sa.func.min(col(WebhookDelivery.next_attempt_at))).where(
            col(WebhookDelivery.state) == "pending"
        )
        # Read-only: on SQLite a scrape must not queue behind writers (BEGIN IMMEDIATE).
        with state.database.engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            count, earliest = connection.execute(query).one()
        depth.add_metric([], float(count))
        # UTCDateTime's result processing applies to min() too: earliest is aware.
        overdue = (now - earliest).total_seconds() if earliest is not None else 0.0
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


class _MasterProcess(ProcessCollector):
    """The gunicorn master's process metrics (its pid is the worker's parent)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(namespace="registry_master", pid=os.getppid, registry=registry)


def registry_for_scrape(app: Flask) -> CollectorRegistry:
    """The samples of every process (multiprocess mode) or of this one, and the scrape-time
    gauges of ``app``."""
    if os.environ.get(MULTIPROC_ENV):
        registry = summed_registry()
        ProcessCollector(registry=registry)  # the worker answering
        _MasterProcess(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
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
