"""The generator inventory: create, list, read, update, approve, retire; events; tenants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import ALL_SCOPES, Studio, assert_problem


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "ImageForge",
        "version": "3.0",
        "provider": "ImageForge Inc.",
        "documentation_url": "https://imageforge.example/model-card",
        "license": "proprietary",
        "training_data": "opt_out_respected",
        "training_data_notes": "Licensed stock plus web images honouring robots.txt opt-outs",
        "risk_class": "medium",
        "modalities": ["image"],
        **overrides,
    }


def create(studio: Studio, **overrides: Any) -> dict[str, Any]:
    response = studio.post("/v1/generators", json=body(**overrides))
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def audit_actions(studio: Studio, object_id: str) -> list[str]:
    items = studio.get("/v1/audit/events?limit=100").json["items"]
    return [e["action"] for e in items if e["object_id"] == object_id]


def webhook_types(studio: Studio) -> list[str]:
    items = studio.get("/v1/webhook-events?limit=100").json["items"]
    return [e["type"] for e in items if e["type"].startswith("generator.")]


def test_lifecycle_create_approve_update_retire_with_events(studio: Studio) -> None:
    created = create(studio)
    assert created["state"] == "pending"
    assert created["approved_by"] is None
    gid = created["id"]
    assert studio.get(f"/v1/generators/{gid}").json == created

    approved = studio.post(f"/v1/generators/{gid}/approve", json={"approver": "Head of Legal"})
    assert approved.status_code == 200, approved.json
    assert approved.json["state"] == "approved"
    assert approved.json["approved_by"] == "Head of Legal"
    assert approved.json["approved_at"] is not None

    # A change of facts withdraws the approval; an unchanged value changes nothing.
    same = studio.client.patch(
        f"/v1/generators/{gid}", json={"risk_class": "medium"}, headers=studio.headers
    )
    assert same.json["state"] == "approved"
    changed = studio.client.patch(
        f"/v1/generators/{gid}", json={"risk_class": "high"}, headers=studio.headers
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["risk_class"] == "high"
    assert changed.json["state"] == "pending"
    assert changed.json["approved_by"] is None

    retired = studio.post(f"/v1/generators/{gid}/retire", json={"reason": "superseded by 3.1"})
    assert retired.status_code == 200
    assert retired.json["state"] == "retired"
    assert retired.json["retired_reason"] == "superseded by 3.1"

    assert audit_actions(studio, gid) == [
        "generator.created",
        "generator.approved",
        "generator.updated",
        "generator.retired",
    ]
    assert webhook_types(studio) == [
        "generator.created",
        "generator.approved",
        "generator.updated",
        "generator.retired",
    ]
    # Who approved (perhaps a person's name) stays in the inventory, out of the events.
    events = studio.get("/v1/webhook-events?limit=100").json["items"]
    assert all("Head of Legal" not in str(e["payload"]) for e in events)


def test_list_pages_with_a_cursor_and_filters_by_state(studio: Studio) -> None:
    made = [create(studio, version=f"1.{n}")["id"] for n in range(3)]
    studio.post(f"/v1/generators/{made[1]}/approve", json={})
    first = studio.get("/v1/generators?limit=2").json
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = studio.get(f"/v1/generators?limit=2&cursor={first['next_cursor']}").json
    # The studio's fixture generator (approved) comes first: four in all.
    ids = [g["id"] for g in first["items"] + second["items"]]
    assert ids[1:] == made and second["next_cursor"] is None
    approved = studio.get("/v1/generators?state=approved").json["items"]
    assert [g["id"] for g in approved] == [studio.generator_id, made[1]]
    assert_problem(studio.get("/v1/generators?cursor=nope"), 422, "validation-error")


def test_refusals_write_nothing(studio: Studio, counts: Callable[[], dict[str, int]]) -> None:
    created = create(studio)
    gid = created["id"]
    retired = create(studio, version="0.9")
    studio.post(f"/v1/generators/{retired['id']}/retire", json={})
    studio.post(f"/v1/generators/{gid}/approve", json={})
    before = counts()
    assert_problem(studio.post("/v1/generators", json=body()), 409, "generator-exists")
    assert_problem(
        studio.post(f"/v1/generators/{gid}/approve", json={}), 409, "generator-already-approved"
    )
    rename = studio.client.patch(
        f"/v1/generators/{gid}", json={"version": "0.9"}, headers=studio.headers
    )
    assert_problem(rename, 409, "generator-exists")
    for verb in ("approve", "retire"):
        assert_problem(
            studio.post(f"/v1/generators/{retired['id']}/{verb}", json={}),
            409,
            "generator-retired",
        )
    patch_retired = studio.client.patch(
        f"/v1/generators/{retired['id']}", json={"risk_class": "low"}, headers=studio.headers
    )
    assert_problem(patch_retired, 409, "generator-retired")
    for cleared in ({"name": None}, {"modalities": None}, {"risk_class": None}):
        nulled = studio.client.patch(f"/v1/generators/{gid}", json=cleared, headers=studio.headers)
        assert_problem(nulled, 422, "validation-error")
    for bad in (
        {"training_data": "scraped"},
        {"risk_class": "none"},
        {"modalities": []},
        {"modalities": ["text"]},
        {"documentation_url": "ftp://x"},
        {"name": ""},
        {"surprise": 1},
    ):
        assert_problem(studio.post("/v1/generators", json=body(**bad)), 422, "validation-error")
    assert counts() == before


def test_another_organizations_generator_is_not_found(
    studio: Studio, other_studio: Studio, counts: Callable[[], dict[str, int]]
) -> None:
    theirs = create(other_studio)["id"]
    before = counts()
    assert_problem(studio.get(f"/v1/generators/{theirs}"), 404, "generator-not-found")
    assert_problem(studio.get("/v1/generators/not-a-uuid"), 404, "generator-not-found")
    for verb in ("approve", "retire"):
        assert_problem(
            studio.post(f"/v1/generators/{theirs}/{verb}", json={}), 404, "generator-not-found"
        )
    patch = studio.client.patch(
        f"/v1/generators/{theirs}", json={"risk_class": "low"}, headers=studio.headers
    )
    assert_problem(patch, 404, "generator-not-found")
    assert theirs not in [g["id"] for g in studio.get("/v1/generators").json["items"]]
    assert counts() == before
    # The same name and version may live in both inventories.
    assert studio.post("/v1/generators", json=body()).status_code == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/generators"),
        ("post", "/v1/generators/{id}/approve"),
        ("post", "/v1/generators/{id}/retire"),
        ("patch", "/v1/generators/{id}"),
    ],
)
def test_changing_the_inventory_takes_the_generators_scope(
    app: Flask, client: FlaskClient, studio: Studio, method: str, path: str
) -> None:
    signer = Studio.create(app, client, name="Pipeline", scopes=ALL_SCOPES - {"generators"})
    url = path.format(id=signer.generator_id)
    response = getattr(client, method)(url, json=body(), headers=signer.headers)
    assert_problem(response, 403, "insufficient-scope")
    # Reading it takes only media:sign (a pipeline looks up what it may cite).
    assert signer.get(f"/v1/generators/{signer.generator_id}").status_code == 200
