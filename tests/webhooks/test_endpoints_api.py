"""/v1/webhook-endpoints: management, the outbox's transaction, refusals and isolation."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from registry import create_app
from registry.settings import Settings
from registry.state import state_of
from registry.webhooks.events import EVENT_TYPES
from registry.webhooks.models import WebhookAttempt, WebhookDelivery
from registry.webhooks.worker import Worker, WorkerConfig
from tests.factories import ALL_SCOPES, Studio, assert_problem, table_counts
from tests.webhooks.conftest import Receiver, add_endpoint

URL = "https://hooks.example.test/consent"


def _patch(studio: Studio, path: str, body: Any):  # type: ignore[no-untyped-def]
    return studio.client.patch(path, json=body, headers=studio.headers)


def _delete(studio: Studio, path: str):  # type: ignore[no-untyped-def]
    return studio.client.delete(path, headers=studio.headers)


def _events(app: Flask) -> list[tuple[str, str]]:
    with state_of(app).database.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT org_id, type FROM webhook_events ORDER BY id")
        ).all()
    return [(r[0], r[1]) for r in rows]


def test_create_list_read_update_rotate_and_delete(studio: Studio) -> None:
    created = add_endpoint(studio, URL, event_types=["grant.revoked", "grant.issued"],
                           description="our consent hook")
    assert created["event_types"] == ["grant.issued", "grant.revoked"]
    assert created["enabled"] and created["disabled_reason"] is None
    path = f"/v1/webhook-endpoints/{created['id']}"
    read = studio.get(path).json
    assert "secret" not in read  # shown only once
    assert read["url"] == URL and read["description"] == "our consent hook"

    changed = _patch(studio, path, {"event_types": [], "enabled": False}).json
    assert changed["event_types"] == [] and not changed["enabled"]
    assert changed["disabled_reason"] == "disabled by its organization"
    assert _patch(studio, path, {"url": URL + "/v2"}).json["url"] == URL + "/v2"

    rotated = studio.post(f"{path}/rotate-secret").json
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]

    assert _delete(studio, path).status_code == 204
    assert_problem(studio.get(path), 404, "webhook-endpoint-not-found")


def test_list_pages_through_the_organizations_endpoints_only(
    studio: Studio, other_studio: Studio
) -> None:
    mine = [add_endpoint(studio, f"{URL}/{i}")["id"] for i in range(3)]
    add_endpoint(other_studio, URL)
    first = studio.get("/v1/webhook-endpoints?limit=2").json
    assert [e["id"] for e in first["items"]] == mine[:2]
    rest = studio.get(f"/v1/webhook-endpoints?limit=2&cursor={first['next_cursor']}").json
    assert [e["id"] for e in rest["items"]] == mine[2:] and rest["next_cursor"] is None


def test_events_are_written_with_the_change_and_only_for_endpoints_taking_them(
    app: Flask, studio: Studio, other_studio: Studio
) -> None:
    revoked_only = add_endpoint(studio, URL, event_types=["grant.revoked"])
    every = add_endpoint(studio, URL + "/all")
    grant = studio.grant()
    assert _events(app) == [(studio.org_id, "grant.issued")]
    # A refused change (an invalid transition) writes no event and no delivery.
    studio.post(f"/v1/grants/{grant['id']}/resume", json={"reason": "not suspended"})
    assert _events(app) == [(studio.org_id, "grant.issued")]
    studio.post(f"/v1/grants/{grant['id']}/suspend", json={"reason": "dispute"})
    studio.post(f"/v1/grants/{grant['id']}/resume", json={"reason": "settled"})
    new = studio.post(
        f"/v1/grants/{grant['id']}/supersede",
        json={**{k: v for k, v in grant.items() if k in _TERMS}, "reason": "amended"},
    )
    assert new.status_code == 201, new.json
    studio.post(f"/v1/grants/{new.json['id']}/revoke", json={"reason": "withdrawn"})
    assert [t for _, t in _events(app)] == [
        "grant.issued", "grant.suspended", "grant.resumed", "grant.superseded", "grant.issued",
        "grant.revoked",
    ]
    log = studio.get(f"/v1/webhook-endpoints/{revoked_only['id']}/deliveries").json["items"]
    assert [d["event_type"] for d in log] == ["grant.revoked"]
    all_log = studio.get(f"/v1/webhook-endpoints/{every['id']}/deliveries").json["items"]
    assert len(all_log) == 6 and {d["state"] for d in all_log} == {"pending"}
    # The other organization has no events of ours.
    assert other_studio.get("/v1/webhook-events").json["items"] == []
    [superseded] = studio.get("/v1/webhook-events?type=grant.superseded").json["items"]
    assert superseded["payload"]["data"]["grant_id"] == grant["id"]
    assert superseded["payload"]["data"]["superseded_by"] == new.json["id"]
    assert superseded["payload"]["data"]["status"] == "superseded"
    events = studio.get("/v1/webhook-events?type=grant.revoked").json["items"]
    assert len(events) == 1
    assert events[0]["payload"]["data"]["grant_id"] == new.json["id"]
    assert events[0]["webhook_id"] == "msg_" + events[0]["id"]


_TERMS = (
    "granted_by", "modalities", "operations", "purposes", "media_types", "territories",
    "valid_from", "valid_until", "evidence", "compensation",
)


def test_replay_sends_the_same_event_again_with_the_same_id(
    app: Flask, studio: Studio, receiver: Receiver
) -> None:
    endpoint = add_endpoint(studio, receiver.url, event_types=["grant.issued"])
    studio.grant()
    worker = Worker(
        state_of(app).database, config=WorkerConfig(allow_private=True), rng=random.Random(1),  # noqa: S311 - jitter
    )
    try:
        worker.run_once()
        [delivery] = studio.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries").json["items"]
        again = studio.post(
            f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{delivery['id']}/replay"
        )
        assert again.status_code == 202
        assert again.json["state"] == "pending" and again.json["id"] != delivery["id"]
        by_event = studio.post(
            f"/v1/webhook-endpoints/{endpoint['id']}/replay",
            json={"event_id": delivery["event_id"]},
        )
        assert by_event.status_code == 202
        worker.run_once()
    finally:
        worker.close()
    requests = receiver.requests()
    assert len(requests) == 3
    assert {r.headers["webhook-id"] for r in requests} == {delivery["webhook_id"]}
    assert all(r.verify(endpoint["secret"]) for r in requests)


def test_a_url_that_resolves_inside_is_refused_at_delivery_too(
    app: Flask, studio: Studio, receiver: Receiver
) -> None:
    """Created where loopback was allowed; a worker that refuses it sends nothing (the check
    is made again at each delivery, as after a DNS change)."""
    add_endpoint(studio, receiver.url, event_types=["grant.issued"])
    studio.grant()
    worker = Worker(state_of(app).database, config=WorkerConfig(allow_private=False))
    try:
        worker.run_once()
    finally:
        worker.close()
    assert receiver.requests() == []
    with state_of(app).database.session_scope() as session:
        [attempt] = session.scalars(sa.select(WebhookAttempt)).all()
        [delivery] = session.scalars(sa.select(WebhookDelivery)).all()
        assert attempt.status_code is None
        assert attempt.error is not None and attempt.error.startswith("refused: ")
        assert delivery.state == "pending" and delivery.attempts == 1


@pytest.fixture
def strict_app(settings: Settings) -> Iterator[Flask]:
    """The app as in production: no loopback, private or link-local webhook URLs."""
    app = create_app(settings.model_copy(update={"webhook_allow_private_urls": False}))
    app.config["TESTING"] = True
    yield app
    state_of(app).database.dispose()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://8.8.8.8/hook", "scheme"),  # production sends over https only
        ("ftp://8.8.8.8/hook", "scheme"),
        ("https://user:pw@8.8.8.8/hook", "syntax"),
        ("https:///hook", "syntax"),
        ("https://127.0.0.1/hook", "internal-address"),
        ("https://localhost:8443/hook", "internal-address"),
        ("https://10.1.2.3/hook", "internal-address"),
        ("https://192.168.0.10/hook", "internal-address"),
        ("https://172.16.0.1/hook", "internal-address"),
        ("https://169.254.169.254/latest/meta-data", "internal-address"),
        ("https://[::1]/hook", "internal-address"),
        ("https://[fe80::1]/hook", "internal-address"),
        ("https://[::ffff:127.0.0.1]/hook", "internal-address"),
        ("https://0.0.0.0/hook", "internal-address"),
        ("https://no-such-host.invalid/hook", "unresolvable"),
    ],
)
def test_internal_urls_are_refused_in_production(
    strict_app: Flask, url: str, reason: str
) -> None:
    client: FlaskClient = strict_app.test_client()
    studio = Studio.create(strict_app, client, name="Strict Studio")
    before = table_counts(strict_app)
    body = assert_problem(
        studio.post("/v1/webhook-endpoints", json={"url": url}), 422, "webhook-url-refused"
    )
    assert body["reason"] == reason
    assert table_counts(strict_app) == before


def test_a_public_address_is_accepted_in_production(strict_app: Flask) -> None:
    studio = Studio.create(strict_app, strict_app.test_client(), name="Strict Studio")
    created = studio.post("/v1/webhook-endpoints", json={"url": "https://8.8.8.8/hook"})
    assert created.status_code == 201, created.json
    path = f"/v1/webhook-endpoints/{created.json['id']}"
    # Changing it to an internal address is refused and leaves it as it was.
    refused = _patch(studio, path, {"url": "https://10.0.0.1/hook"})
    assert_problem(refused, 422, "webhook-url-refused")
    assert studio.get(path).json["url"] == "https://8.8.8.8/hook"


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"url": URL, "event_types": ["grant.deleted"]}, 422, "webhook-unknown-event-type"),
        ({"url": URL, "event_types": ["webhook.test"]}, 422, "webhook-unknown-event-type"),
        ({"url": "not a url"}, 422, "webhook-url-refused"),
        ({"url": URL, "secret": "whsec_mine"}, 422, "validation-error"),
        ({"url": ""}, 422, "validation-error"),
        ({"url": URL, "event_types": "grant.issued"}, 422, "validation-error"),
        ({"url": "https://h.test/" + "a" * 2000}, 422, "validation-error"),
    ],
)
def test_create_refusals_write_nothing(
    studio: Studio, counts, body: dict[str, Any], status: int, slug: str
) -> None:
    before = counts()
    assert_problem(studio.post("/v1/webhook-endpoints", json=body), status, slug)
    assert counts() == before


def test_every_event_type_can_be_chosen(studio: Studio) -> None:
    created = add_endpoint(studio, URL, event_types=list(EVENT_TYPES))
    assert created["event_types"] == sorted(EVENT_TYPES)


def test_without_the_webhooks_scope_nothing_is_done(app: Flask, client: FlaskClient, counts):  # type: ignore[no-untyped-def]
    studio = Studio.create(app, client, name="No hooks", scopes=ALL_SCOPES - {"webhooks"})
    before = counts()
    body = assert_problem(
        studio.post("/v1/webhook-endpoints", json={"url": URL}), 403, "insufficient-scope"
    )
    assert body["required_scopes"] == ["webhooks"]
    assert_problem(studio.get("/v1/webhook-endpoints"), 403, "insufficient-scope")
    assert counts() == before


def test_another_organizations_endpoint_is_not_found_everywhere(
    studio: Studio, other_studio: Studio, counts
) -> None:
    theirs = add_endpoint(other_studio, URL)
    grant = other_studio.grant()
    [event] = other_studio.get("/v1/webhook-events").json["items"]
    [delivery] = other_studio.get(
        f"/v1/webhook-endpoints/{theirs['id']}/deliveries"
    ).json["items"]
    path = f"/v1/webhook-endpoints/{theirs['id']}"
    before = counts()
    slug = "webhook-endpoint-not-found"
    assert_problem(studio.get(path), 404, slug)
    assert_problem(_patch(studio, path, {"enabled": False}), 404, slug)
    assert_problem(_delete(studio, path), 404, slug)
    assert_problem(studio.post(f"{path}/rotate-secret"), 404, slug)
    assert_problem(studio.get(f"{path}/deliveries"), 404, slug)
    assert_problem(studio.post(f"{path}/deliveries/{delivery['id']}/replay"), 404, slug)
    assert_problem(studio.post(f"{path}/replay", json={"event_id": event["id"]}), 404, slug)
    assert_problem(studio.get("/v1/webhook-endpoints/not-a-uuid"), 404, slug)
    assert counts() == before
    # Our own endpoint with their event or delivery: not found either.
    mine = add_endpoint(studio, URL)
    after_create = counts()
    own = f"/v1/webhook-endpoints/{mine['id']}"
    assert_problem(
        studio.post(f"{own}/replay", json={"event_id": event["id"]}), 404, "webhook-event-not-found"
    )
    assert_problem(
        studio.post(f"{own}/deliveries/{delivery['id']}/replay"), 404, "webhook-delivery-not-found"
    )
    assert counts() == after_create
    assert other_studio.get(path).json["enabled"]
    assert grant["id"] and before["webhook_endpoints"] == 1


def test_replay_to_a_disabled_endpoint_is_refused(studio: Studio, counts) -> None:
    endpoint = add_endpoint(studio, URL)
    studio.grant()
    [event] = studio.get("/v1/webhook-events").json["items"]
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    _patch(studio, path, {"enabled": False})
    before = counts()
    assert_problem(
        studio.post(f"{path}/replay", json={"event_id": event["id"]}), 409,
        "webhook-endpoint-disabled",
    )
    assert counts() == before
