"""Manifests the registry refuses to sign (nothing signed, nothing written), and tenant
isolation.

Most refusals come from an honest c2pa run over an edited manifest definition, as a pipeline
that alters what the session gave it would make them; the rest from a manifest store edited
after c2pa built it (a claim that lists no hard binding, an assertion box that is not what
the claim hashed, another certificate).
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
import sqlalchemy as sa
from flask import Flask

from registry.c2pa.labels import ACTIONS_LABEL, CONSENT_LABEL, IPTC_SOURCE_TYPE, TRAINING_LABEL
from registry.db import utcnow
from registry.local_signing.models import SigningSession
from registry.local_signing.schemas import MAX_MANIFEST_STORE
from registry.state import state_of
from tests.factories import Studio, assert_problem
from tests.local_signing.conftest import (
    Capture,
    capture,
    open_session,
    post_signature,
    session_body,
)
from tests.media import assets

Definition = dict[str, Any]


def _assertion(definition: Definition, label: str) -> dict[str, Any]:
    return next(a for a in definition["assertions"] if a["label"] == label)


def _consent_purpose(definition: Definition) -> Definition:
    _assertion(definition, CONSENT_LABEL)["data"]["grants"][0]["purpose"] = "feature film"
    return definition


def _consent_renamed(definition: Definition) -> Definition:
    _assertion(definition, CONSENT_LABEL)["label"] = "org.example.consent"
    return definition


def _dropped(label: str) -> Callable[[Definition], Definition]:
    def edit(definition: Definition) -> Definition:
        definition["assertions"] = [a for a in definition["assertions"] if a["label"] != label]
        return definition

    return edit


def _training_allowed(definition: Definition) -> Definition:
    entries = _assertion(definition, TRAINING_LABEL)["data"]["entries"]
    for entry in entries.values():
        entry["use"] = "allowed"
    return definition


def _captured(definition: Definition) -> Definition:
    """The created action says the media was captured by a camera, not generated."""
    created = _assertion(definition, ACTIONS_LABEL)["data"]["actions"][0]
    created["digitalSourceType"] = IPTC_SOURCE_TYPE + "digitalCapture"
    return definition


def _created_earlier(definition: Definition) -> Definition:
    created = _assertion(definition, ACTIONS_LABEL)["data"]["actions"][0]
    created["when"] = "2020-01-01T00:00:00+00:00"
    return definition


def _extra(definition: Definition) -> Definition:
    definition["assertions"].append({"label": "org.example.note", "data": {"text": "mine"}})
    return definition


def _set(key: str, value: Any) -> Callable[[Definition], Definition]:
    return lambda definition: {**definition, key: value}


# An honest c2pa run over an edited definition: (edit, status, problem type).
DEFINITION_EDITS: dict[str, tuple[Callable[[Definition], Definition], int, str]] = {
    "consent data altered": (_consent_purpose, 422, "claim-not-as-authorized"),
    "consent assertion renamed": (_consent_renamed, 422, "claim-not-as-authorized"),
    "consent assertion dropped": (_dropped(CONSENT_LABEL), 422, "claim-not-as-authorized"),
    "training-mining altered": (_training_allowed, 422, "claim-not-as-authorized"),
    "not AI-generated": (_captured, 422, "claim-not-as-authorized"),
    "created at another time": (_created_earlier, 422, "claim-not-as-authorized"),
    "an assertion added": (_extra, 422, "claim-not-as-authorized"),
    "another title": (_set("title", "other"), 422, "claim-not-as-authorized"),
    "another manifest label": (
        _set("label", f"urn:c2pa:{uuid.uuid4()}"),
        422,
        "claim-not-as-authorized",
    ),
}


@pytest.mark.parametrize("edit", list(DEFINITION_EDITS))
def test_a_manifest_built_from_an_altered_definition_is_refused(
    studio: Studio,
    grant: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
    edit: str,
) -> None:
    change, status, slug = DEFINITION_EDITS[edit]
    source = assets.make_jpeg(work)
    altered = capture(studio, grant["id"], source, work, edit=lambda d: change(copy.deepcopy(d)))
    before = counts()
    response = post_signature(studio, altered.session["id"], altered.manifest)
    assert_problem(response, status, slug)
    assert "signature" not in response.json
    assert counts() == before


def test_altered_consent_data_is_named_in_the_refusal(
    studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    altered = capture(studio, grant["id"], assets.make_jpeg(work), work, edit=_consent_purpose)
    response = post_signature(studio, altered.session["id"], altered.manifest)
    assert_problem(response, 422, "claim-not-as-authorized")
    assert response.json["differs"] == [CONSENT_LABEL]


def _genuine_after(captured: Capture, studio: Studio) -> None:
    """The session stays open after a refusal: its genuine manifest is still signed."""
    genuine = post_signature(studio, captured.session["id"], captured.manifest)
    assert genuine.status_code == 200, genuine.json


def _flip_in_consent(captured: Capture) -> bytes:
    path = [captured.label, "c2pa.assertions", CONSENT_LABEL]
    data = cbor2.loads(captured._content(path).payload)
    data["grants"][0]["purpose"] = "feature film"
    return captured.with_content(path, cbor2.dumps(data))


def _another_chain(captured: Capture) -> bytes:
    path = [captured.label, "c2pa.signature"]
    cose = cbor2.loads(captured._content(path).payload)
    sign1 = list(cose.value)
    protected = cbor2.loads(sign1[0])
    protected[33] = [b"not the registry's certificate"]
    sign1[0] = cbor2.dumps(protected)
    return captured.with_content(path, cbor2.dumps(cbor2.CBORTag(cose.tag, sign1)))


def _binding(captured: Capture) -> str:
    return next(label for label in captured.assertion_labels() if label.startswith("c2pa.hash."))


def _actions(captured: Capture) -> str:
    return next(label for label in captured.assertion_labels() if label.startswith("c2pa.actions"))


# A manifest store edited after c2pa built it: (edit, status, problem type).
STORE_EDITS: dict[str, tuple[Callable[[Capture], bytes], int, str]] = {
    "hard binding dropped": (
        lambda c: c.without_assertion(_binding(c)),
        422,
        "claim-without-hard-binding",
    ),
    "actions assertion dropped": (
        lambda c: c.without_assertion(_actions(c)),
        422,
        "claim-without-ai-label",
    ),
    "consent box altered after hashing": (_flip_in_consent, 422, "not-a-manifest-to-sign"),
    "a listed assertion missing": (
        lambda c: c.with_claim(
            {
                **c.claim(),
                "created_assertions": [
                    *c.claim()["created_assertions"],
                    {"url": "self#jumbf=c2pa.assertions/c2pa.ghost", "hash": b"0" * 32},
                ],
            }
        ),
        422,
        "not-a-manifest-to-sign",
    ),
    "an assertion not listed": (
        lambda c: c.with_claim(
            {
                **c.claim(),
                "gathered_assertions": [
                    a for a in c.claim()["gathered_assertions"] if CONSENT_LABEL not in a["url"]
                ],
            }
        ),
        422,
        "not-a-manifest-to-sign",
    ),
    "another certificate chain": (_another_chain, 422, "claim-not-as-authorized"),
    "a claim that redacts": (
        lambda c: c.with_claim({**c.claim(), "redacted_assertions": ["x"]}),
        422,
        "claim-not-as-authorized",
    ),
    "a claim with MD5": (
        lambda c: c.with_claim({**c.claim(), "alg": "md5"}),
        422,
        "claim-not-as-authorized",
    ),
}


@pytest.mark.parametrize("edit", list(STORE_EDITS))
def test_an_edited_manifest_store_is_refused_and_nothing_is_signed(
    studio: Studio,
    grant: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
    edit: str,
) -> None:
    change, status, slug = STORE_EDITS[edit]
    captured = capture(studio, grant["id"], assets.make_jpeg(work), work)
    before = counts()
    response = post_signature(studio, captured.session["id"], change(captured))
    assert_problem(response, status, slug)
    assert "signature" not in response.json
    assert counts() == before
    _genuine_after(captured, studio)


@pytest.mark.parametrize(
    "data",
    [
        b"not jumbf \xff",
        b"\x00\x00\x00\x10jumb\x00\x00\x00\x08jumd",
        b"\x00\x00\x00\x08jumb",
        b"\x00\x00\x01\x00jumb" + bytes(8),
    ],
    ids=["junk", "description-cut-short", "no-description", "length-past-the-end"],
)
def test_bytes_that_are_no_manifest_store_are_refused(
    studio: Studio,
    grant: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
    data: bytes,
) -> None:
    session = open_session(studio, grant["id"], assets.make_jpeg(work))
    before = counts()
    assert_problem(post_signature(studio, session["id"], data), 422, "not-a-manifest-to-sign")
    assert counts() == before


def test_a_session_signs_once(
    studio: Studio, grant: dict[str, Any], work: Path, counts: Callable[[], dict[str, int]]
) -> None:
    captured = capture(studio, grant["id"], assets.make_jpeg(work), work)
    first = post_signature(studio, captured.session["id"], captured.manifest)
    assert first.status_code == 200, first.json
    assert first.json["media"]["stored"] is False
    before = counts()
    again = post_signature(studio, captured.session["id"], captured.manifest)
    assert_problem(again, 409, "signing-session-used")
    assert counts() == before


def test_an_expired_session_is_refused(
    app: Flask,
    studio: Studio,
    grant: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
) -> None:
    captured = capture(studio, grant["id"], assets.make_jpeg(work), work)
    with state_of(app).database.session_scope() as session:
        session.execute(
            sa.update(SigningSession)
            .where(SigningSession.id == captured.session["id"])  # type: ignore[arg-type]
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    before = counts()
    response = post_signature(studio, captured.session["id"], captured.manifest)
    assert_problem(response, 410, "signing-session-expired")
    assert counts() == before


def test_a_grant_revoked_during_the_session_refuses_the_signature(
    studio: Studio, grant: dict[str, Any], work: Path, counts: Callable[[], dict[str, int]]
) -> None:
    captured = capture(studio, grant["id"], assets.make_jpeg(work), work)
    studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    before = counts()
    response = post_signature(studio, captured.session["id"], captured.manifest)
    assert_problem(response, 422, "grant-revoked")
    assert counts() == before


def test_sessions_refuse_as_uploads_do(
    studio: Studio, grant: dict[str, Any], work: Path, counts: Callable[[], dict[str, int]]
) -> None:
    path = assets.make_jpeg(work)
    before = counts()
    out_of_scope = session_body(grant["id"], path)
    out_of_scope["grants"][0]["territory"] = "FR"
    assert_problem(
        studio.post("/v1/signing-sessions", json=out_of_scope), 422, "grant-out-of-scope"
    )
    unknown = session_body("01a2f000-0000-7000-8000-000000000000", path)
    assert_problem(studio.post("/v1/signing-sessions", json=unknown), 422, "grant-not-found")
    bad_print = session_body(grant["id"], path, fingerprints=["ISCC:KACYPXW445FTYNJ3"])
    assert_problem(studio.post("/v1/signing-sessions", json=bad_print), 422, "fingerprint-invalid")
    no_hash = session_body(grant["id"], path, source_sha256="abc")
    assert_problem(studio.post("/v1/signing-sessions", json=no_hash), 422, "validation-error")
    assert counts() == before


def test_another_organizations_session_is_not_found(
    studio: Studio,
    other_studio: Studio,
    grant: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
) -> None:
    captured = capture(studio, grant["id"], assets.make_jpeg(work), work)
    session_id = captured.session["id"]
    before = counts()
    assert_problem(
        other_studio.get(f"/v1/signing-sessions/{session_id}"), 404, "signing-session-not-found"
    )
    assert_problem(
        post_signature(other_studio, session_id, captured.manifest),
        404,
        "signing-session-not-found",
    )
    assert_problem(other_studio.get("/v1/signing-sessions/nope"), 404, "signing-session-not-found")
    assert counts() == before
    signed = post_signature(studio, session_id, captured.manifest).json
    media_id = signed["media"]["id"]
    assert_problem(other_studio.get(f"/v1/media/{media_id}"), 404, "media-not-found")
    assert_problem(other_studio.get(f"/v1/media/{media_id}/content"), 404, "media-not-found")
    assert other_studio.get("/v1/media").json["items"] == []


def test_the_source_hash_comes_with_the_session_or_the_signature(
    studio: Studio, grant: dict[str, Any], work: Path, counts: Callable[[], dict[str, int]]
) -> None:
    path = assets.make_jpeg(work)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    late = capture(studio, grant["id"], path, work, source_sha256=None)
    assert late.session["source_sha256"] is None
    before = counts()
    missing = post_signature(studio, late.session["id"], late.manifest)
    assert_problem(missing, 422, "source-hash-required")
    assert counts() == before
    signed = post_signature(studio, late.session["id"], late.manifest, source_sha256=digest)
    assert signed.status_code == 200, signed.json
    assert signed.json["media"]["source_sha256"] == digest
    early = capture(studio, grant["id"], path, work)
    before = counts()
    other = post_signature(studio, early.session["id"], early.manifest, source_sha256="0" * 64)
    assert_problem(other, 422, "source-hash-mismatch")
    assert counts() == before
    same = post_signature(studio, early.session["id"], early.manifest, source_sha256=digest)
    assert same.status_code == 200, same.json


@pytest.mark.parametrize(
    ("value", "slug"),
    [
        ("abcde", "validation-error"),
        ("not base64!", "validation-error"),
        ("A" * (MAX_MANIFEST_STORE // 3 * 4 + 8), "validation-error"),
        # The longest base64 the schema admits is read, and is no manifest store.
        ("A" * (MAX_MANIFEST_STORE // 3 * 4 + 4), "not-a-manifest-to-sign"),
    ],
    ids=["padding", "alphabet", "too-long", "longest"],
)
def test_a_manifest_that_is_not_base64_or_too_long_is_refused(
    studio: Studio,
    grant: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
    value: str,
    slug: str,
) -> None:
    session = open_session(studio, grant["id"], assets.make_jpeg(work))
    before = counts()
    response = studio.post(
        f"/v1/signing-sessions/{session['id']}/signature", json={"manifest": value}
    )
    assert_problem(response, 422, slug)
    assert counts() == before
