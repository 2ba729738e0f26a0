"""Signing may cite only an approved, unretired generator of the organization that produces
the kind of media signed: every other citation is a 422 problem, and nothing is written."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from registry.state import state_of
from tests.factories import Studio, assert_problem
from tests.generators.test_inventory import create
from tests.media import assets
from tests.media.conftest import metadata, sign_upload
from tests.media.test_sign_race import PAUSE_SECONDS, PausingStorage, _in_thread


def _sign(studio: Studio, work: Path, grant_id: str, **generator: Any):  # type: ignore[no-untyped-def]
    meta = metadata(grant_id)
    del meta["generator"]
    meta.update(generator)
    return sign_upload(studio, assets.make_wav(work), meta)


def test_an_approved_generator_cited_by_id_signs(studio: Studio, work: Path) -> None:
    grant = studio.grant()
    response = _sign(studio, work, grant["id"], generator_id=studio.generator_id)
    assert response.status_code == 201, response.json
    assert response.json["generator"] == {"name": "VoiceForge", "version": "2.1"}


def test_an_unknown_generator_is_refused(
    studio: Studio, work: Path, snapshot: Callable[[], Callable[[], None]]
) -> None:
    grant = studio.grant()
    check = snapshot()
    by_name = _sign(studio, work, grant["id"], generator={"name": "Nope", "version": "1"})
    assert assert_problem(by_name, 422, "generator-unknown")["generator"] == "Nope@1"
    by_id = _sign(studio, work, grant["id"], generator_id="0193a0b0-0000-7000-8000-000000000000")
    assert_problem(by_id, 422, "generator-unknown")
    assert_problem(_sign(studio, work, grant["id"], generator_id="x"), 422, "generator-unknown")
    check()


def test_another_organizations_generator_is_unknown(
    studio: Studio,
    other_studio: Studio,
    work: Path,
    snapshot: Callable[[], Callable[[], None]],
) -> None:
    grant = studio.grant()
    theirs = create(other_studio, modalities=["audio"])
    other_studio.post(f"/v1/generators/{theirs['id']}/approve", json={})
    check = snapshot()
    for cite in (
        {"generator_id": theirs["id"]},
        {"generator": {"name": "ImageForge", "version": "3.0"}},
    ):
        assert_problem(_sign(studio, work, grant["id"], **cite), 422, "generator-unknown")
    check()


def test_a_pending_generator_is_refused(
    studio: Studio, work: Path, snapshot: Callable[[], Callable[[], None]]
) -> None:
    grant = studio.grant()
    pending = create(studio, modalities=["audio"])
    check = snapshot()
    body = assert_problem(
        _sign(studio, work, grant["id"], generator_id=pending["id"]), 422, "generator-not-approved"
    )
    assert body["generator"] == pending["id"]
    check()
    # An approved one whose facts then changed needs approving again.
    studio.post(f"/v1/generators/{pending['id']}/approve", json={})
    assert _sign(studio, work, grant["id"], generator_id=pending["id"]).status_code == 201
    studio.client.patch(
        f"/v1/generators/{pending['id']}", json={"training_data": "unknown"}, headers=studio.headers
    )
    check = snapshot()
    assert_problem(
        _sign(studio, work, grant["id"], generator_id=pending["id"]), 422, "generator-not-approved"
    )
    check()


def test_a_retired_generator_is_refused(
    studio: Studio, work: Path, snapshot: Callable[[], Callable[[], None]]
) -> None:
    grant = studio.grant()
    assert studio.post(f"/v1/generators/{studio.generator_id}/retire", json={}).status_code == 200
    check = snapshot()
    for cite in (
        {"generator_id": studio.generator_id},
        {"generator": {"name": "VoiceForge", "version": "2.1"}},
    ):
        assert_problem(_sign(studio, work, grant["id"], **cite), 422, "generator-retired-cited")
    check()


def test_a_generator_that_does_not_produce_the_kind_is_refused(
    studio: Studio, work: Path, snapshot: Callable[[], Callable[[], None]]
) -> None:
    grant = studio.grant()
    images = create(studio, modalities=["image"])
    studio.post(f"/v1/generators/{images['id']}/approve", json={})
    check = snapshot()
    body = assert_problem(
        _sign(studio, work, grant["id"], generator_id=images["id"]), 422, "generator-wrong-kind"
    )
    assert body["media_kind"] == "audio"
    check()


@pytest.mark.parametrize(
    "cite",
    [
        {},
        {"generator_id": "g", "generator": {"name": "VoiceForge", "version": "2.1"}},
    ],
    ids=["neither", "both"],
)
def test_exactly_one_of_generator_id_and_generator(
    studio: Studio,
    work: Path,
    snapshot: Callable[[], Callable[[], None]],
    cite: dict[str, Any],
) -> None:
    grant = studio.grant()
    check = snapshot()
    assert_problem(_sign(studio, work, grant["id"], **cite), 422, "validation-error")
    check()


def test_a_retirement_during_signing_refuses_the_sign(
    app: Flask,
    studio: Studio,
    work: Path,
    counts: Callable[[], dict[str, int]],
    blobs: Callable[[], list[str]],
) -> None:
    grant = studio.grant()
    state = state_of(app)
    storage = PausingStorage(state.signing.storage)
    state.signing = dataclasses.replace(state.signing, storage=storage)
    before = counts()
    wav = assets.make_wav(work)
    signer, signed = _in_thread(lambda: sign_upload(studio, wav, metadata(grant["id"])))
    assert storage.reached.wait(60), "the sign never reached storage"
    retirer, retired = _in_thread(
        lambda: studio.post(f"/v1/generators/{studio.generator_id}/retire", json={})
    )
    retirer.join(PAUSE_SECONDS / 2)
    storage.go_on.set()
    signer.join(60)
    retirer.join(60)
    assert retired[0].status_code == 200
    assert_problem(signed[0], 422, "generator-retired-cited")
    after = counts()
    assert after["media_assets"] == before["media_assets"]
    assert after["creation_records"] == before["creation_records"]
    assert blobs() == []
