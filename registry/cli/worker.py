"""`registry worker` (webhook deliveries and the expiry job) and `registry webhooks test`.

Production runs the worker as its own process or container, as many as needed: on
PostgreSQL they share the work (``FOR UPDATE SKIP LOCKED``); on SQLite (development) run one.
SIGTERM or SIGINT lets the deliveries under way finish, then the worker exits.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from registry import logs
from registry.settings import Settings

log = logging.getLogger("registry.worker")

if TYPE_CHECKING:
    from types import FrameType

    from registry.webhooks.worker import WorkerConfig


def worker_config(settings: Settings) -> WorkerConfig:
    from registry.webhooks.worker import WorkerConfig

    return WorkerConfig(
        timeout=settings.webhook_timeout,
        lease=timedelta(seconds=settings.webhook_lease_seconds),
        retry_window=timedelta(hours=settings.webhook_retry_hours),
        disable_after=timedelta(hours=settings.webhook_disable_after_hours),
        concurrency=settings.worker_concurrency,
        poll_seconds=settings.worker_poll_seconds,
        allow_private=settings.webhook_allow_private_urls,
    )


@click.command("worker")
def worker() -> None:
    """Deliver webhooks (at least once, with retries) and announce expired grants."""
    import registry.models  # noqa: F401  (every table: foreign keys resolve)
    from registry.consent.status_entries import expire_due
    from registry.db import Database
    from registry.watches.expiry import announce_expired
    from registry.webhooks.worker import Worker

    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if metrics_dir:  # shared with gunicorn (make run) or the pod's own
        os.makedirs(metrics_dir, exist_ok=True)
    settings = Settings()
    logs.configure(settings.log_format, settings.log_level)
    settings.check_production()
    if settings.worker_metrics_bind:  # its own /metrics (a separate pod or container)
        from registry.metrics import serve

        serve(settings.worker_metrics_bind)
    database = Database(url=settings.database_url, pool_size=settings.worker_concurrency + 2)
    stop = threading.Event()

    received: list[str] = []

    def _stop(signum: int, _frame: FrameType | None) -> None:
        # No logging in a signal handler (its locks may be held by the interrupted code).
        received.append(signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner = Worker(
        database,
        config=worker_config(settings),
        jobs=[
            ("expired grants", settings.worker_expiry_seconds, announce_expired),
            # The same grants' status-list entries become INVALID (registry statuslist expire).
            (
                "status lists",
                settings.worker_expiry_seconds,
                lambda session, now: len(expire_due(session, now=now)),
            ),
        ],
    )
    # Through the logs (JSON lines in production), like every other line the worker writes.
    log.info("worker: delivering webhooks")
    try:
        runner.run(stop)
    finally:
        runner.close()
        database.dispose()
    how = f" on {received[0]}, the deliveries under way finished" if received else ""
    log.info("worker: stopped%s", how)


@click.group("webhooks")
def webhooks() -> None:
    """Webhook endpoints."""


@webhooks.command("test")
@click.argument("endpoint_id")
def webhooks_test(endpoint_id: str) -> None:
    """Send a signed `webhook.test` event to an endpoint now and print the answer."""
    import httpx

    import registry.models  # noqa: F401  (every table: foreign keys resolve)
    from registry.db import Database, utcnow
    from registry.ids import new_id
    from registry.webhooks.events import TEST_EVENT_TYPE, event_body
    from registry.webhooks.models import WebhookEndpoint
    from registry.webhooks.sender import send
    from registry.webhooks.signing import message_id
    from registry.webhooks.worker import signing_keys

    settings = Settings()
    database = Database(url=settings.database_url)
    try:
        with database.session_scope() as session:
            endpoint = session.get(WebhookEndpoint, endpoint_id)
            if endpoint is None:
                raise click.ClickException(f"no webhook endpoint {endpoint_id}")
            now = utcnow()
            url, keys = endpoint.url, signing_keys(endpoint, now)
    finally:
        database.dispose()
    msg_id = message_id(new_id())
    body = event_body(TEST_EVENT_TYPE, {"endpoint_id": endpoint_id}, now)
    with httpx.Client(timeout=settings.webhook_timeout, trust_env=False) as client:
        outcome = send(
            client,
            url=url,
            keys=keys,
            msg_id=msg_id,
            body=body,
            at=now,
            allow_private=settings.webhook_allow_private_urls,
        )
    if outcome.delivered:
        click.echo(f"delivered {msg_id}: HTTP {outcome.status_code} in {outcome.duration_ms} ms")
        return
    answer = f"HTTP {outcome.status_code}" if outcome.status_code else outcome.error
    click.echo(f"NOT delivered {msg_id}: {answer}", err=True)
    sys.exit(1)
