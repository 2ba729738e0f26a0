"""Key rotation: a new key signs from now on, old keys stay published, nothing restarts."""

from __future__ import annotations

from typing import Any

import jwt
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from registry.cli import main
from registry.keys.keyring import rotate_keys
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio


def published_kids(client: FlaskClient) -> set[str]:
    return {key["kid"] for key in client.get("/.well-known/jwks.json").json["keys"]}


def active_kid(app: Flask) -> str:
    return state_of(app).keyring.active.kid


def verify_consent_token(client: FlaskClient, token: str, settings: Settings) -> dict[str, Any]:
    """What an offline verifier does: fetch the JWKS, pick the kid, check with plain PyJWT."""
    jwks = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").get_json())
    key = jwks[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(  # type: ignore[no-any-return]
        token, key, algorithms=["ES256"], issuer=settings.issuer, options={"verify_aud": False}
    )


def cli_env(settings: Settings) -> dict[str, str]:
    return {
        "REGISTRY_DATA_DIR": str(settings.data_dir),
        "REGISTRY_DATABASE_URL": str(settings.database_url),
    }


def test_rotation_makes_a_new_key_active(app: Flask, settings: Settings) -> None:
    before = active_kid(app)

    new_kid = rotate_keys(settings.keys_dir)  # type: ignore[arg-type]

    assert new_kid != before
    assert active_kid(app) == new_kid


def test_jwks_publishes_old_and_new_keys_after_rotation(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    old_kid = active_kid(app)
    assert published_kids(client) == {old_kid}

    new_kid = rotate_keys(settings.keys_dir)  # type: ignore[arg-type]

    assert published_kids(client) == {old_kid, new_kid}


def test_cli_rotation_makes_a_new_key_active_and_publishes_it(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    old_kid = active_kid(app)

    result = CliRunner().invoke(main, ["keys", "rotate"], env=cli_env(settings))

    assert result.exit_code == 0, result.output
    new_kid = active_kid(app)
    assert new_kid != old_kid
    assert new_kid in result.output
    assert published_kids(client) == {old_kid, new_kid}


def test_consent_token_issued_before_rotation_still_verifies_against_the_new_jwks(
    app: Flask, client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    grant = studio.grant()
    old_kid = active_kid(app)

    rotate_keys(settings.keys_dir)  # type: ignore[arg-type]

    assert jwt.get_unverified_header(grant["token"])["kid"] == old_kid
    claims = verify_consent_token(client, grant["token"], settings)
    assert claims["jti"] == grant["id"]


def test_access_token_issued_before_rotation_keeps_working(
    client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    rotate_keys(settings.keys_dir)  # type: ignore[arg-type]

    assert studio.get("/v1/subjects").status_code == 200


def test_access_tokens_issued_after_rotation_carry_the_new_kid(
    client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    new_kid = rotate_keys(settings.keys_dir)  # type: ignore[arg-type]

    token = studio.login()

    assert jwt.get_unverified_header(token)["kid"] == new_kid
    assert studio.get("/v1/subjects").status_code == 200


def test_consent_tokens_issued_after_rotation_carry_the_new_kid_and_verify(
    client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    new_kid = rotate_keys(settings.keys_dir)  # type: ignore[arg-type]

    grant = studio.grant()

    assert jwt.get_unverified_header(grant["token"])["kid"] == new_kid
    assert verify_consent_token(client, grant["token"], settings)["jti"] == grant["id"]


def test_running_app_picks_up_a_cli_rotation_without_restart(
    client: FlaskClient, studio: Studio, settings: Settings
) -> None:
    result = CliRunner().invoke(main, ["keys", "rotate"], env=cli_env(settings))
    assert result.exit_code == 0, result.output

    token = studio.login()

    assert jwt.get_unverified_header(token)["kid"] in result.output
