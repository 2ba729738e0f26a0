"""POST /v1/screen through the real app: how a file is recognised, the consent now, what each
caller may see, and refusals that write nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa
from flask import Flask
from flask.testing import FlaskClient

from registry.keys.c2pa_credential import create_dev_credential
from registry.provenance.fingerprints import ALG, WATERMARK_ALG
from tests.factories import Studio, assert_problem
from tests.softbinding_api.conftest import Registered, post_file, reencoded, unrelated
from tests.verification.conftest import sign_elsewhere

ANONYMOUS_FIELDS = {
    "registered",
    "ai_generated",
    "consent",
    "manifest_id",
    "match",
    "asset",
    "sha256",
    "mime_type",
}


def screen(client: FlaskClient, path: Path, **kwargs: Any) -> dict[str, Any]:
    response = post_file(client, "/v1/screen", path, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.json  # type: ignore[no-any-return]


def test_an_untouched_signed_file_is_recognised_by_its_hash(
    client: FlaskClient, registered: Registered, snapshot: Callable[[], Any]
) -> None:
    before = snapshot()
    result = screen(client, registered.path)
    assert result["registered"] is True
    assert result["ai_generated"] is True
    assert result["consent"] == "in_force"
    assert result["manifest_id"] == registered.manifest_id
    assert result["match"] == {"method": "signed_hash", "alg": None, "similarity": 1.0}
    assert result["asset"] is None  # anonymous: nothing but what the manifest says
    assert result["mime_type"] == "image/jpeg"
    assert set(result) == ANONYMOUS_FIELDS
    assert snapshot() == before


def test_the_unsigned_source_is_recognised_by_its_hash(
    client: FlaskClient, studio: Studio, work: Path, unmarked: Registered
) -> None:
    source = work / "scene-12.jpg"  # what register_picture uploaded for the unmarked asset
    result = screen(client, source)
    assert result["registered"] is True
    assert result["match"]["method"] == "source_hash"
    assert result["manifest_id"] == unmarked.manifest_id


def test_a_reencoded_copy_is_found_by_its_watermark(
    client: FlaskClient, registered: Registered, work: Path
) -> None:
    result = screen(client, reencoded(registered.path, work))
    assert result["registered"] is True
    assert result["match"] == {"method": "watermark", "alg": WATERMARK_ALG, "similarity": 1.0}
    assert result["manifest_id"] == registered.manifest_id
    assert result["consent"] == "in_force"


def test_a_reencoded_copy_without_watermark_is_found_by_its_fingerprint(
    client: FlaskClient, unmarked: Registered, registered: Registered, work: Path
) -> None:
    result = screen(client, reencoded(unmarked.path, work))
    assert result["registered"] is True
    assert result["match"]["method"] == "fingerprint"
    assert result["match"]["alg"] == ALG
    assert 0.875 <= result["match"]["similarity"] <= 1.0  # within 8 of 64 bits
    assert result["manifest_id"] == unmarked.manifest_id


def edited_elsewhere(parent: Path, dest: Path, keys: Path) -> Path:
    """``parent`` opened and re-signed by another C2PA tool: our manifest becomes the
    ingredient of its new active manifest (different bytes, our manifest intact)."""
    credential = create_dev_credential(keys, label="editor").credential
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(
            alg=credential.alg,
            sign_cert=credential.cert_chain_pem,
            private_key=credential.private_key_pem,
            ta_url=None,
        )
    )
    opened = {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}}
    definition = {
        "claim_generator_info": [{"name": "Editor", "version": "1"}],
        "title": "edited",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [opened]}}],
    }
    with c2pa.Builder(definition) as builder:
        with parent.open("rb") as stream:
            ingredient = {"title": "parent", "relationship": "parentOf", "label": "parent"}
            builder.add_ingredient(ingredient, "image/jpeg", stream)
        with parent.open("rb") as source, dest.open("w+b") as out:
            builder.sign(signer, "image/jpeg", source, out)
    return dest


def test_a_registry_manifest_kept_as_ingredient_is_recognised(
    client: FlaskClient, unmarked: Registered, work: Path
) -> None:
    edited = edited_elsewhere(unmarked.path, work / "edited.jpg", work / "keys")
    result = screen(client, edited)
    assert result["registered"] is True
    assert result["match"] == {"method": "manifest", "alg": None, "similarity": 1.0}
    assert result["manifest_id"] == unmarked.manifest_id
    # Changed after it was signed: the store fails its integrity check and is not trusted;
    # the picture is still found by its content.
    tampered = work / "tampered.jpg"
    data = bytearray(edited.read_bytes())
    data[-10] ^= 0xFF
    tampered.write_bytes(bytes(data))
    again = screen(client, tampered)
    assert again["match"]["method"] == "fingerprint"
    assert again["manifest_id"] == unmarked.manifest_id


def test_an_unrelated_file_is_not_registered(
    client: FlaskClient, registered: Registered, work: Path
) -> None:
    result = screen(client, unrelated(work))
    assert result["registered"] is False
    assert result["ai_generated"] is False
    assert result["consent"] == "unknown"
    assert result["manifest_id"] is None and result["match"] is None


def test_a_foreign_ai_label_is_reported_but_not_registered(
    client: FlaskClient, registered: Registered, work: Path
) -> None:
    """Signed elsewhere as AI-generated: the label counts, the registry knows nothing of it."""
    labelled = sign_elsewhere(
        unrelated(work),
        work / "elsewhere.jpg",
        keys=work / "keys",
        source_type="trainedAlgorithmicMedia",
        mime_type="image/jpeg",
    )
    result = screen(client, labelled)
    assert (result["registered"], result["ai_generated"], result["consent"]) == (
        False,
        True,
        "unknown",
    )
    captured = sign_elsewhere(
        unrelated(work),
        work / "captured.jpg",
        keys=work / "keys",
        source_type="digitalCapture",
        mime_type="image/jpeg",
    )
    assert screen(client, captured)["ai_generated"] is False


def test_consent_now_follows_the_grant(
    client: FlaskClient, studio: Studio, registered: Registered, work: Path
) -> None:
    grant_id = registered.grant["id"]
    copy = reencoded(registered.path, work)
    suspended = studio.post(f"/v1/grants/{grant_id}/suspend", json={"reason": "under review"})
    assert suspended.status_code == 200, suspended.json
    assert screen(client, registered.path)["consent"] == "suspended"
    assert (
        studio.post(f"/v1/grants/{grant_id}/resume", json={"reason": "settled"}).status_code == 200
    )
    assert screen(client, copy)["consent"] == "in_force"
    revoked = studio.post(f"/v1/grants/{grant_id}/revoke", json={"reason": "withdrawn"})
    assert revoked.status_code == 200, revoked.json
    for path in (registered.path, copy):
        result = screen(client, path)
        assert (result["registered"], result["consent"]) == (True, "revoked")


def test_only_the_owner_sees_the_asset_and_its_grants(
    client: FlaskClient, studio: Studio, other_studio: Studio, registered: Registered, work: Path
) -> None:
    copy = reencoded(registered.path, work)
    own = screen(client, copy, headers=studio.headers)
    assert own["asset"] == {
        "id": registered.asset["id"],
        "created_at": own["asset"]["created_at"],
        "grants": [{"grant_id": registered.grant["id"], "status_now": "active"}],
    }
    other = screen(client, copy, headers=other_studio.headers)
    anonymous = screen(client, copy)
    assert other["asset"] is None and anonymous["asset"] is None
    assert other == anonymous  # another organization learns what anyone does
    text = str(other)
    for private in (registered.asset["id"], studio.org_id, "Ada Example"):
        assert private not in text


def test_refusals_write_nothing(
    app: Flask, client: FlaskClient, work: Path, snapshot: Callable[[], Any]
) -> None:
    before = snapshot()
    text = work / "notes.txt"
    text.write_bytes(b"words, not media")
    assert_problem(
        client.post("/v1/screen", data=text.read_bytes(), content_type="application/octet-stream"),
        415,
        "unsupported-media-type",
    )
    assert_problem(
        client.post("/v1/screen", data=b"", content_type="image/jpeg"), 422, "malformed-media"
    )
    assert_problem(
        client.post("/v1/screen", data={}, content_type="multipart/form-data"),
        400,
        "missing-upload-part",
    )
    assert snapshot() == before
