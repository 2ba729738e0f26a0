"""Offline checks of consent tokens against served lists (registry.statuslist.offline), and
the Python client doing the same against a live server."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient

from registry.client import RegistryClient, TokenCheckError
from registry.settings import Settings
from registry.state import state_of
from registry.statuslist.offline import (
    PublicKeys,
    StatusList,
    check_consent_token,
    read_status_list,
)
from tests.factories import Studio

URI = "http://registry.test/v1/status-lists/1"


def keys(client: FlaskClient) -> PublicKeys:
    return PublicKeys(client.get("/.well-known/jwks.json").json)


def fetched(client: FlaskClient, uri: str = URI) -> StatusList:
    token = client.get(uri.removeprefix("http://registry.test")).get_data(as_text=True)
    return read_status_list(token, keys(client), uri=uri)


def test_revoked_token_fails_offline_against_the_next_list(
    studio: Studio, client: FlaskClient
) -> None:
    grant = studio.grant()
    before = check_consent_token(grant["token"], keys(client), {URI: fetched(client)})
    assert before.valid and before.status == 0 and before.status_name == "valid"
    assert before.claims["jti"] == grant["id"] and before.uri == URI

    studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    after = check_consent_token(grant["token"], keys(client), {URI: fetched(client)})
    assert not after.valid and after.status == 1 and after.status_name == "invalid"

    studio.grant()  # the list moves on; the old token stays invalid
    assert not check_consent_token(grant["token"], keys(client), {URI: fetched(client)}).valid


def test_suspended_token_is_not_valid_offline_until_resumed(
    studio: Studio, client: FlaskClient
) -> None:
    grant = studio.grant()
    studio.post(f"/v1/grants/{grant['id']}/suspend", json={"reason": "dispute"})
    check = check_consent_token(grant["token"], keys(client), {URI: fetched(client)})
    assert not check.valid and check.status_name == "suspended"
    studio.post(f"/v1/grants/{grant['id']}/resume", json={"reason": "settled"})
    assert check_consent_token(grant["token"], keys(client), {URI: fetched(client)}).valid


def sign(app: Flask, claims: dict, typ: str, key: ec.EllipticCurvePrivateKey | None = None) -> str:  # type: ignore[type-arg]
    active = state_of(app).keyring.active
    return jwt.encode(
        claims,
        key or active.private_key,
        algorithm="ES256",
        headers={"kid": active.kid, "typ": typ},
    )


def list_token(app: Flask, client: FlaskClient, **changes: object) -> str:
    served = client.get("/v1/status-lists/1").get_data(as_text=True)
    claims = {**jwt.decode(served, options={"verify_signature": False}), **changes}
    return sign(app, {k: v for k, v in claims.items() if v is not None}, "statuslist+jwt")


def test_lists_that_cannot_be_trusted_are_refused(
    studio: Studio, client: FlaskClient, app: Flask
) -> None:
    studio.grant()
    public = keys(client)
    now = time.time()
    good = list_token(app, client)
    assert read_status_list(good, public, uri=URI).uri == URI
    cases = {
        "sub": (list_token(app, client, sub=URI + "0"), "is not"),
        "expired": (list_token(app, client, exp=int(now) - 1), "expired"),
        "no sub": (list_token(app, client, sub=None), "sub"),
        "no iat": (list_token(app, client, iat=None), "iat"),
        "bits": (list_token(app, client, status_list={"bits": 3, "lst": "eNoDAAAAAAE"}), "bits"),
        "lst": (list_token(app, client, status_list={"bits": 2, "lst": "@@@"}), "zlib"),
        "typ": (sign(app, jwt.decode(good, options={"verify_signature": False}), "JWT"), "typ"),
        "other key": (
            sign(
                app,
                jwt.decode(good, options={"verify_signature": False}),
                "statuslist+jwt",
                ec.generate_private_key(ec.SECP256R1()),
            ),
            "Signature verification failed",
        ),
        "tampered": (good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"), "refused"),
    }
    for name, (token, message) in cases.items():
        with pytest.raises(TokenCheckError, match=message):
            read_status_list(token, public, uri=URI, now=now)
        assert name


def test_token_checks_that_cannot_be_made_are_refused(
    studio: Studio, client: FlaskClient, app: Flask
) -> None:
    grant = studio.grant()
    public, lists = keys(client), {URI: fetched(client)}
    claims = jwt.decode(grant["token"], options={"verify_signature": False})
    now = time.time()
    with pytest.raises(TokenCheckError, match="no status list was fetched"):
        check_consent_token(grant["token"], public, {})
    with pytest.raises(TokenCheckError, match="outside the list"):
        far = {**claims, "status": {"status_list": {"idx": 1 << 20, "uri": URI}}}
        check_consent_token(sign(app, far, "consent+jwt"), public, lists)
    with pytest.raises(TokenCheckError, match="non-negative"):
        bad = {**claims, "status": {"status_list": {"idx": -1, "uri": URI}}}
        check_consent_token(sign(app, bad, "consent+jwt"), public, lists)
    with pytest.raises(TokenCheckError, match="expired"):
        check_consent_token(grant["token"], public, lists, now=claims["exp"])
    with pytest.raises(TokenCheckError, match=r"list .* has expired"):
        check_consent_token(grant["token"], public, lists, now=lists[URI].expires_at)
    with pytest.raises(TokenCheckError, match="typ"):
        check_consent_token(sign(app, claims, "statuslist+jwt"), public, lists)
    with pytest.raises(TokenCheckError, match="issued by"):
        check_consent_token(grant["token"], public, lists, issuer="https://elsewhere")
    assert check_consent_token(
        grant["token"], public, lists, issuer="http://registry.test", now=now
    )


@pytest.fixture
def quick_lists(settings: Settings) -> Settings:
    settings.public_url = "http://registry.test"
    settings.status_list_ttl_seconds = 1
    return settings


def test_the_client_checks_tokens_offline_and_revalidates_after_the_ttl(
    quick_lists: Settings, studio: Studio, live_server: str
) -> None:
    grant = studio.grant()
    with RegistryClient(live_server) as registry:  # anonymous: lists and JWKS are public
        first = registry.check_consent_token(grant["token"], issuer="http://registry.test")
        assert first.valid and first.status_name == "valid"
        studio.post(f"/v1/grants/{grant['id']}/suspend", json={"reason": "dispute"})
        # Held for its ttl (1 s): still the copy fetched before the suspension.
        assert registry.check_consent_token(grant["token"]).valid
        time.sleep(1.1)
        suspended = registry.check_consent_token(grant["token"])
        assert not suspended.valid and suspended.status_name == "suspended"
        held = registry.status_list(URI)
        time.sleep(1.1)  # unchanged list: a 304 renews the copy held
        assert registry.status_list(URI) is held
        assert registry.check_consent_token(grant["token"]).status_name == "suspended"
        with pytest.raises(TokenCheckError):
            registry.check_consent_token(grant["token"] + "x")


def test_after_a_key_rotation_lists_are_signed_by_the_new_key_and_old_tokens_still_check(
    studio: Studio, client: FlaskClient, settings: Settings
) -> None:
    from registry.keys.keyring import rotate_keys

    grant = studio.grant()
    old_kid = jwt.get_unverified_header(grant["token"])["kid"]
    new_kid = rotate_keys(settings.keys_dir)
    studio.post(f"/v1/grants/{grant['id']}/suspend", json={"reason": "dispute"})

    served = client.get("/v1/status-lists/1").get_data(as_text=True)
    assert jwt.get_unverified_header(served)["kid"] == new_kid != old_kid
    check = check_consent_token(grant["token"], keys(client), {URI: fetched(client)})
    assert check.status_name == "suspended"


def test_tokens_with_another_algorithm_or_shape_are_refused(
    studio: Studio, client: FlaskClient
) -> None:
    grant = studio.grant()
    public, lists = keys(client), {URI: fetched(client)}
    header_b64, payload_b64, _ = grant["token"].split(".")
    claims = jwt.decode(grant["token"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(grant["token"])["kid"]
    unsigned = jwt.encode(
        claims, None, algorithm="none", headers={"kid": kid, "typ": "consent+jwt"}
    )
    hmac = jwt.encode(
        claims, "k" * 32, algorithm="HS256", headers={"kid": kid, "typ": "consent+jwt"}
    )
    crit = jwt.encode(
        claims,
        state_of(client.application).keyring.active.private_key,
        algorithm="ES256",
        headers={"kid": kid, "typ": "consent+jwt", "crit": ["exp"]},
    )
    for token, message in (
        (unsigned, "unknown algorithm"),
        (hmac, "unknown algorithm"),
        (crit, "critical"),
        (f"{header_b64}.{payload_b64}", "three segments"),
        (f"{header_b64}.{payload_b64}.!!", "not a JWT"),
        (f"e30.{payload_b64}.{grant['token'].split('.')[2]}", "typ"),
    ):
        with pytest.raises(TokenCheckError, match=message):
            check_consent_token(token, public, lists)
    assert check_consent_token(grant["token"], public, lists).valid


def test_the_client_fetches_the_jwks_again_for_a_token_signed_by_a_newer_key(
    quick_lists: Settings, studio: Studio, live_server: str
) -> None:
    from registry.keys.keyring import rotate_keys

    before = studio.grant()
    with RegistryClient(live_server) as registry:
        assert registry.check_consent_token(before["token"]).valid  # JWKS with one key held
        rotate_keys(quick_lists.keys_dir)
        after = studio.grant()
        time.sleep(1.1)  # the list held is past its ttl: the new one is signed by the new key
        check = registry.check_consent_token(after["token"])
        assert check.valid and check.claims["jti"] == after["id"]
        unknown = jwt.encode(
            jwt.decode(after["token"], options={"verify_signature": False}),
            ec.generate_private_key(ec.SECP256R1()),
            algorithm="ES256",
            headers={"kid": "no-such-key", "typ": "consent+jwt"},
        )
        with pytest.raises(TokenCheckError, match="unknown key"):
            registry.check_consent_token(unknown)
