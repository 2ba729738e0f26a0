"""One id per request: taken from ``X-Request-ID`` when it is sane, generated otherwise.

The id is echoed in the response's ``X-Request-ID`` header, in every problem body (the
``request_id`` extension), and in every log line written while the request is served (bound
in structlog's context variables), so that a client's report, the access log and the
application's log lines meet on one value. A client's id is kept only when it is short and of
a safe alphabet: it ends up in log lines and headers, so anything else (control characters,
quotes, very long strings) is replaced by a fresh one.
"""

from __future__ import annotations

import os
import re

import structlog
from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
MAX_LENGTH = 128
_SANE = re.compile(rf"[A-Za-z0-9._:@/+=-]{{1,{MAX_LENGTH}}}")


def accept(value: str | None) -> str:
    """``value`` when it is a sane request id, else a new one (32 hex digits)."""
    if value is not None and _SANE.fullmatch(value):
        return value
    return os.urandom(16).hex()  # as random as a uuid4, at a fifth of its cost


def current() -> str | None:
    """The id of the request being served (None outside a request)."""
    if not has_request_context():
        return None
    return g.get("request_id")


def _begin() -> None:
    g.request_id = accept(request.headers.get(HEADER))
    # The only key ever bound; _end cleared the context after the thread's previous request.
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


def _echo(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is not None:
        response.headers[HEADER] = request_id
    return response


def _end(_error: BaseException | None) -> None:
    structlog.contextvars.clear_contextvars()


def init_app(app: Flask) -> None:
    # First of the before-request hooks: everything after it may log.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_echo)
    app.teardown_request(_end)
