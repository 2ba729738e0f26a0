"""Declarations: do_not_synthesize refuses new grants and signing with unconfirmed ones;
do_not_train refuses training grants and turns the next manifest's training-mining assertion
to notAllowed; the page shows the effect before saving; verification reports a contradiction."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from registry.audit.models import AuditEvent
from registry.consent.declarations import SubjectDeclaration
from registry.settings import Settings
from registry.state import state_of
from registry.webhooks.models import WebhookEvent
from tests.factories import Studio, assert_problem, grant_body
from tests.media import assets
from tests.media.conftest import metadata, sign_upload
from tests.media.test_sign_api import dev_ca, download, read_plain
from tests.portal.conftest import Person

TRAINING = {"operations": ["generate", "train"], "training": "allowed"}


def _declare(person: Person, *kinds: str) -> None:
    form = {kind: "yes" for kind in kinds}
    assert person.post("/portal/declarations", action="save", **form).status_code == 303


def _training_uses(studio: Studio, settings: Settings, asset_id: str) -> set[str]:
    store = read_plain(download(studio, asset_id), "audio/wav", dev_ca(settings))
    manifest = store["manifests"][store["active_manifest"]]
    assertions = {a["label"]: a["data"] for a in manifest["assertions"]}
    return {e["use"] for e in assertions["cawg.training-mining"]["entries"].values()}


def test_the_page_shows_the_effect_before_saving(
    app: Flask, person: Person, pending: dict[str, Any], counts: Callable[[], dict[str, int]]
) -> None:
    before = counts()
    response = person.post("/portal/declarations", action="preview", do_not_synthesize="yes")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No studio can issue a new grant for you." in page
    assert "not confirmed yourself" in page and "Northwind Studios: your voice" in page
    assert "Save my declarations" in page
    assert counts() == before  # a preview writes nothing


def test_do_not_synthesize_refuses_a_new_grant_and_unconfirmed_signing(
    app: Flask,
    studio: Studio,
    person: Person,
    pending: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
) -> None:
    subject_id = pending["subject"]["id"]
    unconfirmed = studio.grant(subject_id)  # the studio's word alone, active
    _declare(person, "do_not_synthesize")
    with state_of(app).database.session_scope() as session:
        [event] = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "subject.declarations_changed")
        ).all()
        assert event.actor == f"subject:{subject_id}"
        assert event.payload["declared"] == ["do_not_synthesize"]
        assert session.scalars(
            sa.select(WebhookEvent).where(WebhookEvent.type == "subject.declarations_changed")
        ).first()

    before = counts()
    response = studio.post("/v1/grants", json=grant_body(subject_id))
    assert_problem(response, 422, "grant-subject-declared-do-not-synthesize")
    refused = sign_upload(studio, assets.make_wav(work), metadata(unconfirmed["id"]))
    assert_problem(refused, 422, "grant-subject-declared-do-not-synthesize")
    assert counts() == before

    # A grant the person confirmed stays until they revoke it.
    person.post(f"/portal/grants/{pending['grant']['id']}/confirm")
    signed = sign_upload(studio, assets.make_wav(work), metadata(pending["grant"]["id"]))
    assert signed.status_code == 201, signed.json


def test_do_not_train_refuses_training_grants_and_changes_the_next_manifest(
    app: Flask,
    studio: Studio,
    settings: Settings,
    person: Person,
    pending: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
) -> None:
    subject_id = pending["subject"]["id"]
    trains = studio.grant(subject_id, media_types=["audio"], **TRAINING)
    first = sign_upload(studio, assets.make_wav(work), metadata(trains["id"])).json
    assert _training_uses(studio, settings, first["id"]) == {"allowed"}

    _declare(person, "do_not_train")
    before = counts()
    response = studio.post("/v1/grants", json=grant_body(subject_id, **TRAINING))
    assert_problem(response, 422, "grant-subject-declared-do-not-train")
    assert counts() == before

    second = sign_upload(studio, assets.make_wav(work), metadata(trains["id"]))
    assert second.status_code == 201, second.json
    assert _training_uses(studio, settings, second.json["id"]) == {"notAllowed"}

    # Verification of the first file reports the declaration it contradicts.
    report = studio.client.post(
        "/v1/verify",
        data=download(studio, first["id"]),
        headers={**studio.headers, "Content-Type": "application/octet-stream"},
    ).json
    declared = next(c for c in report["checks"] if c["check"] == "declarations")
    assert declared["code"] == "declarations.do_not_train" and declared["status"] == "warn"

    # Withdrawing the declaration removes the row; the audit chain keeps the history.
    assert person.post("/portal/declarations", action="save").status_code == 303
    with state_of(app).database.session_scope() as session:
        assert session.scalars(sa.select(SubjectDeclaration)).all() == []
