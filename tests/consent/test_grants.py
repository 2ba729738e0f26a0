"""Issuing grants and their consent tokens."""

from __future__ import annotations

import hashlib

import jwt
from flask.testing import FlaskClient

from registry.consent.tokens import CONSENT_TOKEN_TYPE
from tests.factories import Studio, grant_body


def _jwks_verify(client: FlaskClient, token: str) -> dict:  # type: ignore[type-arg]
    jwks = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json)
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    return jwt.decode(token, key.key, algorithms=["ES256"], options={"verify_aud": False})


def test_issue_grant_returns_id_status_version_and_token(studio: Studio) -> None:
    grant = studio.grant()
    assert grant["status"] == "active"
    assert grant["version"] == 1
    assert grant["token_sha256"] == hashlib.sha256(grant["token"].encode()).hexdigest()
    assert studio.get(f"/v1/grants/{grant['id']}").json == grant


def test_consent_token_verifies_with_pyjwt_against_the_jwks(
    studio: Studio, client: FlaskClient
) -> None:
    subject = studio.subject()
    grant = studio.grant(subject["id"])
    header = jwt.get_unverified_header(grant["token"])
    assert header["typ"] == CONSENT_TOKEN_TYPE and header["alg"] == "ES256"
    claims = _jwks_verify(client, grant["token"])
    assert claims["jti"] == grant["id"]
    assert claims["sub"] == subject["pseudonymous_id"]
    assert claims["iss"] == "http://registry.test"
    assert claims["grantee"] == studio.org_id
    assert claims["scope"]["modalities"] == ["voice"]
    assert claims["scope"]["territories"] == ["CA", "US"]
    assert claims["scope"]["training"] == "not_allowed"
    assert claims["nbf"] < claims["exp"]


def test_consent_token_carries_no_personal_data(studio: Studio, client: FlaskClient) -> None:
    subject = studio.subject(display_name="Zelda Uniquename", date_of_birth="1980-02-03")
    grant = studio.grant(subject["id"])
    claims_text = str(_jwks_verify(client, grant["token"]))
    for personal in ("Zelda", "Uniquename", "1980-02-03", "Ada Example", "Radio spots"):
        assert personal not in claims_text


def test_list_grants_filters_by_subject_and_status(studio: Studio) -> None:
    ada = studio.subject()
    bob = studio.subject(display_name="Bob Example")
    g1 = studio.grant(ada["id"])
    g2 = studio.grant(bob["id"])
    studio.post(f"/v1/grants/{g2['id']}/revoke", json={"reason": "asked to stop"})
    by_subject = studio.get(f"/v1/grants?subject_id={ada['id']}").json["items"]
    assert [g["id"] for g in by_subject] == [g1["id"]]
    revoked = studio.get("/v1/grants?status=revoked").json["items"]
    assert [g["id"] for g in revoked] == [g2["id"]]
    active = studio.get("/v1/grants?status=active").json["items"]
    assert [g["id"] for g in active] == [g1["id"]]


def test_expired_grant_lists_and_reads_as_expired(studio: Studio) -> None:
    grant = studio.grant(valid_from="2020-01-01T00:00:00Z", valid_until="2021-01-01T00:00:00Z")
    assert grant["status"] == "expired"
    assert studio.get(f"/v1/grants/{grant['id']}/status").json["status"] == "expired"
    assert [g["id"] for g in studio.get("/v1/grants?status=expired").json["items"]] == [grant["id"]]


def test_grant_list_paginates(studio: Studio) -> None:
    subject = studio.subject()
    ids = [studio.grant(subject["id"])["id"] for _ in range(3)]
    page = studio.get("/v1/grants?limit=2").json
    rest = studio.get(f"/v1/grants?limit=2&cursor={page['next_cursor']}").json
    assert [g["id"] for g in page["items"] + rest["items"]] == ids
    assert rest["next_cursor"] is None


def test_training_grant_with_explicit_term_is_issued(studio: Studio, client: FlaskClient) -> None:
    subject = studio.subject()
    response = studio.post(
        "/v1/grants",
        json=grant_body(subject["id"], operations=["generate", "train"], training="constrained"),
    )
    assert response.status_code == 201
    assert _jwks_verify(client, response.json["token"])["scope"]["training"] == "constrained"
