"""Logs: one JSON object per line (``REGISTRY_LOG_FORMAT=json``, the default) or readable text.

The application logs through the standard library (``logging.getLogger(__name__)``) and
structlog; both end in one handler on stderr whose formatter is structlog's
``ProcessorFormatter``, so every line carries the time (UTC), level, logger and the request id
bound by ``registry/request_ids.py`` while a request is served. gunicorn's own logs go through
the same formatter (``GunicornLogger``, its ``logger_class`` in ``infra/gunicorn.conf.py``),
and its access log becomes one ``{"event": "access", ...}`` object per request: method, path
(never the query string), status, duration, bytes sent and the request id. No client address,
user agent, header or body is logged: they may be personal data or credentials.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
from datetime import UTC, datetime
from typing import Any

import structlog
from gunicorn.glogging import Logger as _GunicornBaseLogger

FORMATS = ("json", "text")
FORMAT_ENV = "REGISTRY_LOG_FORMAT"
LEVEL_ENV = "REGISTRY_LOG_LEVEL"
# What an access line holds besides the event (passed as ``extra`` on the log record).
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "bytes", "request_id", "protocol")
_MAX_PATH = 256
_installed: logging.Handler | None = None  # the root handler configure() added


def _pre_chain() -> list[Any]:
    """What every record gets, whether structlog or the standard library wrote it."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(allow=ACCESS_FIELDS),
    ]


def formatter(fmt: str) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every handler: JSON objects, or key=value text."""
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        tail: list[Any] = [structlog.processors.format_exc_info]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        tail = []
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail, renderer],
        foreign_pre_chain=_pre_chain(),
    )


def configure(fmt: str | None = None, level: str | None = None) -> None:
    """Process-wide: the root logger writes to stderr through :func:`formatter`."""
    fmt = fmt or os.environ.get(FORMAT_ENV, "json")
    if fmt not in FORMATS:
        raise ValueError(f"{FORMAT_ENV} must be one of {', '.join(FORMATS)}")
    global _installed
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
    root.addHandler(handler)
    _installed = handler
    root.setLevel((level or os.environ.get(LEVEL_ENV, "info")).upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


class AccessJsonFormatter(logging.Formatter):
    """One access line: the same keys as :func:`formatter`'s JSON lines, made directly.

    structlog's chain (context variables, extras, renderer) costs ~35 µs a line; an access
    line needs none of it: ~10 µs (benchmarks/instrumentation.py).
    """

    def format(self, record: logging.LogRecord) -> str:
        line = {field: getattr(record, field, None) for field in ACCESS_FIELDS}
        line["event"] = record.getMessage()
        line["level"] = record.levelname.lower()
        line["logger"] = record.name
        line["timestamp"] = (
            datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z")
        )
        return json.dumps(line)


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's logger (``logger_class``): its error and access logs in the app's format.

    In text mode the access log keeps gunicorn's own format (``access_log_format``); in JSON
    mode each request is one object (see the module docstring).
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.log_format = os.environ.get(FORMAT_ENV, "json")
        configure(self.log_format, cfg.loglevel)
        for log, shared in (
            (self.error_log, formatter(self.log_format)),
            (self.access_log, AccessJsonFormatter()),
        ):
            log.propagate = False  # their own handlers write them, once
            if self.log_format == "json":
                for handler in log.handlers:
                    handler.setFormatter(shared)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if self.log_format != "json":
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        request_id = next(
            (value for name, value in resp.headers if name.lower() == "x-request-id"), None
        )
        self.access_log.info(
            "access",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                "path": str(environ.get("PATH_INFO", ""))[:_MAX_PATH],
                "status": resp.status_code,
                "duration_ms": round(request_time.total_seconds() * 1000, 3),
                "bytes": getattr(resp, "sent", None),
                "request_id": request_id,
                "protocol": environ.get("SERVER_PROTOCOL"),
            },
        )
