"""Claims the registry refuses to sign (nothing signed, nothing written), the one it signs but
verification catches (altered assertion data under the right label), and tenant isolation."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from registry.c2pa.labels import CONSENT_LABEL
from registry.db import utcnow
from registry.local_signing.models import SigningSession
from registry.local_signing.pipeline import sign_file_locally
from registry.state import state_of
from tests.factories import Studio, assert_problem
from tests.local_signing.conftest import capture, open_session, post_signature, session_body
from tests.media import assets
from tests.verification.conftest import checks_of, verify


def _without(claim: dict[str, Any], marker: str) -> dict[str, Any]:
    claim = copy.deepcopy(claim)
    for key in ("created_assertions", "gathered_assertions"):
        claim[key] = [a for a in claim.get(key, []) if marker not in a["url"]]
    return claim


def _renamed(claim: dict[str, Any], marker: str, to: str) -> dict[str, Any]:
    claim = copy.deepcopy(claim)
    for key in ("created_assertions", "gathered_assertions"):
        for a in claim.get(key, []):
            a["url"] = a["url"].replace(marker, to)
    return claim


EDITS: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], int, str]] = {
    "consent assertion replaced": (
        lambda c: _renamed(c, CONSENT_LABEL, "org.example.consent"),
        422,
        "claim-not-as-authorized",
    ),
    "consent assertion dropped": (
        lambda c: _without(c, CONSENT_LABEL),
        422,
        "claim-not-as-authorized",
    ),
    "actions assertion dropped": (
        lambda c: _without(c, "c2pa.actions"),
        422,
        "claim-without-ai-label",
    ),
    "hard binding dropped": (
        lambda c: _without(c, "c2pa.hash."),
        422,
        "claim-without-hard-binding",
    ),
    "another manifest label": (
        lambda c: {**c, "signature": "self#jumbf=/c2pa/urn:c2pa:0/c2pa.signature"},
        422,
        "claim-not-as-authorized",
    ),
    "another title": (lambda c: {**c, "dc:title": "other"}, 422, "claim-not-as-authorized"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_altered_claim_is_refused_and_nothing_is_signed(
    studio: Studio,
    grant: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
    edit: str,
) -> None:
    change, status, slug = EDITS[edit]
    captured = capture(studio, grant["id"], assets.make_jpeg(work), work)
    before = counts()
    response = post_signature(
        studio, captured.session["id"], captured.with_claim(change(captured.claim()))
    )
    assert_problem(response, status, slug)
    assert "signature" not in response.json
    assert counts() == before
    # The session stays open: the genuine claim is still signed.
    genuine = post_signature(studio, captured.session["id"], captured.to_be_signed)
    assert genuine.status_code == 200, genuine.json


def test_a_claim_naming_another_certificate_is_refused(
    studio: Studio, grant: dict[str, Any], work: Path, counts: Callable[[], dict[str, int]]
) -> None:
    captured = capture(studio, grant["id"], assets.make_jpeg(work), work)
    structure = captured.structure
    import cbor2

    protected = cbor2.loads(structure[1])
    protected[33] = [b"not the registry's certificate"]
    structure[1] = cbor2.dumps(protected)
    before = counts()
    response = post_signature(studio, captured.session["id"], cbor2.dumps(structure))
    assert_problem(response, 422, "claim-not-as-authorized")
    assert counts() == before


@pytest.mark.parametrize(
    "data", [b"not cbor \xff", b"\x84\x01\x02\x03\x04", b"\x80"], ids=["junk", "ints", "empty"]
)
def test_bytes_that_are_no_claim_are_refused(
    studio: Studio,
    grant: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
    data: bytes,
) -> None:
    session = open_session(studio, grant["id"], assets.make_jpeg(work))
    before = counts()
    assert_problem(post_signature(studio, session["id"], data), 422, "not-a-claim-to-sign")
    assert counts() == before


def test_a_session_signs_once(
    studio: Studio, grant: dict[str, Any], work: Path, counts: Callable[[], dict[str, int]]
) -> None:
    captured = capture(studio, grant["id"], assets.make_jpeg(work), work)
    first = post_signature(studio, captured.session["id"], captured.to_be_signed)
    assert first.status_code == 200, first.json
    assert first.json["media"]["stored"] is False
    before = counts()
    again = post_signature(studio, captured.session["id"], captured.to_be_signed)
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
    response = post_signature(studio, captured.session["id"], captured.to_be_signed)
    assert_problem(response, 410, "signing-session-expired")
    assert counts() == before


def test_a_grant_revoked_during_the_session_refuses_the_signature(
    studio: Studio, grant: dict[str, Any], work: Path, counts: Callable[[], dict[str, int]]
) -> None:
    captured = capture(studio, grant["id"], assets.make_jpeg(work), work)
    studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    before = counts()
    response = post_signature(studio, captured.session["id"], captured.to_be_signed)
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


def test_altered_assertion_data_is_signed_but_fails_verification(
    studio: Studio, client: FlaskClient, grant: dict[str, Any], work: Path
) -> None:
    """c2pa salts assertions: the registry cannot see altered data under the session's labels
    when it signs. Verification compares them with the session and fails the file."""
    source = assets.make_jpeg(work)
    session = open_session(studio, grant["id"], source)
    definition = copy.deepcopy(session["manifest_definition"])
    for assertion in definition["assertions"]:
        if assertion["label"] == CONSENT_LABEL:
            assertion["data"]["grants"][0]["purpose"] = "feature film"
    out = work / "altered.jpg"

    def sign(data: bytes) -> bytes:
        response = post_signature(studio, session["id"], data)
        assert response.status_code == 200, response.json
        import base64

        return base64.b64decode(response.json["signature"])

    sign_file_locally(
        source=source,
        dest=out,
        mime_type=session["mime_type"],
        definition=definition,
        certificate_chain=session["certificate_chain"],
        sign=sign,
    )
    result = verify(client, out).json
    assert result["verdict"] == "fail"
    assert checks_of(result)["integrity"]["code"] == "integrity.not_as_authorized"


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
        post_signature(other_studio, session_id, captured.to_be_signed),
        404,
        "signing-session-not-found",
    )
    assert_problem(other_studio.get("/v1/signing-sessions/nope"), 404, "signing-session-not-found")
    assert counts() == before
    signed = post_signature(studio, session_id, captured.to_be_signed).json
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
    missing = post_signature(studio, late.session["id"], late.to_be_signed)
    assert_problem(missing, 422, "source-hash-required")
    assert counts() == before
    signed = post_signature(studio, late.session["id"], late.to_be_signed, source_sha256=digest)
    assert signed.status_code == 200, signed.json
    assert signed.json["media"]["source_sha256"] == digest
    early = capture(studio, grant["id"], path, work)
    before = counts()
    other = post_signature(studio, early.session["id"], early.to_be_signed, source_sha256="0" * 64)
    assert_problem(other, 422, "source-hash-mismatch")
    assert counts() == before
    same = post_signature(studio, early.session["id"], early.to_be_signed, source_sha256=digest)
    assert same.status_code == 200, same.json


@pytest.mark.parametrize(
    "value", ["abcde", "not base64!", "A" * 50_000], ids=["padding", "alphabet", "too-long"]
)
def test_to_be_signed_that_is_not_base64_or_too_long_is_refused(
    studio: Studio,
    grant: dict[str, Any],
    work: Path,
    counts: Callable[[], dict[str, int]],
    value: str,
) -> None:
    session = open_session(studio, grant["id"], assets.make_jpeg(work))
    before = counts()
    response = studio.post(
        f"/v1/signing-sessions/{session['id']}/signature", json={"to_be_signed": value}
    )
    assert_problem(response, 422, "validation-error")
    assert counts() == before
