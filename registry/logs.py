"""Logs: one JSON object per line (``REGISTRY_LOG_FORMAT=json``, the default) or readable text.

The application logs through the standard library (``logging.getLogger(__name__)``) and
structlog; both end in one handler on stderr whose formatter is structlog's
``ProcessorFormatter``, so every line carries the time (UTC), level, logger and the request id
bound by ``registry/request_ids.py`` while a request is served. gunicorn's own logs go through
the same formatter (``GunicornLogger``, its ``logger_class`` in ``infra/gunicorn.conf.py``),
and its access log becomes one ``{"event": "access", ...}`` object per request: method, path
(never the query string), status, duration, bytes sent and the request id, written in
batches (``BufferedLines``: at most a second late, flushed at exit). No client address, user
agent, header or body is logged: they may be personal data or credentials.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import structlog
from gunicorn.glogging import Logger as _GunicornBaseLogger

FORMATS = ("json", "text")
FORMAT_ENV = "REGISTRY_LOG_FORMAT"
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


def configure(fmt: str, level: str) -> None:
    """Process-wide: the root logger writes to stderr through :func:`formatter`.

    Its callers pass the settings (``registry worker``) or the environment's raw values
    (``GunicornLogger``), which is why the format is checked here."""
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
    root.setLevel(level.upper())
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
        return access_line(
            {field: getattr(record, field, None) for field in ACCESS_FIELDS},
            event=record.getMessage(),
            level=record.levelname.lower(),
            logger=record.name,
            created=record.created,
        )


def access_line(
    fields: dict[str, Any], *, event: str, level: str, logger: str, created: float | None = None
) -> str:
    """One JSON access line, with the keys every JSON line has."""
    moment = datetime.fromtimestamp(time.time() if created is None else created, UTC)
    line = {
        **fields,
        "event": event,
        "level": level,
        "logger": logger,
        "timestamp": moment.isoformat().replace("+00:00", "Z"),
    }
    return json.dumps(line)


class BufferedLines(logging.Handler):
    """Access lines written in batches: every ``batch`` lines or ``seconds`` after the first
    waiting one, whichever comes first, and when the process exits.

    A write per request (what ``StreamHandler`` does) is a system call that drops the GIL on
    every request; under load the thread then waits for it behind the others, which cost a
    quarter of a no-op request's throughput (benchmarks/instrumentation.py). A line waits at
    most ``seconds`` (a timer thread of the process, started on the first line after a fork).
    """

    # gunicorn's setup() drops the handlers it marks so (on a reload, SIGHUP, too): this one
    # stands in for gunicorn's access handler, so it is dropped in its place, not kept beside
    # the next one.
    _gunicorn = True

    def __init__(self, target: logging.StreamHandler, *, batch: int = 256, seconds: float = 1.0):
        super().__init__()
        self.target = target
        self.batch = batch
        self.seconds = seconds
        self._lines: list[str] = []
        self._buffer_lock = threading.Lock()
        self._pid = 0
        self._wake = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.add(line)

    def add(self, line: str) -> None:
        """Queue one formatted line (the access log's fast path skips the LogRecord)."""
        with self._buffer_lock:
            if self._pid != os.getpid():  # a new process: its own timer
                self._pid = os.getpid()
                self._lines = []
                threading.Thread(target=self._timer, name="access-log", daemon=True).start()
            self._lines.append(line)
            full = len(self._lines) >= self.batch
        if full:
            self.flush()
        else:
            self._wake.set()

    def _timer(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.seconds)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        with self._buffer_lock:
            lines, self._lines = self._lines, []
        if lines:
            stream = self.target.stream
            self.target.acquire()
            try:
                stream.write("\n".join(lines) + "\n")
                stream.flush()
            finally:
                self.target.release()

    def close(self) -> None:
        self.flush()
        super().close()


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's logger (``logger_class``): its error and access logs in the app's format.

    In text mode the access log keeps gunicorn's own format (``access_log_format``); in JSON
    mode each request is one object (see the module docstring).
    """

    # The access log's handlers when all are BufferedLines (the fast path), else None.
    _buffers: list[BufferedLines] | None = None

    def setup(self, cfg: Any) -> None:
        for handler in self._buffered():  # a reload: the base setup drops them
            handler.flush()
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
        if self.log_format == "json":
            for handler in list(self.access_log.handlers):
                if isinstance(handler, logging.StreamHandler):
                    buffered = BufferedLines(handler)
                    buffered.setFormatter(handler.formatter)
                    self.access_log.removeHandler(handler)
                    self.access_log.addHandler(buffered)
        buffers = self._buffered()
        self._buffers = buffers if len(buffers) == len(self.access_log.handlers) > 0 else None

    def reopen_files(self) -> None:
        """SIGUSR1 (logrotate): also reopen the access log file a ``BufferedLines`` wraps,
        once the lines it holds are written to the file they were meant for."""
        super().reopen_files()
        for handler in self._buffered():
            handler.flush()
            target = handler.target
            if isinstance(target, logging.FileHandler):
                target.acquire()
                try:
                    if target.stream:
                        target.close()
                        target.stream = target._open()
                finally:
                    target.release()

    def _buffered(self) -> list[BufferedLines]:
        return [h for h in self.access_log.handlers if isinstance(h, BufferedLines)]

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if self.log_format != "json":
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        request_id = next(
            (value for name, value in resp.headers if name.lower() == "x-request-id"), None
        )
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": str(environ.get("PATH_INFO", ""))[:_MAX_PATH],
            "status": resp.status_code,
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "bytes": getattr(resp, "sent", None),
            "request_id": request_id,
            "protocol": environ.get("SERVER_PROTOCOL"),
        }
        if self._buffers is None:
            self.access_log.info("access", extra=fields)
            return
        # The fast path: the line AccessJsonFormatter would make, without a LogRecord.
        line = access_line(fields, event="access", level="info", logger=self.access_log.name)
        for handler in self._buffers:
            handler.add(line)
