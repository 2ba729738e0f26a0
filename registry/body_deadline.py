"""Request bodies are read against deadlines: a client that stops sending frees its thread.

A gthread worker has a fixed set of threads, and a thread that reads a request body blocks
until the bytes come. Without a deadline, eight clients that send headers, a few bytes of
body and then nothing hold eight threads for as long as they keep the connection open, and
the service stops answering (``/healthz`` included). Two deadlines bound every body read:

- the idle deadline: each read of the socket waits at most ``timeout`` seconds for the next
  bytes (the socket's timeout, set around the body reads only, so the response is written
  under the server's own settings);
- the whole-body deadline: the body must have arrived ``timeout + length / min_rate``
  seconds after its first read. A client that trickles a byte now and then stays under the
  idle deadline; a watchdog thread shuts the read side of its connection down when the
  whole-body deadline passes, and the blocked read returns at once. A chunked body (no
  length) has only the idle deadline.

Either way the request ends with a 408 problem, the read side of the connection is shut
down, and the server closes the connection without waiting for the client. A body the
application did not read (a refusal before the upload, e.g. a 401) is drained for a moment;
if its rest does not come at once, the read side is shut down too: the server would
otherwise wait for it with the thread, then again in its main loop while closing
(gunicorn 27 lingers up to 2 s per such connection there, accepting nothing meanwhile).

The first line of defence is a proxy that buffers request bodies (docs/deployment.md): behind
one, bodies arrive at once and neither deadline is ever reached.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from registry.errors import RegistryError

_Read = TypeVar("_Read", bytes, list[bytes])

# Where WSGI servers put the client's socket: gunicorn, and werkzeug's development server.
_SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")
# What of a body the application left unread is drained before the response, and how long
# that may take; a body whose rest does not come by then ends the connection instead.
_DRAIN_MAX_BYTES = 64 * 1024
_DRAIN_SECONDS = 0.5

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BodyReadTimeout(RegistryError):
    """The client stopped sending its request body (or sent it too slowly)."""

    status = 408
    slug = "request-timeout"
    title = "The request body did not arrive in time"


class BodyDeadline:
    """WSGI middleware: ``wsgi.input`` of every request with a body is read against deadlines.

    ``timeout`` is the idle deadline in seconds; ``min_rate`` (bytes per second, 0 for none)
    sets the whole-body deadline. Requests without a body, or served without a socket in the
    environ (the test client), pass through untouched.
    """

    def __init__(self, app: WSGIApp, *, timeout: float, min_rate: int) -> None:
        if timeout <= 0:
            raise ValueError("the body read timeout must be positive")
        self.app = app
        self.timeout = timeout
        self.min_rate = min_rate

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        sock = next((environ[key] for key in _SOCKET_KEYS if key in environ), None)
        length = _content_length(environ)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        # An HTTP/2 stream shares its connection's socket with other streams: left alone.
        http2 = environ.get("HTTP_VERSION") == "2"
        if sock is None or http2 or not (length or chunked):
            return self.app(environ, start_response)
        allowance = None
        if self.min_rate > 0 and length is not None:
            allowance = self.timeout + length / self.min_rate
        guard = _Guard(sock, allowance)
        body = _DeadlineInput(environ["wsgi.input"], sock, guard, self.timeout, length)
        environ["wsgi.input"] = body
        try:
            return self.app(environ, start_response)
        finally:
            body.settle()
            guard.finish()  # before the server reuses the connection for another request


def _content_length(environ: dict[str, Any]) -> int | None:
    try:
        return max(int(environ.get("CONTENT_LENGTH") or ""), 0)
    except ValueError:
        return None


class _Guard:
    """One request body's whole-body deadline, and whether the watchdog enforced it."""

    def __init__(self, sock: socket.socket, allowance: float | None) -> None:
        self.sock: socket.socket | None = sock
        self.allowance = allowance  # seconds from the first read; None: no whole-body deadline
        self.deadline: float | None = None
        self.expired = False
        self.finished = False
        self._watchdog: _Watchdog | None = None

    def start(self) -> None:
        """Start the whole-body clock at the first read."""
        if self.deadline is None and self.allowance is not None:
            self.deadline = time.monotonic() + self.allowance
            self._watchdog = _watchdog()
            self._watchdog.watch(self, self.deadline)

    def finish(self) -> None:
        """The request is over: the watchdog must leave its connection alone from now on."""
        if self._watchdog is None:
            self.finished = True
        else:
            self._watchdog.forget(self)

    def expire(self) -> None:
        """Called by the watchdog, under its lock: wake the blocked read."""
        if self.finished or self.expired or self.sock is None:
            return
        self.expired = True
        self.cut()

    def cut(self) -> None:
        """Shut the read side down: reads return what is buffered, then end at once (also
        the server's, when it drains the body or closes); the response can still be written.
        """
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RD)


