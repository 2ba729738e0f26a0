"""Who is calling: the verified claims of a bearer access token."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request

from registry.errors import Unauthorized


@dataclass(frozen=True)
class Principal:
    client_id: str
    org_id: str
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        return f"client:{self.client_id}"


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header (werkzeug parses the header)."""
    auth = request.authorization
    if auth is None or auth.type != "bearer" or not auth.token:
        return None
    return auth.token


def authenticate_request() -> Principal:
    """The caller of this request; 401 when there is no valid bearer token."""
    cached = g.get("principal")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = bearer_token()
    if token is None:
        raise Unauthorized("send an access token: Authorization: Bearer <token>")
    from registry.auth.services import check_client_enabled
    from registry.auth.tokens import verify_access_token
    from registry.state import app_state

    state = app_state()
    settings = state.settings
    principal = verify_access_token(
        token,
        keyring=state.keyring,
        issuer=settings.issuer,
        audience=settings.audience,
    )
    check_client_enabled(state.database, client_id=principal.client_id)
    g.principal = principal
    return principal
