"""Errors of the token endpoint (problem+json, with the OAuth ``error`` code alongside)."""

from __future__ import annotations

from registry.errors import BadRequest, InvalidClient


class ClientAuthenticationFailed(InvalidClient):
    def __init__(self, detail: str = "unknown client or wrong secret") -> None:
        super().__init__(detail, error="invalid_client")

    def headers(self) -> dict[str, str]:
        # RFC 6749 section 5.2: the challenge names the client authentication scheme.
        return {"WWW-Authenticate": 'Basic realm="consent-registry"'}


class InvalidScope(BadRequest):
    slug = "invalid-scope"
    title = "Requested scope is not allowed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, error="invalid_scope")


class UnsupportedGrantType(BadRequest):
    slug = "unsupported-grant-type"
    title = "Unsupported grant type"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, error="unsupported_grant_type")
