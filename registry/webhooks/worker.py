"""The delivery worker (``registry worker``): claims due deliveries, sends them, records each.

Several workers may run at once. A claim is one short transaction: on PostgreSQL
``SELECT ... FOR UPDATE SKIP LOCKED`` picks due rows no other worker is claiming, on SQLite the
write lock (``BEGIN IMMEDIATE``) serialises claims. The claim gives each row a fresh lease
(``lease``, and ``next_attempt_at`` moved to when the lease runs out) and commits; no
transaction stays open while HTTP runs. The outcome is recorded only under the same lease, so
a worker that was presumed dead cannot overwrite the work of the one that took over. A
worker killed mid-delivery leaves its rows to be claimed again once the lease runs out:
delivery is at least once, with the same ``webhook-id``.

Time comes from ``clock`` and jitter from ``rng`` so that tests drive the retry schedule
without waiting for it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.db import Database, utcnow
from registry.ids import new_id
from registry.metrics import WEBHOOK_DELIVERIES
from registry.webhooks.backoff import retry_delay
from registry.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from registry.webhooks.sender import Outcome, send
from registry.webhooks.signing import message_id

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# A periodic job: a name, its interval in seconds and the work, run in its own transaction.
Job = tuple[str, float, Callable[[Session, datetime], int]]


@dataclass(frozen=True)
class WorkerConfig:
    timeout: float = 15.0
    lease: timedelta = timedelta(seconds=60)
    retry_window: timedelta = timedelta(hours=24)
    disable_after: timedelta = timedelta(hours=72)
    concurrency: int = 8
    poll_seconds: float = 0.2
    allow_private: bool = False


@dataclass(frozen=True)
class Claim:
    """One delivery a worker holds: what to send, where, and the lease to record it under."""

    delivery_id: str
    lease: str
    msg_id: str
    body: str
    url: str
    keys: list[str]


def signing_keys(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The endpoint's secret, and after a rotation the previous one while it is in force."""
    keys = [endpoint.secret]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and until > now:
        keys.append(endpoint.previous_secret)
    return keys


