"""Reading a served status list the way an outside relying party would: PyJWT against the
published JWKS, and the draft's bit arithmetic written out here (not the registry's codec)."""

from __future__ import annotations

import base64
import zlib
from typing import Any

import jwt
from flask.testing import FlaskClient


def jwks_key(client: FlaskClient, token: str) -> Any:
    jwks = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json)
    kid = jwt.get_unverified_header(token)["kid"]
    return next(k for k in jwks.keys if k.key_id == kid).key


def token_reference(client: FlaskClient, token: str) -> dict[str, Any]:
    """The status_list reference (idx, uri) of a consent token whose signature verified (its
    validity period is not the point here)."""
    claims = jwt.decode(
        token,
        jwks_key(client, token),
        algorithms=["ES256"],
        options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
    )
    return claims["status"]["status_list"]  # type: ignore[no-any-return]


def list_claims(client: FlaskClient, token: str) -> dict[str, Any]:
    assert jwt.get_unverified_header(token)["typ"] == "statuslist+jwt"
    return jwt.decode(  # type: ignore[no-any-return]
        token,
        jwks_key(client, token),
        algorithms=["ES256"],
        options={"require": ["sub", "iat", "exp"]},
    )


def served_status(client: FlaskClient, reference: dict[str, Any]) -> int:
    """GET the reference's list and read the 2-bit entry at its idx."""
    path = reference["uri"].removeprefix("http://registry.test")
    response = client.get(path, headers={"Accept": "application/statuslist+jwt"})
    assert response.status_code == 200, response.get_data(as_text=True)
    claims = list_claims(client, response.get_data(as_text=True))
    assert claims["sub"] == reference["uri"]
    lst = claims["status_list"]["lst"]
    array = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    idx = reference["idx"]
    return (array[idx // 4] >> (2 * (idx % 4))) & 0b11
