"""POST /v1/auth/token: the OAuth 2.0 client-credentials exchange."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio, assert_problem

TOKEN_PATH = "/v1/auth/token"


def credentials(studio: Studio, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": studio.client_id,
        "client_secret": studio.client_secret,
        **extra,
    }


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def verify_with_jwks(client: FlaskClient, token: str, settings: Settings) -> dict[str, Any]:
    """Check a token the way an outside party would: plain PyJWT and the published JWKS."""
    jwks = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").get_json())
    key = jwks[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(  # type: ignore[no-any-return]
        token,
        key,
        algorithms=["ES256"],
        audience=settings.audience,
        issuer=settings.issuer,
    )


def test_form_body_credentials_obtain_a_bearer_token(client: FlaskClient, studio: Studio) -> None:
    response = client.post(TOKEN_PATH, data=credentials(studio))

    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"
    assert response.json["expires_in"] <= 3600
    assert response.json["access_token"].count(".") == 2


def test_json_body_credentials_obtain_a_bearer_token(client: FlaskClient, studio: Studio) -> None:
    response = client.post(TOKEN_PATH, json=credentials(studio))

    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"


def test_http_basic_credentials_obtain_a_bearer_token(client: FlaskClient, studio: Studio) -> None:
    response = client.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        headers=basic(studio.client_id, studio.client_secret),
    )

    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"


def test_token_response_is_not_cacheable(client: FlaskClient, studio: Studio) -> None:
    response = client.post(TOKEN_PATH, data=credentials(studio))

    assert response.headers["Cache-Control"] == "no-store"


def test_issued_token_works_on_an_authenticated_endpoint(
    client: FlaskClient, studio: Studio
) -> None:
    token = client.post(TOKEN_PATH, json=credentials(studio)).json["access_token"]

    response = client.get("/v1/subjects", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200


def test_wrong_secret_is_invalid_client(client: FlaskClient, studio: Studio) -> None:
    response = client.post(TOKEN_PATH, data=credentials(studio, client_secret="crs_wrong"))

    body = assert_problem(response, 401, "invalid-client")
    assert body["error"] == "invalid_client"


def test_invalid_client_challenges_for_client_credentials(
    client: FlaskClient, studio: Studio
) -> None:
    response = client.post(TOKEN_PATH, data=credentials(studio, client_secret="crs_wrong"))

    # RFC 6749 section 5.2: a 401 names the client authentication scheme, not Bearer.
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_wrong_basic_secret_is_invalid_client(client: FlaskClient, studio: Studio) -> None:
    response = client.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        headers=basic(studio.client_id, "crs_wrong"),
    )

    assert_problem(response, 401, "invalid-client")


def test_malformed_basic_header_is_invalid_client(client: FlaskClient, studio: Studio) -> None:
    response = client.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic !!not-base64!!"},
    )

    assert_problem(response, 401, "invalid-client")


def test_unknown_client_gets_the_same_answer_as_a_wrong_secret(
    client: FlaskClient, studio: Studio
) -> None:
    wrong_secret = client.post(TOKEN_PATH, data=credentials(studio, client_secret="crs_wrong"))
    unknown = client.post(
        TOKEN_PATH, data=credentials(studio, client_id="crc_nobody", client_secret="crs_wrong")
    )

    unknown_body = assert_problem(unknown, 401, "invalid-client")
    # Nothing in the answer tells an attacker whether the client id exists.
    assert unknown_body["detail"] == wrong_secret.json["detail"]
    assert unknown.headers.get("WWW-Authenticate") == wrong_secret.headers.get("WWW-Authenticate")


def test_missing_secret_is_invalid_client(client: FlaskClient, studio: Studio) -> None:
    response = client.post(
        TOKEN_PATH, data={"grant_type": "client_credentials", "client_id": studio.client_id}
    )

    assert_problem(response, 401, "invalid-client")


def test_requested_scope_subset_is_granted_alone(
    client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    response = client.post(TOKEN_PATH, data=credentials(studio, scope="grants:read verify"))

    assert response.status_code == 200
    assert response.json["scope"] == "grants:read verify"
    claims = verify_with_jwks(client, response.json["access_token"], settings)
    assert claims["scope"] == "grants:read verify"


def test_token_with_a_narrowed_scope_cannot_use_the_other_scopes(
    client: FlaskClient, studio: Studio
) -> None:
    token = client.post(TOKEN_PATH, data=credentials(studio, scope="grants:read")).json[
        "access_token"
    ]

    response = client.post(
        "/v1/subjects",
        json={"display_name": "Ada Example"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert_problem(response, 403, "insufficient-scope")


def test_scope_the_client_lacks_is_invalid_scope(app: Flask, client: FlaskClient) -> None:
    verifier = Studio.create(app, client, name="Verifier Co", scopes=frozenset({"verify"}))

    response = client.post(TOKEN_PATH, data=credentials(verifier, scope="verify grants:write"))

    body = assert_problem(response, 400, "invalid-scope")
    assert body["error"] == "invalid_scope"
    assert "grants:write" in body["detail"]


def test_unknown_scope_is_invalid_scope(client: FlaskClient, studio: Studio) -> None:
    response = client.post(TOKEN_PATH, data=credentials(studio, scope="admin"))

    assert_problem(response, 400, "invalid-scope")


def test_grant_type_other_than_client_credentials_is_a_validation_error(
    client: FlaskClient, studio: Studio
) -> None:
    response = client.post(TOKEN_PATH, data=credentials(studio, grant_type="password"))

    assert_problem(response, 422, "validation-error")


def test_missing_grant_type_is_a_validation_error(client: FlaskClient, studio: Studio) -> None:
    form = credentials(studio)
    del form["grant_type"]

    response = client.post(TOKEN_PATH, data=form)

    assert_problem(response, 422, "validation-error")


def test_token_body_as_plain_text_is_unsupported_media_type(client: FlaskClient) -> None:
    response = client.post(
        TOKEN_PATH, data="grant_type=client_credentials", content_type="text/plain"
    )

    assert_problem(response, 415, "unsupported-media-type")


def test_access_token_header_names_its_key_and_type(client: FlaskClient, studio: Studio) -> None:
    token = client.post(TOKEN_PATH, data=credentials(studio)).json["access_token"]

    header = jwt.get_unverified_header(token)

    assert header["alg"] == "ES256"
    assert header["typ"] == "at+jwt"
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]}
    assert header["kid"] in kids


def test_access_token_claims_name_issuer_audience_client_org_and_scope(
    client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    response = client.post(TOKEN_PATH, data=credentials(studio))

    claims = verify_with_jwks(client, response.json["access_token"], settings)

    assert claims["iss"] == settings.issuer
    assert claims["aud"] == settings.audience
    assert claims["sub"] == studio.client_id
    assert claims["org"] == studio.org_id
    assert claims["scope"] == response.json["scope"]
    assert set(claims["scope"].split()) == {
        "audit:read",
        "grants:read",
        "grants:write",
        "media:sign",
        "verify",
        "webhooks",
        "watch",
        "generators",
    }


def test_access_token_lives_at_most_one_hour(
    client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    response = client.post(TOKEN_PATH, data=credentials(studio))

    claims = verify_with_jwks(client, response.json["access_token"], settings)

    assert claims["iat"] < claims["exp"] <= claims["iat"] + 3600
    assert claims["exp"] - claims["iat"] == response.json["expires_in"]


def test_jwks_publishes_only_public_es256_keys(client: FlaskClient) -> None:
    response = client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    keys = response.json["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "EC" and key["crv"] == "P-256"
        assert key["alg"] == "ES256" and key["use"] == "sig"
        assert "d" not in key
        assert jwt.PyJWK.from_dict(key).key_id == key["kid"]


# Bearer tokens presented to an authenticated endpoint -------------------------------------

PROTECTED = "/v1/subjects"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def access_claims(settings: Settings, studio: Studio, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": studio.client_id,
        "client_id": studio.client_id,
        "org": studio.org_id,
        "scope": "grants:read grants:write",
        "iat": now,
        "exp": now + 600,
        "jti": "forged",
    }
    claims.update(overrides)
    return claims


def sign_es256(
    claims: dict[str, Any],
    private_key: ec.EllipticCurvePrivateKey,
    *,
    kid: str,
    typ: str = "at+jwt",
) -> str:
    return jwt.encode(claims, private_key, algorithm="ES256", headers={"kid": kid, "typ": typ})


def sign_with_registry_key(app: Flask, claims: dict[str, Any], **headers: str) -> str:
    active = state_of(app).keyring.active
    return sign_es256(claims, active.private_key, kid=headers.pop("kid", active.kid), **headers)


def call_with(client: FlaskClient, token: str) -> TestResponse:
    return client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})


def test_a_token_forged_exactly_like_ours_with_our_key_is_accepted(
    app: Flask, client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    # The control for every forgery below: only the one property each changes is wrong.
    token = sign_with_registry_key(app, access_claims(settings, studio))

    assert call_with(client, token).status_code == 200


def test_missing_authorization_header_is_unauthorized(client: FlaskClient, studio: Studio) -> None:
    response = client.get(PROTECTED)

    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_non_bearer_authorization_scheme_is_unauthorized(
    client: FlaskClient, studio: Studio
) -> None:
    response = client.get(PROTECTED, headers=basic(studio.client_id, studio.client_secret))

    assert_problem(response, 401, "unauthorized")


def test_garbage_bearer_token_is_invalid_token(client: FlaskClient, studio: Studio) -> None:
    response = call_with(client, "not-a-jwt")

    assert_problem(response, 401, "invalid-token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_unsigned_alg_none_token_is_invalid_token(
    app: Flask, client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    kid = state_of(app).keyring.active.kid
    token = jwt.encode(
        access_claims(settings, studio),
        None,
        algorithm="none",
        headers={"kid": kid, "typ": "at+jwt"},
    )

    assert_problem(call_with(client, token), 401, "invalid-token")


def test_token_signed_by_an_unknown_key_is_invalid_token(
    client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = sign_es256(access_claims(settings, studio), stranger, kid="attacker-key")

    assert_problem(call_with(client, token), 401, "invalid-token")


def test_token_signed_by_another_key_under_our_kid_is_invalid_token(
    app: Flask, client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    kid = state_of(app).keyring.active.kid
    token = sign_es256(access_claims(settings, studio), stranger, kid=kid)

    assert_problem(call_with(client, token), 401, "invalid-token")


def test_token_signed_by_our_key_under_a_kid_not_in_the_jwks_is_invalid_token(
    app: Flask, client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    token = sign_with_registry_key(app, access_claims(settings, studio), kid="retired-or-made-up")

    assert_problem(call_with(client, token), 401, "invalid-token")


def test_expired_token_is_invalid_token(
    app: Flask, client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    now = int(time.time())
    claims = access_claims(settings, studio, iat=now - 7200, exp=now - 3600)

    response = call_with(client, sign_with_registry_key(app, claims))

    body = assert_problem(response, 401, "invalid-token")
    assert "expired" in body["detail"]


def test_token_for_another_audience_is_invalid_token(
    app: Flask, client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    claims = access_claims(settings, studio, aud="some-other-service")

    assert_problem(call_with(client, sign_with_registry_key(app, claims)), 401, "invalid-token")


def test_token_from_another_issuer_is_invalid_token(
    app: Flask, client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    claims = access_claims(settings, studio, iss="https://evil.example")

    assert_problem(call_with(client, sign_with_registry_key(app, claims)), 401, "invalid-token")


def test_token_without_an_organization_is_invalid_token(
    app: Flask, client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    claims = access_claims(settings, studio)
    del claims["org"]

    assert_problem(call_with(client, sign_with_registry_key(app, claims)), 401, "invalid-token")


def test_hs256_token_keyed_with_our_public_key_is_invalid_token(
    app: Flask, client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    # Key confusion: a verifier that trusted the header's alg would take the public key
    # (which anyone can fetch) as an HMAC secret.
    active = state_of(app).keyring.active
    public_pem = active.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "at+jwt", "kid": active.kid}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode())
        for part in (header, access_claims(settings, studio))
    )
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{_b64url(mac)}"

    assert_problem(call_with(client, token), 401, "invalid-token")


def test_token_without_the_access_token_type_is_invalid_token(
    app: Flask, client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    token = sign_with_registry_key(app, access_claims(settings, studio), typ="JWT")

    assert_problem(call_with(client, token), 401, "invalid-token")


def test_consent_token_cannot_be_used_as_an_access_token(
    client: FlaskClient, studio: Studio
) -> None:
    consent_token = studio.grant()["token"]
    assert jwt.get_unverified_header(consent_token)["typ"] == "consent+jwt"

    assert_problem(call_with(client, consent_token), 401, "invalid-token")


def test_token_without_the_required_scope_is_insufficient_scope(
    app: Flask, client: FlaskClient
) -> None:
    verifier = Studio.create(app, client, name="Verifier Co", scopes=frozenset({"verify"}))

    response = verifier.get(PROTECTED)

    body = assert_problem(response, 403, "insufficient-scope")
    assert body["required_scopes"] == ["grants:read"]


def test_token_signed_by_an_unknown_key_cannot_write(
    client: FlaskClient, studio: Studio, settings: Settings, counts: Callable[[], dict[str, int]]
) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = sign_es256(access_claims(settings, studio), stranger, kid="attacker-key")
    before = counts()

    response = client.post(
        "/v1/subjects",
        json={"display_name": "Ada Example"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert_problem(response, 401, "invalid-token")
    assert counts() == before
