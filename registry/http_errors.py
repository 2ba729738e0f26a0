"""Render every error as application/problem+json; unknown errors become a bare 500."""

from __future__ import annotations

import json
import logging
import traceback

import sqlalchemy as sa
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from registry import errors, request_ids
from registry.metrics import PROBLEMS

log = logging.getLogger(__name__)

_HTTP_ERRORS: dict[int, type[errors.RegistryError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
    429: errors.TooManyRequests,
}


def problem_response(error: errors.RegistryError) -> Response:
    problem = error.to_problem(instance=request.path)
    request_id = request_ids.current()
    if request_id is not None:  # the id of the log lines about this request
        problem["request_id"] = request_id
    PROBLEMS.labels(error.slug, str(error.status)).inc()
    body = json.dumps(problem, ensure_ascii=False)
    response = Response(body, status=error.status, mimetype=errors.PROBLEM_CONTENT_TYPE)
    for name, value in error.headers().items():
        response.headers[name] = value
    return response


def redacted_traceback(error: BaseException) -> str:
    """``error``'s traceback, its causes included, with every database error's message
    replaced by its class and code: PostgreSQL's DETAIL line quotes the failing row's values
    (a display name, say) and the statement text may carry literals; ``hide_parameters``
    covers neither."""
    parts: list[str] = []
    seen: set[int] = set()
    drivers: set[int] = set()  # the DB-API errors that SQLAlchemy's errors wrap
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa.exc.DBAPIError):
            drivers.add(id(current.orig))
            head = f"{type(current).__name__} ({_database_code(current.orig)})"
        elif id(current) in drivers:
            head = (
                f"{type(current).__module__}.{type(current).__name__} ({_database_code(current)})"
            )
        else:
            head = "".join(traceback.format_exception_only(current)).rstrip()
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{head}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "\n\nwhich was caused by:\n".join(parts)


def _database_code(driver_error: BaseException | None) -> str:
    """PostgreSQL's SQLSTATE (psycopg) or SQLite's error name: what the error is, never what
    it quotes."""
    for attribute, label in (("sqlstate", "SQLSTATE"), ("sqlite_errorname", "SQLite")):
        code = getattr(driver_error, attribute, None)
        if code:
            return f"{label} {code}"
    return "message withheld"


def _registry_error(error: errors.RegistryError) -> Response:
    if error.status >= 500:
        log.error("request failed: %s\n%s", error.detail, redacted_traceback(error))
    return problem_response(error)


def _http_error(error: HTTPException) -> Response:
    code = error.code or 500
    cls = _HTTP_ERRORS.get(code)
    if cls is None:
        problem: errors.RegistryError = (
            errors.InternalError() if code >= 500 else errors.BadRequest()
        )
    elif code == 413:
        problem = cls("the request body is larger than this service accepts")
    elif code == 405:
        problem = cls(f"{request.method} is not allowed on {request.path}")
    elif code == 404:
        problem = cls(f"nothing at {request.path}")
    else:
        problem = cls(error.description)
    response = problem_response(problem)
    allow = ", ".join(getattr(error, "valid_methods", None) or ()) if code == 405 else None
    if allow:
        response.headers["Allow"] = allow
    return response


def _unexpected(error: Exception) -> Response:
    log.error(
        "unhandled error on %s %s\n%s", request.method, request.path, redacted_traceback(error)
    )
    return problem_response(errors.InternalError("an internal error occurred; it has been logged"))


def init_app(app: Flask) -> None:
    app.register_error_handler(errors.RegistryError, _registry_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
