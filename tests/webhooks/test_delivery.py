"""Delivery by real worker processes to a real receiver: signed, at least once, SIGTERM."""

from __future__ import annotations

import signal

import sqlalchemy as sa
from flask import Flask

from registry.state import state_of
from tests.factories import Studio
from tests.webhooks.conftest import Receiver, Workers, add_endpoint, wait_for


def _delivery_states(app: Flask) -> list[tuple[str, int]]:
    with state_of(app).database.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT state, attempts FROM webhook_deliveries ORDER BY id")
        ).all()
    return [(r[0], r[1]) for r in rows]


def test_a_revoked_grant_arrives_signed_and_verifies(
    studio: Studio, receiver: Receiver, workers: Workers
) -> None:
    endpoint = add_endpoint(studio, receiver.url)
    grant = studio.grant()
    response = studio.post(
        f"/v1/grants/{grant['id']}/revoke", json={"reason": "Ada Example withdrew consent"}
    )
    assert response.status_code == 200
    worker = workers.start()

    [revoked] = receiver.wait("grant.revoked")
    payload = revoked.verify(endpoint["secret"])  # standardwebhooks: signature and timestamp
    assert payload["type"] == "grant.revoked"
    assert payload["data"]["grant_id"] == grant["id"]
    assert payload["data"]["status"] == "revoked"
    assert payload["data"]["effect"] == "stop_new_use"
    assert revoked.headers["webhook-id"].startswith("msg_")
    assert revoked.headers["webhook-signature"].startswith("v1,")
    # Ids only: no name, no reason (free text), not the token.
    assert b"Ada" not in revoked.body and b"withdrew" not in revoked.body
    assert grant["token"].encode() not in revoked.body
    [issued] = receiver.wait("grant.issued")
    assert issued.verify(endpoint["secret"])["data"]["grant_id"] == grant["id"]
    # The wrong secret does not verify.
    other = add_endpoint(studio, receiver.url + "/other")
    try:
        revoked.verify(other["secret"])
    except Exception as exc:
        assert "signature" in str(exc).lower()
    else:
        raise AssertionError("verified with another endpoint's secret")

    assert workers.stop(worker) == 0
    log = studio.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries").json["items"]
    assert [d["event_type"] for d in log] == ["grant.issued", "grant.revoked"]
    assert all(d["state"] == "delivered" and len(d["attempts"]) == 1 for d in log)
    assert log[1]["webhook_id"] == revoked.headers["webhook-id"]
    assert log[1]["attempts"][0]["status_code"] == 204


def test_a_worker_killed_mid_delivery_is_replaced_and_the_event_arrives_with_the_same_id(
    app: Flask, studio: Studio, receivers, workers: Workers
) -> None:
    receiver: Receiver = receivers("--hang-first", "30")
    endpoint = add_endpoint(studio, receiver.url, event_types=["grant.revoked"])
    grant = studio.grant()
    studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    lease = {"REGISTRY_WEBHOOK_TIMEOUT": "20", "REGISTRY_WEBHOOK_LEASE_SECONDS": "25"}
    first = workers.start(**lease)
    [held] = receiver.wait("grant.revoked")  # the receiver holds this one, unanswered
    workers.stop(first, signal.SIGKILL)
    assert first.returncode == -signal.SIGKILL
    assert _delivery_states(app) == [("pending", 0)]  # nothing was recorded

    # The lease of the dead worker runs out; the next worker delivers the same event again.
    second = workers.start(**lease)
    again = receiver.wait("grant.revoked", count=2, timeout=60)[1]
    assert again.headers["webhook-id"] == held.headers["webhook-id"]
    assert again.body == held.body
    assert again.verify(endpoint["secret"])["data"]["grant_id"] == grant["id"]
    wait_for(lambda: _delivery_states(app) == [("delivered", 1)], what="the delivery recorded")
    assert workers.stop(second) == 0


def test_sigterm_lets_the_delivery_under_way_finish(
    app: Flask, studio: Studio, receivers, workers: Workers
) -> None:
    receiver: Receiver = receivers("--hang-first", "2")
    add_endpoint(studio, receiver.url, event_types=["grant.issued"])
    studio.grant()
    worker = workers.start()
    receiver.wait("grant.issued")
    assert workers.stop(worker, signal.SIGTERM) == 0  # returns after the 2 s answer
    assert _delivery_states(app) == [("delivered", 1)]
    assert len(receiver.requests()) == 1


def test_several_workers_share_the_work_and_deliver_each_event_once(
    app: Flask, studio: Studio, receiver: Receiver, workers: Workers
) -> None:
    """PostgreSQL: claims skip rows another worker holds (SKIP LOCKED); SQLite: the write
    lock serialises claims. Either way no event is sent twice while every worker lives."""
    endpoint = add_endpoint(studio, receiver.url, event_types=["grant.issued"])
    subject = studio.subject()["id"]
    grants = [studio.grant(subject)["id"] for _ in range(60)]
    running = [workers.start(REGISTRY_WORKER_CONCURRENCY="2") for _ in range(3)]
    arrived = receiver.wait("grant.issued", count=60, timeout=60)
    wait_for(
        lambda: _delivery_states(app) == [("delivered", 1)] * 60, what="every delivery recorded"
    )
    for worker in running:
        assert workers.stop(worker) == 0
    assert len(receiver.requests()) == 60
    assert sorted(r.verify(endpoint["secret"])["data"]["grant_id"] for r in arrived) == sorted(
        grants
    )
    assert len({r.headers["webhook-id"] for r in arrived}) == 60
