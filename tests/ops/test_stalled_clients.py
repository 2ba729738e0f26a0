"""Clients that stop sending their request body free their gunicorn thread (issue #10, item 3).

Each test starts the service under a real gunicorn (infra/gunicorn.conf.py, gthread) on
loopback with a short body deadline, opens more stalled connections than the worker has
threads, and checks that /healthz keeps answering and that every stalled connection is
answered and closed by the deadline. docs/deployment.md describes the deadlines.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable

from tests.ops.conftest import Served

THREADS = 4
TIMEOUT = 1.0  # REGISTRY_BODY_READ_TIMEOUT in these tests
# Scheduling noise on a busy machine, added to every upper bound.
SLACK = 1.0
FORM = b"application/x-www-form-urlencoded"
RAW = b"application/octet-stream"


class Client:
    """A raw connection that sent headers and part of a body; a thread reads what comes back."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.opened = time.monotonic()
        self._received = b""
        self._closed_at = 0.0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError):  # a reset ends it as well as a close
            while chunk := self.sock.recv(65536):
                self._received += chunk
        self._closed_at = time.monotonic()

    def outcome(self, *, wait: float = 15.0) -> tuple[bytes, float]:
        """The status line the server answered, and how long after opening it closed."""
        self._reader.join(wait)
        assert not self._reader.is_alive(), "the server never closed the connection"
        self.sock.close()
        return self._received.split(b"\r\n", 1)[0], self._closed_at - self.opened


def stall(
    port: int, path: str, *, content_type: bytes, length: int = 1000, sent: bytes = b""
) -> Client:
    """Headers announcing ``length`` bytes, then ``sent`` (20 bytes by default), then silence."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: registry.test\r\n"
        b"Content-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(length).encode() + b"\r\n\r\n" + (sent or b"grant_type=client_cr")
    )
    return Client(sock)


def probe_health(served: Served, seconds: float) -> list[float]:
    """GET /healthz one after another for ``seconds``; every answer is a 200. The latencies."""
    latencies = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        status, took = served.get("/healthz", timeout=10)
        assert status == 200
        latencies.append(took)
        time.sleep(0.1)
    return latencies


def test_stalled_bodies_do_not_freeze_the_service(serve: Callable[..., Served]) -> None:
    served = serve(REGISTRY_THREADS=str(THREADS), REGISTRY_BODY_READ_TIMEOUT=str(TIMEOUT))
    clients = [stall(served.port, "/v1/auth/token", content_type=FORM) for _ in range(THREADS)]
    # Anonymous verification (on in development) reads a raw body the same way.
    clients += [stall(served.port, "/v1/verify", content_type=RAW) for _ in range(2)]

    latencies = probe_health(served, 2.5)
    outcomes = [client.outcome() for client in clients]

    # A probe waits at most for the deadline that frees a thread, never for the clients.
    assert max(latencies) < TIMEOUT + SLACK, latencies
    assert sorted(latencies)[len(latencies) // 2] < 0.2, latencies
    for status_line, closed in outcomes:
        assert status_line == b"HTTP/1.1 408 REQUEST TIMEOUT"
        # The first THREADS were read at once, the other two when a thread came free.
        assert TIMEOUT - 0.1 < closed < 2 * TIMEOUT + SLACK, outcomes
    assert served.log().count('"POST /v1/auth/token HTTP/1.1" 408') == THREADS


def test_a_client_trickling_its_body_is_cut_at_the_whole_body_deadline(
    serve: Callable[..., Served],
) -> None:
    # 1000 bytes at the minimum rate of 2000 bytes/s are due TIMEOUT + 0.5 s after the first
    # read. A byte every 0.3 s never lets one read wait TIMEOUT: only that deadline ends it.
    served = serve(
        REGISTRY_THREADS="2",
        REGISTRY_BODY_READ_TIMEOUT=str(TIMEOUT),
        REGISTRY_BODY_MIN_RATE="2000",
    )
    client = stall(served.port, "/v1/auth/token", content_type=FORM)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.3):
            try:
                client.sock.send(b"e")
            except OSError:
                return

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        status_line, closed = client.outcome()
    finally:
        stop.set()
        trickler.join()

    assert status_line == b"HTTP/1.1 408 REQUEST TIMEOUT"
    assert TIMEOUT + 0.4 < closed < TIMEOUT + 0.5 + SLACK


def test_a_body_the_service_does_not_read_does_not_hold_the_connection(
    serve: Callable[..., Served],
) -> None:
    # Without anonymous verification, /v1/verify refuses before reading the upload. The body
    # that never comes is waited for a moment only, so gunicorn neither drains it with the
    # thread nor lingers on it in its main loop when it closes the connection.
    served = serve(
        REGISTRY_THREADS=str(THREADS),
        REGISTRY_BODY_READ_TIMEOUT="30",
        REGISTRY_PUBLIC_VERIFY="false",
    )
    clients = [stall(served.port, "/v1/verify", content_type=RAW) for _ in range(2 * THREADS)]

    latencies = probe_health(served, 1.5)
    outcomes = [client.outcome() for client in clients]

    assert max(latencies) < 1.0 + SLACK, latencies
    for status_line, closed in outcomes:
        assert status_line == b"HTTP/1.1 401 UNAUTHORIZED"
        assert closed < 2 * 0.5 + SLACK, outcomes  # two rounds of the 0.5 s drain


def test_a_slow_but_steady_upload_is_read_to_its_end(serve: Callable[..., Served]) -> None:
    # 256 KiB in 16 KiB pieces every 0.125 s: 2 s in all, longer than the read timeout, but
    # no read waits that long and the rate stays above the minimum (64 KiB/s: due in 5 s).
    served = serve(
        REGISTRY_THREADS="2",
        REGISTRY_BODY_READ_TIMEOUT=str(TIMEOUT),
        REGISTRY_BODY_MIN_RATE=str(64 * 1024),
    )
    piece = bytes(range(256)) * 64
    client = stall(served.port, "/v1/verify", content_type=RAW, length=16 * len(piece), sent=piece)
    for _ in range(15):
        time.sleep(0.125)
        client.sock.sendall(piece)

    status_line, _ = client.outcome()

    # Read whole, then refused for what it is (not a media file): never a 408.
    assert status_line.startswith(b"HTTP/1.1 4"), status_line
    assert b"408" not in status_line
