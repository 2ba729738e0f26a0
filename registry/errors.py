"""One error hierarchy, rendered as application/problem+json (RFC 9457).

Every error the service returns is a :class:`RegistryError` subclass with a stable ``slug``;
the problem ``type`` is ``PROBLEM_BASE + slug``. Vendor errors are converted where the vendor
is called, so domain code only ever sees these classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pydantic

PROBLEM_BASE = "https://consentregistry.org/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class RegistryError(Exception):
    """Base of every error the service reports to a client."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug

    def headers(self) -> dict[str, str]:
        return {}

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


def problem_type(slug: str) -> str:
    """The problem ``type`` URI for a slug (used by clients and tests)."""
    return PROBLEM_BASE + slug


class BadRequest(RegistryError):
    status = 400
    slug = "malformed-request"
    title = "Malformed request"


class ValidationFailed(RegistryError):
    status = 422
    slug = "validation-error"
    title = "The request did not validate"


class Unauthorized(RegistryError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="consent-registry"'}


class InvalidToken(Unauthorized):
    slug = "invalid-token"
    title = "The access token is not valid"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="consent-registry", error="invalid_token"'}


class InvalidClient(Unauthorized):
    slug = "invalid-client"
    title = "Client authentication failed"


class Forbidden(RegistryError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class InsufficientScope(Forbidden):
    slug = "insufficient-scope"
    title = "The access token lacks a required scope"


class NotFound(RegistryError):
    status = 404
    slug = "not-found"
    title = "Not found"


class MethodNotAllowed(RegistryError):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class Conflict(RegistryError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class IdempotencyConflict(Conflict):
    slug = "idempotency-key-reused"
    title = "The Idempotency-Key was used with another request"


class PayloadTooLarge(RegistryError):
    status = 413
    slug = "payload-too-large"
    title = "The request body is too large"


class UnsupportedMediaType(RegistryError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class TooManyRequests(RegistryError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(
        self, detail: str | None = None, *, retry_after: int | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail, **extensions)
        self.retry_after = retry_after  # seconds until the client may try again

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


class ServiceUnavailable(RegistryError):
    status = 503
    slug = "service-unavailable"
    title = "A backing service is unavailable"


class InternalError(RegistryError):
    status = 500
    slug = "internal-error"
    title = "Internal error"


def validation_problem(exc: pydantic.ValidationError, where: str) -> ValidationFailed:
    """A 422 problem listing pydantic's errors, located under ``where`` (body, query, ...)."""
    errors = [
        {
            "loc": ".".join(str(p) for p in (where, *err["loc"])),
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]
    first = errors[0]
    return ValidationFailed(f"{first['loc']}: {first['message']}", errors=errors)
