"""Access tokens (RFC 9068 JWT profile, ES256) issued to API clients and checked on requests."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from registry.auth.principal import Principal
from registry.errors import InvalidToken
from registry.keys.keyring import KeyRing
from registry.metrics import counted_token

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a JWT typ, not a secret
ALGORITHM = "ES256"


@counted_token("access")
def issue_access_token(
    *,
    keyring: KeyRing,
    issuer: str,
    audience: str,
    client_id: str,
    org_id: str,
    scopes: frozenset[str],
    ttl_seconds: int,
    now: float | None = None,
) -> str:
    """A signed access token for a client; ``ttl_seconds`` is at most one hour."""
    issued = int(now if now is not None else time.time())
    key = keyring.active
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": client_id,
        "client_id": client_id,
        "org": org_id,
        "scope": " ".join(sorted(scopes)),
        "iat": issued,
        "exp": issued + min(ttl_seconds, 3600),
        "jti": str(uuid.uuid4()),
    }
    headers = {"kid": key.kid, "typ": ACCESS_TOKEN_TYPE}
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers=headers)


def verify_access_token(token: str, *, keyring: KeyRing, issuer: str, audience: str) -> Principal:
    """The principal a valid access token names; InvalidToken for anything else."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("the access token is malformed") from exc
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"access tokens are signed with {ALGORITHM}")
    if header.get("typ") != ACCESS_TOKEN_TYPE:
        # A consent token is signed by the same keys; it must never pass as an access token.
        raise InvalidToken("this is not an access token")
    kid = header.get("kid")
    public_key = keyring.public_key(kid) if isinstance(kid, str) else None
    if public_key is None:
        raise InvalidToken("the access token was signed by an unknown key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the access token has expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidToken("the access token is for another audience") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("the access token is not valid") from exc
    org = claims.get("org")
    scope = claims.get("scope", "")
    if not isinstance(org, str) or not isinstance(scope, str):
        raise InvalidToken("the access token lacks its organization or scope")
    return Principal(client_id=str(claims["sub"]), org_id=org, scopes=frozenset(scope.split()))
