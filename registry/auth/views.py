"""POST /v1/auth/token and GET /.well-known/jwks.json."""

from __future__ import annotations

from urllib.parse import unquote

from flask import Blueprint, request

from registry.api import Rendered, operation
from registry.auth import services
from registry.auth.errors import ClientAuthenticationFailed
from registry.auth.schemas import JWKS, TokenRequest, TokenResponse
from registry.auth.tokens import issue_access_token
from registry.db import get_session
from registry.state import app_state

bp = Blueprint("auth", __name__)


def _basic_credentials() -> tuple[str, str] | None:
    """Client credentials from HTTP Basic (RFC 6749 2.3.1: each part form-urlencoded)."""
    if not request.headers.get("Authorization", "").lower().startswith("basic"):
        return None
    auth = request.authorization  # werkzeug parses the header; None when it cannot
    if auth is None or auth.type != "basic" or auth.username is None or auth.password is None:
        raise ClientAuthenticationFailed("the Basic credentials are malformed")
    return unquote(auth.username), unquote(auth.password)


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
    state = app_state()
    settings = state.settings
    token = issue_access_token(
        keyring=state.keyring,
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
    keys = app_state().keyring.jwks()
    return Rendered(keys, headers={"Cache-Control": "public, max-age=300"})
