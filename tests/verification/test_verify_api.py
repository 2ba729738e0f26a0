"""POST /v1/verify: the verdicts the acceptance list names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from registry.state import state_of
from tests.factories import Studio
from tests.media import assets
from tests.verification.conftest import (
    Signed,
    checks_of,
    manifest_definition,
    sign_elsewhere,
    sign_png,
    verify,
)


def test_file_signed_by_the_service_passes(client: FlaskClient, signed_jpeg: Signed) -> None:
    response = verify(client, signed_jpeg.path)
    assert response.status_code == 200
    result = response.json
    assert result["verdict"] == "pass"
    assert result["labelled_ai_generated"] is True
    assert {c["status"] for c in result["checks"]} == {"pass"}
    assert result["manifest"]["active_manifest"] == signed_jpeg.asset["manifest_id"]
    assert result["manifest"]["generator"] == "VoiceForge 2.1"
    assert result["manifest"]["digital_source_type"] == "trainedAlgorithmicMedia"
    [grant] = result["grants"]
    assert grant == {
        "grant_id": signed_jpeg.grant["id"],
        "status_now": "active",
        "status_at_signing": "active",
        "in_scope": True,
        "scope_gap": None,
        "token_matches": True,
        "status_url": f"/v1/grants/{signed_jpeg.grant['id']}/status",
    }
    assert result["recovered_from"] is None
    assert "consent it cites is in force" in result["summary"]


def test_grant_revoked_after_signing_fails(
    client: FlaskClient, studio: Studio, signed_jpeg: Signed
) -> None:
    studio.post(f"/v1/grants/{signed_jpeg.grant['id']}/revoke", json={"reason": "withdrawn"})
    result = verify(client, signed_jpeg.path).json
    assert result["verdict"] == "fail"
    consent = checks_of(result)["consent"]
    assert (consent["status"], consent["code"]) == ("fail", "consent.revoked")
    assert result["grants"][0]["status_now"] == "revoked"
    assert result["grants"][0]["status_at_signing"] == "active"
    assert "revoked" in result["summary"]


def test_grant_suspended_after_signing_fails(
    client: FlaskClient, studio: Studio, signed_jpeg: Signed
) -> None:
    studio.post(f"/v1/grants/{signed_jpeg.grant['id']}/suspend", json={"reason": "dispute"})
    consent = checks_of(verify(client, signed_jpeg.path).json)["consent"]
    assert (consent["status"], consent["code"]) == ("fail", "consent.suspended")


def test_grant_that_expired_since_signing_fails(
    app: Flask, client: FlaskClient, signed_jpeg: Signed
) -> None:
    # Time passes: the grant's period ends before the file is checked.
    with state_of(app).database.session_scope() as session:
        session.execute(
            sa.text("UPDATE consent_grants SET valid_until = :t WHERE id = :id"),
            {"t": "2020-01-01 00:00:00", "id": signed_jpeg.grant["id"]},
        )
    result = verify(client, signed_jpeg.path).json
    assert result["verdict"] == "fail"
    assert checks_of(result)["consent"]["code"] == "consent.expired"
    assert result["grants"][0]["status_at_signing"] == "active"


def test_one_flipped_byte_fails_integrity(client: FlaskClient, signed_jpeg: Signed) -> None:
    tampered = assets.flip_payload_byte(signed=signed_jpeg.path, source=signed_jpeg.source)
    result = verify(client, tampered).json
    assert result["verdict"] == "fail"
    integrity = checks_of(result)["integrity"]
    assert (integrity["status"], integrity["code"]) == ("fail", "integrity.hash_mismatch")
    assert "tampered" in result["summary"]


def test_stripped_manifest_is_recovered_by_source_hash(
    client: FlaskClient, signed_jpeg: Signed
) -> None:
    result = verify(client, signed_jpeg.source).json
    assert result["verdict"] == "warn"
    assert result["recovered_from"] == "source_hash"
    assert result["known_asset"]["id"] == signed_jpeg.asset["id"]
    checks = checks_of(result)
    assert checks["manifest_present"]["code"] == "manifest.stripped"
    assert checks["ai_label"]["status"] == "warn"
    assert checks["consent"]["status"] == "pass"
    assert [g["grant_id"] for g in result["grants"]] == [signed_jpeg.grant["id"]]
    assert "removed" in result["summary"]


def test_stripped_label_and_revoked_grant_fails(
    client: FlaskClient, studio: Studio, signed_jpeg: Signed
) -> None:
    studio.post(f"/v1/grants/{signed_jpeg.grant['id']}/revoke", json={"reason": "withdrawn"})
    result = verify(client, signed_jpeg.source).json
    assert result["verdict"] == "fail"
    assert result["recovered_from"] == "source_hash"
    assert checks_of(result)["consent"]["code"] == "consent.revoked"


def test_unknown_file_without_manifest_fails_the_ai_label(client: FlaskClient, work: Path) -> None:
    result = verify(client, assets.make_png(work)).json
    assert result["verdict"] == "fail"
    ai_label = checks_of(result)["ai_label"]
    assert (ai_label["status"], ai_label["code"]) == ("fail", "manifest.missing")
    assert result["recovered_from"] is None and result["manifest"] is None


def test_file_signed_by_an_untrusted_ca_warns(client: FlaskClient, work: Path) -> None:
    signed = sign_elsewhere(
        assets.make_png(work),
        work / "elsewhere.png",
        keys=work / "other-ca",
        source_type="trainedAlgorithmicMedia",
        mime_type="image/png",
    )
    result = verify(client, signed).json
    assert result["verdict"] == "warn"
    signer = checks_of(result)["signer_trusted"]
    assert (signer["status"], signer["code"]) == ("warn", "signer.untrusted")
    assert checks_of(result)["integrity"]["status"] == "pass"


def test_valid_manifest_without_ai_source_type(
    client: FlaskClient, work: Path, our_credential
) -> None:  # type: ignore[no-untyped-def]
    dest = sign_png(
        work, our_credential, manifest_definition(source_type="digitalCapture"), "camera.png"
    )
    result = verify(client, dest).json
    assert result["labelled_ai_generated"] is False
    checks = checks_of(result)
    assert (checks["ai_label"]["status"], checks["ai_label"]["code"]) == (
        "not_applicable",
        "ai_label.not_declared",
    )
    assert checks["consent"]["status"] == "not_applicable"
    assert result["verdict"] == "pass"
    assert "do not say that it was generated by AI" in result["summary"]


def test_ai_labelled_file_without_consent_assertion_warns(
    client: FlaskClient,
    work: Path,
    our_credential,  # type: ignore[no-untyped-def]
) -> None:
    definition = manifest_definition(source_type="trainedAlgorithmicMedia")
    dest = sign_png(work, our_credential, definition, "unconsented.png")
    result = verify(client, dest).json
    consent = checks_of(result)["consent"]
    assert (consent["status"], consent["code"]) == ("warn", "consent.not_claimed")
    assert result["verdict"] == "warn"
    assert result["labelled_ai_generated"] is True


def test_consent_assertion_citing_an_unknown_grant_fails(
    client: FlaskClient,
    work: Path,
    our_credential,  # type: ignore[no-untyped-def]
) -> None:
    result = _verify_png_citing(
        client,
        work,
        our_credential,
        grant_id="01a1fdcc-5e63-7ad6-a8b4-2859c03b1561",
        token_sha256="0" * 64,
        purpose="ads",
    )
    assert result["verdict"] == "fail"
    assert checks_of(result)["consent"]["code"] == "consent.unknown_grant"


def test_wrong_token_hash_is_a_token_mismatch(
    client: FlaskClient,
    studio: Studio,
    work: Path,
    our_credential,  # type: ignore[no-untyped-def]
) -> None:
    grant = studio.grant(media_types=["image"])
    result = _verify_png_citing(
        client,
        work,
        our_credential,
        grant_id=grant["id"],
        token_sha256="f" * 64,
        purpose="advertising",
    )
    assert checks_of(result)["consent"]["code"] == "consent.token_mismatch"
    assert result["grants"][0]["token_matches"] is False


def test_verification_stores_nothing(
    client: FlaskClient,
    signed_jpeg: Signed,
    counts,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    before = counts()
    assert verify(client, signed_jpeg.path).status_code == 200
    assert counts() == before
    assert list((settings.data_dir / "spool").iterdir()) == []


def test_raw_body_is_accepted(client: FlaskClient, signed_jpeg: Signed) -> None:
    response = client.post(
        "/v1/verify", data=signed_jpeg.path.read_bytes(), content_type="application/octet-stream"
    )
    assert response.status_code == 200
    assert response.json["verdict"] == "pass"


def test_wrong_extension_does_not_matter(client: FlaskClient, signed_jpeg: Signed) -> None:
    response = verify(client, signed_jpeg.path, filename="clip.mp4")
    assert response.json["verdict"] == "pass"
    assert response.json["mime_type"] == "image/jpeg"


def _verify_png_citing(
    client: FlaskClient,
    work: Path,
    credential: Any,
    *,
    grant_id: str,
    token_sha256: str,
    purpose: str,
) -> dict[str, Any]:
    """Verify a PNG whose manifest (signed by ``credential``) cites one voice grant in the US."""
    cited = {
        "grant_id": grant_id,
        "sha256": token_sha256,
        "modalities": ["voice"],
        "purpose": purpose,
        "territory": "US",
    }
    definition = manifest_definition(source_type="trainedAlgorithmicMedia", consent_grants=[cited])
    return verify(client, sign_png(work, credential, definition, "cited.png")).json  # type: ignore[no-any-return]
