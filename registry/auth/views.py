"""POST /v1/auth/token and GET /.well-known/jwks.json."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from flask import Blueprint, current_app, request

from registry.api import Rendered, operation
from registry.auth import services
from registry.auth.errors import ClientAuthenticationFailed
from registry.auth.schemas import JWKS, TokenRequest, TokenResponse
from registry.auth.tokens import issue_access_token
from registry.db import get_session

bp = Blueprint("auth", __name__)


def _basic_credentials() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ClientAuthenticationFailed("the Basic credentials are malformed") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ClientAuthenticationFailed("the Basic credentials are malformed")
    return unquote(client_id), unquote(secret)


@bp.post("/v1/auth/token")
@operation(
    summary="Exchange client credentials for an access token",
    tags=["auth"],
    body=TokenRequest,
    response=TokenResponse,
    public=True,
    form=True,
    errors=(400, 401, 413, 415, 422),
    description="OAuth 2.0 client credentials grant (form or JSON body, or HTTP Basic).",
)
def issue_token(body: TokenRequest) -> Rendered:
    credentials = _basic_credentials() or (body.client_id, body.client_secret)
    client_id, client_secret = credentials
    if not client_id or not client_secret:
        raise ClientAuthenticationFailed("client_id and client_secret are required")
    session = get_session()
    client = services.authenticate_client(session, client_id=client_id, client_secret=client_secret)
    scopes = services.grantable_scopes(client, body.scope)
    settings = current_app.extensions["registry.settings"]
    token = issue_access_token(
        keyring=current_app.extensions["registry.keyring"],
        issuer=settings.issuer,
        audience=settings.audience,
        client_id=client.client_id,
        org_id=client.org_id,
        scopes=scopes,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    response = TokenResponse(
        access_token=token,
        expires_in=settings.access_token_ttl_seconds,
        scope=" ".join(sorted(scopes)),
    )
    return Rendered(response, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@bp.get("/.well-known/jwks.json")
@operation(
    summary="Public keys of access and consent tokens", tags=["auth"], response=JWKS, public=True
)
def jwks() -> Rendered:
    keys = current_app.extensions["registry.keyring"].jwks()
    return Rendered(keys, headers={"Cache-Control": "public, max-age=300"})