class _DeadlineInput:
    """``wsgi.input`` whose reads time out (``BodyReadTimeout``) per the guard's deadlines.

    Deliberately without ``readinto`` or attribute forwarding: werkzeug would otherwise call
    the server's stream directly, around the deadlines.
    """

    def __init__(
        self, stream: Any, sock: socket.socket, guard: _Guard, timeout: float, length: int | None
    ) -> None:
        self._stream = stream
        self._guard = guard
        self._sock = sock
        self._timeout = timeout
        self._left = length  # bytes of the body not read yet (None: chunked)
        self._ended = False  # a read reached the end of the body, or failed

    def read(self, size: int | None = -1) -> bytes:
        return self._call(self._stream.read, size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._call(self._stream.readline, size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return self._call(self._stream.readlines, hint)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def settle(self) -> None:
        """Drain what the application left of the body, briefly; else shut the read side."""
        if self._ended or self._left == 0:
            return
        drained, deadline = 0, time.monotonic() + _DRAIN_SECONDS
        try:
            while drained < _DRAIN_MAX_BYTES:
                # Never past the body: a server that does not end the input would wait.
                size = 8192 if self._left is None else min(self._left, 8192)
                data = self._timed(self._stream.read, size, deadline - time.monotonic())
                if not data:
                    return
                drained += len(data)
                if self._left is not None:
                    self._left -= len(data)
                    if self._left <= 0:
                        return
        except Exception:  # noqa: S110 - a timeout, a reset, a malformed chunk: all end it
            pass
        self._guard.cut()

    def _call(self, method: Callable[[Any], _Read], argument: int | None) -> _Read:
        guard = self._guard
        guard.start()
        wait = self._timeout
        if guard.deadline is not None:
            wait = min(wait, guard.deadline - time.monotonic())
        if guard.expired or wait <= 0:
            raise self._timed_out()
        try:
            data = self._timed(method, argument, wait)
        except TimeoutError as exc:  # socket.timeout: no bytes for ``wait`` seconds
            raise self._timed_out(f"no bytes of the request body arrived for {wait:.3g} s") from exc
        except OSError:
            if guard.expired:
                raise self._timed_out() from None
            raise
        if guard.expired:  # the watchdog shut the read side: what came back is cut short
            raise self._timed_out()
        if not data:
            self._ended = True
        elif self._left is not None:
            self._left -= sum(map(len, data)) if isinstance(data, list) else len(data)
        return data

    def _timed(self, method: Callable[[Any], _Read], argument: int | None, wait: float) -> _Read:
        """``method(argument)`` with every socket read waiting at most ``wait`` seconds."""
        if wait <= 0:
            raise TimeoutError()
        sock = self._sock
        prior = sock.gettimeout()
        sock.settimeout(wait)
        try:
            return method(argument)
        except BaseException:
            self._ended = True  # the server's stream cannot be read on after a failure
            raise
        finally:
            with contextlib.suppress(OSError):  # the connection may be gone already
                sock.settimeout(prior)

    def _timed_out(self, detail: str | None = None) -> BodyReadTimeout:
        self._ended = True
        self._guard.cut()
        return BodyReadTimeout(detail or "the request body did not arrive within the time allowed")


class _Watchdog:
    """One thread per process that enforces the whole-body deadlines of the guards it holds."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._heap: list[tuple[float, int, _Guard]] = []
        self._finished = 0  # entries of the heap whose request is over
        self._order = itertools.count()
        self._wake = threading.Condition(threading.Lock())
        threading.Thread(target=self._run, name="body-deadline", daemon=True).start()

    def watch(self, guard: _Guard, deadline: float) -> None:
        with self._wake:
            heapq.heappush(self._heap, (deadline, next(self._order), guard))
            if self._heap[0][2] is guard:
                self._wake.notify()

    def forget(self, guard: _Guard) -> None:
        with self._wake:
            guard.finished = True
            guard.sock = None
            self._finished += 1
            # Deadlines can be hours away (a large body at the minimum rate): drop finished
            # entries once they are half the heap rather than keep them until then.
            if self._finished > 64 and self._finished * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].finished]
                heapq.heapify(self._heap)
                self._finished = 0

    def _run(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    _, _, guard = heapq.heappop(self._heap)
                    if guard.finished:
                        self._finished -= 1
                    guard.expire()
                self._wake.wait(self._heap[0][0] - now if self._heap else None)


_instance: _Watchdog | None = None
_instance_lock = threading.Lock()


def _watchdog() -> _Watchdog:
    """The process's watchdog, started on first use (a forked worker starts its own)."""
    global _instance
    with _instance_lock:
        if _instance is None or _instance.pid != os.getpid():
            _instance = _Watchdog()
        return _instance