@dataclass
class Worker:
    database: Database
    config: WorkerConfig = field(default_factory=WorkerConfig)
    clock: Clock = utcnow
    rng: random.Random = field(default_factory=random.Random)
    jobs: Sequence[Job] = ()
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        self._client = httpx.Client(
            timeout=self.config.timeout,
            transport=self.transport,
            headers={"user-agent": "consent-registry-webhooks/1"},
            trust_env=False,
        )
        self._pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="webhook")
        self._job_due: dict[str, datetime] = {}

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()

    # -- one round --------------------------------------------------------------------------

    def run_once(self) -> int:
        """Run the periodic jobs that are due, then claim, send and record one batch."""
        self.run_jobs()
        claims = self.claim(self.config.concurrency * 4)
        outcomes = self._pool.map(self.attempt, claims)
        self.record([(c, at, o) for c, (at, o) in zip(claims, outcomes, strict=True)])
        return len(claims)

    def run(self, stop: threading.Event) -> None:
        """Rounds until ``stop`` is set; the round under way (its deliveries) finishes first."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("webhook worker round failed; retrying")
                busy = 0
            if not busy:
                stop.wait(self.config.poll_seconds)

    def run_jobs(self) -> None:
        now = self.clock()
        for name, interval, job in self.jobs:
            due = self._job_due.get(name)
            if due is not None and due > now:
                continue
            self._job_due[name] = now + timedelta(seconds=interval)
            with self.database.session_scope() as session:
                done = job(session, now)
            if done:
                log.info("%s: %d", name, done)

    # -- the three steps --------------------------------------------------------------------

    def claim(self, limit: int) -> list[Claim]:
        """Take up to ``limit`` due deliveries of enabled endpoints under a fresh lease."""
        now = self.clock()
        with self.database.session_scope() as session:
            due = (
                sa.select(WebhookDelivery)
                .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
                .where(
                    col(WebhookDelivery.state) == "pending",
                    col(WebhookDelivery.next_attempt_at) <= now,
                    col(WebhookEndpoint.enabled).is_(True),
                )
                .order_by(col(WebhookDelivery.next_attempt_at))
                .limit(limit)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            )
            deliveries = list(session.scalars(due))
            if not deliveries:
                return []
            events = {
                e.id: e
                for e in session.scalars(
                    sa.select(WebhookEvent).where(
                        col(WebhookEvent.id).in_({d.event_id for d in deliveries})
                    )
                )
            }
            endpoints = {
                e.id: e
                for e in session.scalars(
                    sa.select(WebhookEndpoint).where(
                        col(WebhookEndpoint.id).in_({d.endpoint_id for d in deliveries})
                    )
                )
            }
            claims = []
            for delivery in deliveries:
                delivery.lease = new_id()
                delivery.next_attempt_at = now + self.config.lease
                endpoint = endpoints[delivery.endpoint_id]
                claims.append(
                    Claim(
                        delivery_id=delivery.id,
                        lease=delivery.lease,
                        msg_id=message_id(delivery.event_id),
                        body=events[delivery.event_id].body,
                        url=endpoint.url,
                        keys=signing_keys(endpoint, now),
                    )
                )
        return claims

    def attempt(self, claim: Claim) -> tuple[datetime, Outcome]:
        at = self.clock()
        outcome = send(
            self._client,
            url=claim.url,
            keys=claim.keys,
            msg_id=claim.msg_id,
            body=claim.body,
            at=at,
            allow_private=self.config.allow_private,
        )
        WEBHOOK_DELIVERIES.labels(outcome_label(outcome)).inc()
        return at, outcome

    def record(self, results: Sequence[tuple[Claim, datetime, Outcome]]) -> None:
        """Log each attempt and schedule what follows, in one transaction, for every claim
        whose lease is still ours."""
        if not results:
            return
        with self.database.session_scope() as session:
            deliveries = {
                d.id: d
                for d in session.scalars(
                    sa.select(WebhookDelivery)
                    .where(col(WebhookDelivery.id).in_([c.delivery_id for c, _, _ in results]))
                    .with_for_update()
                )
            }
            endpoints = {
                e.id: e
                for e in session.scalars(
                    sa.select(WebhookEndpoint).where(
                        col(WebhookEndpoint.id).in_({d.endpoint_id for d in deliveries.values()})
                    )
                )
            }
            for claim, at, outcome in results:
                delivery = deliveries.get(claim.delivery_id)
                if delivery is None or delivery.lease != claim.lease or delivery.state != "pending":
                    log.warning("delivery %s was taken over; outcome dropped", claim.delivery_id)
                    continue
                self._settle(session, delivery, endpoints[delivery.endpoint_id], at, outcome)

    def _settle(
        self,
        session: Session,
        delivery: WebhookDelivery,
        endpoint: WebhookEndpoint,
        at: datetime,
        outcome: Outcome,
    ) -> None:
        session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                attempted_at=at,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        delivery.attempts += 1
        delivery.last_attempt_at = at
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        delivery.lease = None
        if outcome.delivered:
            delivery.state = "delivered"
            delivery.delivered_at = at
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
            return
        if outcome.gone:
            delivery.state = "failed"
            _disable(endpoint, "the receiver answered 410 Gone", at)
            return
        if endpoint.failing_since is None:
            endpoint.failing_since = at
        elif at - endpoint.failing_since >= self.config.disable_after:
            _disable(endpoint, "every delivery failed for too long", at)
        if at - delivery.created_at >= self.config.retry_window:
            delivery.state = "failed"
            return
        delivery.next_attempt_at = at + retry_delay(
            delivery.attempts, self.rng, retry_after=outcome.retry_after
        )


def outcome_label(outcome: Outcome) -> str:
    """The metrics' word for one attempt: delivered, gone (410), refused (another status) or
    unreachable (no answer)."""
    if outcome.delivered:
        return "delivered"
    if outcome.gone:
        return "gone"
    return "refused" if outcome.status_code is not None else "unreachable"


def _disable(endpoint: WebhookEndpoint, reason: str, at: datetime) -> None:
    if endpoint.enabled:
        log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.updated_at = at
