"""Retries, giving up and disabling, driven by a controlled clock (no sleeping through backoff).

The worker runs in the test process with a manual clock; the receiver is a real process.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from standardwebhooks.webhooks import Webhook

from registry.db import utcnow
from registry.state import state_of
from registry.webhooks.backoff import CAP_SECONDS, JITTER
from registry.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from registry.webhooks.worker import Worker, WorkerConfig
from tests.factories import Studio
from tests.webhooks.conftest import Receiver, add_endpoint


class ManualClock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make_worker(app: Flask, clock: ManualClock, **config: object) -> Worker:
    settings = WorkerConfig(allow_private=True, concurrency=2, **config)  # type: ignore[arg-type]
    return Worker(state_of(app).database, config=settings, clock=clock, rng=random.Random(12))  # noqa: S311


@pytest.fixture
def worker(app: Flask, clock: ManualClock) -> Iterator[Worker]:
    running = make_worker(app, clock)
    yield running
    running.close()


def _rows(app: Flask, model: type, **where: object) -> list:  # type: ignore[type-arg]
    with state_of(app).database.session_scope() as session:
        query = sa.select(model).filter_by(**where)
        return list(session.scalars(query.order_by(model.id)))  # type: ignore[attr-defined]


def _drive(app: Flask, worker: Worker, clock: ManualClock, limit: int = 40) -> WebhookDelivery:
    """Run the worker at each due time until the delivery is no longer pending."""
    for _ in range(limit):
        worker.run_once()
        [delivery] = _rows(app, WebhookDelivery)
        if delivery.state != "pending":
            return delivery
        clock.now = delivery.next_attempt_at
    raise AssertionError("the delivery is still pending")


def test_a_failing_receiver_gets_retries_at_growing_intervals_for_24_hours_then_none(
    app: Flask, studio: Studio, receivers, worker: Worker, clock: ManualClock
) -> None:
    receiver: Receiver = receivers("--status", "500")
    endpoint = add_endpoint(studio, receiver.url, event_types=["grant.issued"])
    studio.grant()

    delivery = _drive(app, worker, clock)

    assert delivery.state == "failed"
    attempts = [a.attempted_at for a in _rows(app, WebhookAttempt)]
    assert delivery.attempts == len(attempts) == len(receiver.requests())
    intervals = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert 5 * (1 - JITTER) <= intervals[0] <= 5 * (1 + JITTER)
    growing = [i for i in intervals if i < CAP_SECONDS * (1 - JITTER)]
    assert len(growing) >= 8
    assert all(b >= 2 * a for a, b in itertools.pairwise(growing)), intervals
    assert max(intervals) <= CAP_SECONDS * (1 + JITTER)
    # Tried for at least 24 hours, and not once more after the first failure past them.
    assert attempts[-1] - delivery.created_at >= timedelta(hours=24)
    assert attempts[-2] - delivery.created_at < timedelta(hours=24)
    # Every attempt: the same webhook-id and body, signed for its own timestamp.
    requests = receiver.requests()
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1
    signer = Webhook(endpoint["secret"])
    for request, at in zip(requests, attempts, strict=True):
        stamp = int(request.headers["webhook-timestamp"])
        assert stamp == int(at.timestamp())
        expected = signer.sign(
            request.headers["webhook-id"], datetime.fromtimestamp(stamp, UTC), request.body.decode()
        )
        assert request.headers["webhook-signature"] == expected
    # The endpoint stays enabled (72 h without success disables it); the log says why.
    [row] = _rows(app, WebhookEndpoint)
    assert row.enabled
    log = studio.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries").json["items"]
    assert log[0]["state"] == "failed" and log[0]["next_attempt_at"] is None
    assert [a["status_code"] for a in log[0]["attempts"]] == [500] * len(attempts)


def test_an_endpoint_failing_for_too_long_is_disabled_and_receives_nothing_more(
    app: Flask, studio: Studio, receivers, clock: ManualClock
) -> None:
    worker = make_worker(app, clock, disable_after=timedelta(hours=6))
    receiver: Receiver = receivers("--status", "503")
    endpoint = add_endpoint(studio, receiver.url, event_types=["grant.issued"])
    studio.grant()
    try:
        delivery = _drive_until_disabled(app, worker, clock)
        [row] = _rows(app, WebhookEndpoint)
        assert not row.enabled
        assert row.disabled_reason == "every delivery failed for too long"
        assert row.failing_since is not None
        assert clock.now - row.failing_since >= timedelta(hours=6)
        assert clock.now - row.failing_since < timedelta(hours=6) + CAP_SECONDS * timedelta(
            seconds=1.2
        )
        seen = len(receiver.requests())
        # Due again, but the endpoint is disabled: nothing is claimed or sent.
        clock.now = delivery.next_attempt_at + timedelta(hours=1)
        assert worker.run_once() == 0
        assert len(receiver.requests()) == seen
        # New events make no delivery for a disabled endpoint.
        studio.grant()
        assert len(_rows(app, WebhookDelivery)) == 1
        # Enabling it again clears the failure streak.
        response = studio.client.patch(
            f"/v1/webhook-endpoints/{endpoint['id']}", json={"enabled": True},
            headers=studio.headers,
        )
        assert response.status_code == 200
        assert response.json["enabled"] and response.json["failing_since"] is None
        assert response.json["disabled_reason"] is None
    finally:
        worker.close()


def _drive_until_disabled(app: Flask, worker: Worker, clock: ManualClock) -> WebhookDelivery:
    for _ in range(40):
        worker.run_once()
        [endpoint] = _rows(app, WebhookEndpoint)
        [delivery] = _rows(app, WebhookDelivery)
        if not endpoint.enabled:
            return delivery  # type: ignore[no-any-return]
        clock.now = delivery.next_attempt_at
    raise AssertionError("the endpoint was never disabled")


def test_410_gone_disables_the_endpoint_at_once(
    app: Flask, studio: Studio, receivers, worker: Worker, clock: ManualClock
) -> None:
    receiver: Receiver = receivers("--status", "410")
    add_endpoint(studio, receiver.url, event_types=["grant.issued"])
    studio.grant()
    clock.now = utcnow()
    assert worker.run_once() == 1
    [delivery] = _rows(app, WebhookDelivery)
    [endpoint] = _rows(app, WebhookEndpoint)
    assert delivery.state == "failed" and delivery.attempts == 1
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "the receiver answered 410 Gone"


def test_after_a_rotation_both_secrets_verify_for_a_day(
    app: Flask, studio: Studio, receiver: Receiver, worker: Worker, clock: ManualClock
) -> None:
    old = add_endpoint(studio, receiver.url, event_types=["grant.issued"])
    rotated = studio.post(f"/v1/webhook-endpoints/{old['id']}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json["secret"]
    assert new_secret.startswith("whsec_") and new_secret != old["secret"]
    studio.grant()
    clock.now = utcnow()
    worker.run_once()
    [request] = receiver.requests()
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert request.verify(new_secret) and request.verify(old["secret"])
    # A day later only the new secret signs.
    studio.grant()
    clock.now = utcnow() + timedelta(hours=24, seconds=1)
    worker.run_once()
    later = receiver.requests()[1]
    signatures = later.headers["webhook-signature"].split(" ")
    assert len(signatures) == 1
    stamp = datetime.fromtimestamp(int(later.headers["webhook-timestamp"]), UTC)
    assert signatures[0] == Webhook(new_secret).sign(
        later.headers["webhook-id"], stamp, later.body.decode()
    )
