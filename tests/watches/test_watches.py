"""A platform that only verified and watched a file hears of consent changes and takedowns."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from registry.consent.models import ConsentGrant
from registry.db import utcnow
from registry.state import state_of
from registry.watches.expiry import announce_expired
from registry.webhooks.worker import Worker
from tests.factories import Studio, assert_problem
from tests.verification.conftest import Signed, verify
from tests.watches.conftest import Platform, Receiver, add_endpoint, verified_manifest


def _watch(platform: Platform, **body: str):  # type: ignore[no-untyped-def]
    return platform.watcher.post("/v1/watches", json=body)


def test_a_watcher_hears_every_consent_change_and_the_takedown(
    app: Flask,
    studio: Studio,
    other_studio: Studio,
    platform: Platform,
    signed: Signed,
    receivers,
    deliver: Worker,
) -> None:
    result = verified_manifest(platform, signed)
    manifest_id = result["manifest"]["active_manifest"]
    assert result["takedown"] is None
    by_manifest = _watch(platform, manifest_id=manifest_id)
    assert by_manifest.status_code == 201, by_manifest.json
    by_hash = _watch(platform, sha256=signed.asset["source_sha256"])
    assert by_hash.status_code == 201
    theirs: Receiver = receivers()
    ours: Receiver = receivers()
    platform_hook = add_endpoint(platform.hooks, theirs.url)
    studio_hook = add_endpoint(studio, ours.url, event_types=["takedown.requested"])
    grant_id = signed.grant["id"]
    # Signing emitted media.signed to the studio (written with the asset).
    [media_signed] = studio.get("/v1/webhook-events?type=media.signed").json["items"]
    assert media_signed["payload"]["data"] == {
        "media_id": signed.asset["id"],
        "manifest_id": manifest_id,
        "sha256": signed.asset["sha256"],
        "source_sha256": signed.asset["source_sha256"],
        "grant_ids": [grant_id],
    }

    for verb in ("suspend", "resume"):
        assert studio.post(f"/v1/grants/{grant_id}/{verb}", json={"reason": "x"}).status_code == 200
    revoked = studio.post(
        f"/v1/grants/{grant_id}/revoke",
        json={"reason": "Ada Example withdrew", "effect": "unpublish"},
    )
    assert revoked.status_code == 200
    deliver.run_once()

    # Arrival order is not promised (one round sends concurrently); the ids sort by creation.
    received = sorted(
        theirs.of_type("media.consent_changed"), key=lambda r: r.headers["webhook-id"]
    )
    changes = [r.verify(platform_hook["secret"]) for r in received]
    assert [c["data"]["change"] for c in changes] == [
        "grant.suspended", "grant.resumed", "grant.revoked"
    ]
    assert [c["data"]["grant_status"] for c in changes] == ["suspended", "active", "revoked"]
    # One event per change for the organization, naming both of its watches.
    assert sorted(changes[0]["data"]["watch_ids"]) == sorted(
        [by_manifest.json["id"], by_hash.json["id"]]
    )
    assert changes[0]["data"]["manifest_id"] == manifest_id
    assert changes[0]["data"]["sha256"] == signed.asset["sha256"]
    [notice] = [r.verify(platform_hook["secret"]) for r in theirs.of_type("takedown.requested")]
    assert notice["data"]["role"] == "watcher"
    assert notice["data"]["manifest_id"] == manifest_id
    assert notice["data"]["sha256"] == signed.asset["sha256"]
    assert notice["data"]["source_sha256"] == signed.asset["source_sha256"]
    assert "media_id" not in notice["data"]  # the studio's own id stays with the studio
    # The platform heard nothing of the grant itself (it belongs to the studio).
    assert {r.type for r in theirs.requests()} == {"media.consent_changed", "takedown.requested"}
    for request in theirs.requests():
        assert b"Ada" not in request.body and b"withdrew" not in request.body

    [to_signer] = [r.verify(studio_hook["secret"]) for r in ours.requests()]
    assert to_signer["type"] == "takedown.requested"
    assert to_signer["data"]["role"] == "signer"
    assert to_signer["data"]["media_id"] == signed.asset["id"]

    # The notices, their state and acknowledgement.
    listed = platform.watcher.get("/v1/takedowns").json["items"]
    assert [(n["id"], n["state"], n["role"]) for n in listed] == [
        (notice["data"]["takedown_id"], "requested", "watcher")
    ]
    ack_path = f"/v1/takedowns/{listed[0]['id']}/ack"
    assert_problem(other_studio.post(ack_path), 404, "takedown-not-found")
    assert_problem(studio.post(ack_path), 404, "takedown-not-found")
    acked = platform.watcher.post(ack_path)
    assert acked.status_code == 200
    assert acked.json["state"] == "acknowledged" and acked.json["acknowledged_at"]
    assert_problem(platform.watcher.post(ack_path), 409, "takedown-already-acknowledged")
    assert platform.watcher.get("/v1/takedowns?state=requested").json["items"] == []
    [signer_notice] = studio.get("/v1/takedowns").json["items"]
    assert signer_notice["role"] == "signer" and signer_notice["state"] == "requested"
    assert other_studio.get("/v1/takedowns").json["items"] == []

    # The grant's media are marked; verification says so, with the verdict it had.
    [media] = studio.get(f"/v1/grants/{grant_id}/media").json["items"]
    assert media["id"] == signed.asset["id"] and media["takedown_requested_at"]
    assert_problem(other_studio.get(f"/v1/grants/{grant_id}/media"), 404, "grant-not-found")
    after = verify(platform.watcher.client, signed.path, headers=platform.watcher.headers).json
    assert after["takedown"]["requested_at"] == media["takedown_requested_at"]
    assert "takedown" in after["summary"]
    assert after["verdict"] == "fail"  # consent.revoked, as without a takedown


def test_revoking_to_stop_new_use_sends_no_takedown(
    studio: Studio, platform: Platform, signed: Signed, receiver: Receiver, deliver: Worker
) -> None:
    _watch(platform, sha256=signed.asset["sha256"])
    add_endpoint(platform.hooks, receiver.url)
    studio.post(f"/v1/grants/{signed.grant['id']}/revoke", json={"reason": "withdrawn"})
    deliver.run_once()
    assert [r.type for r in receiver.requests()] == ["media.consent_changed"]
    assert platform.watcher.get("/v1/takedowns").json["items"] == []
    [media] = studio.get(f"/v1/grants/{signed.grant['id']}/media").json["items"]
    assert media["takedown_requested_at"] is None


def test_expiry_is_announced_once_to_the_studio_and_the_watchers(
    app: Flask,
    studio: Studio,
    platform: Platform,
    signed: Signed,
    receivers,
    deliver: Worker,
) -> None:
    _watch(platform, sha256=signed.asset["sha256"])
    theirs: Receiver = receivers()
    ours: Receiver = receivers()
    add_endpoint(platform.hooks, theirs.url)
    add_endpoint(studio, ours.url, event_types=["grant.expired"])
    database = state_of(app).database
    with database.session_scope() as session:
        grant = session.get_one(ConsentGrant, signed.grant["id"])
        grant.valid_until = utcnow() - timedelta(seconds=1)
    never_expiring = studio.grant()

    with database.session_scope() as session:
        assert announce_expired(session, utcnow()) == 1
    with database.session_scope() as session:
        assert announce_expired(session, utcnow()) == 0
    deliver.run_once()

    [expired] = [r.payload for r in ours.requests()]
    assert expired["type"] == "grant.expired"
    assert expired["data"]["grant_id"] == signed.grant["id"]
    assert expired["data"]["status"] == "expired"
    [change] = [r.payload for r in theirs.requests()]
    assert change["type"] == "media.consent_changed"
    assert change["data"]["change"] == "grant.expired"
    with database.engine.connect() as connection:
        announced = connection.execute(
            sa.text("SELECT grant_id FROM grant_expiry_announcements")
        ).scalars().all()
    assert announced == [signed.grant["id"]]
    assert never_expiring["id"] not in announced


def test_the_worker_runs_the_expiry_job_on_its_interval(
    app: Flask, studio: Studio, receiver: Receiver
) -> None:
    from registry.webhooks.worker import WorkerConfig

    add_endpoint(studio, receiver.url, event_types=["grant.expired"])
    grant = studio.grant()
    database = state_of(app).database
    with database.session_scope() as session:
        session.get_one(ConsentGrant, grant["id"]).valid_until = utcnow() - timedelta(seconds=1)
    worker = Worker(
        database,
        config=WorkerConfig(allow_private=True),
        jobs=[("expired grants", 3600.0, announce_expired)],
    )
    try:
        worker.run_once()  # the job runs first, then the delivery of what it emitted
        worker.run_once()
    finally:
        worker.close()
    assert [r.type for r in receiver.requests()] == ["grant.expired"]


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        ({}, "watch-target-required"),
        ({"manifest_id": "urn:c2pa:x", "sha256": "a" * 64}, "watch-target-required"),
        ({"manifest_id": "urn:c2pa:00000000-0000-0000-0000-000000000000"}, "watch-media-unknown"),
        ({"sha256": "b" * 64}, "watch-media-unknown"),
        ({"sha256": "B" * 64}, "validation-error"),
        ({"sha256": "a" * 63}, "validation-error"),
        ({"manifest_id": ""}, "validation-error"),
        ({"url": "x"}, "validation-error"),
    ],
)
def test_watch_refusals_write_nothing(
    platform: Platform, signed: Signed, counts, body: dict[str, str], slug: str
) -> None:
    before = counts()
    assert_problem(platform.watcher.post("/v1/watches", json=body), 422, slug)
    assert counts() == before


def test_a_second_watch_of_the_same_media_is_a_conflict(
    platform: Platform, signed: Signed, counts
) -> None:
    first = _watch(platform, sha256=signed.asset["sha256"])
    before = counts()
    body = assert_problem(_watch(platform, sha256=signed.asset["sha256"]), 409, "watch-exists")
    assert body["watch_id"] == first.json["id"]
    assert counts() == before


def test_watching_needs_the_watch_scope(
    app: Flask, platform: Platform, signed: Signed, counts
) -> None:
    verifier = Studio.create(
        app, platform.watcher.client, name="Verify only", scopes=frozenset({"verify"})
    )
    before = counts()
    assert_problem(
        verifier.post("/v1/watches", json={"sha256": signed.asset["sha256"]}), 403,
        "insufficient-scope",
    )
    assert_problem(verifier.get("/v1/takedowns"), 403, "insufficient-scope")
    assert counts() == before


def test_watches_are_the_organizations_own(
    studio: Studio, platform: Platform, signed: Signed, counts
) -> None:
    watch = _watch(platform, sha256=signed.asset["sha256"]).json
    page = platform.watcher.get("/v1/watches").json
    assert [w["id"] for w in page["items"]] == [watch["id"]]
    assert studio.get("/v1/watches").json["items"] == []
    before = counts()
    path = f"/v1/watches/{watch['id']}"
    assert_problem(studio.get(path), 404, "watch-not-found")
    assert_problem(studio.client.delete(path, headers=studio.headers), 404, "watch-not-found")
    assert_problem(studio.get("/v1/watches/not-a-uuid"), 404, "watch-not-found")
    assert counts() == before
    assert platform.watcher.get(path).json["id"] == watch["id"]
    deleted = platform.watcher.client.delete(path, headers=platform.watcher.headers)
    assert deleted.status_code == 204
    assert_problem(platform.watcher.get(path), 404, "watch-not-found")
