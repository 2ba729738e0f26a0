"""Graceful shutdown and body limits under a real gunicorn (issue #14, item 6).

On SIGTERM gunicorn stops accepting, lets each worker finish the requests under way for at
most REGISTRY_GRACEFUL_TIMEOUT seconds, then kills it. A JSON body sent without a length
(chunked) is refused as soon as it passes REGISTRY_MAX_JSON_BYTES, never read to its end.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable

from tests.ops.conftest import Served
from tests.ops.realrun import Api, new_client
from tests.ops.test_stalled_clients import FORM, Client, stall

SLACK = 1.5


def _token(served: Served) -> str:
    client_id, secret = new_client(f"sqlite:///{served.data_dir / 'registry.db'}")
    api = Api(served.base, client_id, secret)
    try:
        return api.login()
    finally:
        api.close()


def test_sigterm_lets_the_request_under_way_finish(serve: Callable[..., Served]) -> None:
    served = serve(REGISTRY_GRACEFUL_TIMEOUT="10", REGISTRY_BODY_READ_TIMEOUT="10")
    body = b"grant_type=client_credentials&client_id=crc_x&client_secret=nope"
    client = stall(
        served.port, "/v1/auth/token", content_type=FORM, length=len(body), sent=body[:20]
    )
    time.sleep(0.3)  # the worker is reading the body
    os.kill(served.process.pid, signal.SIGTERM)
    time.sleep(1.0)
    client.sock.sendall(body[20:])  # the rest arrives after the SIGTERM

    status_line, _ = client.outcome()
    assert status_line == b"HTTP/1.1 401 UNAUTHORIZED"  # answered, not reset
    served.process.wait(timeout=10)
    assert served.process.returncode == 0


def test_a_request_that_does_not_finish_is_cut_at_the_graceful_timeout(
    serve: Callable[..., Served],
) -> None:
    served = serve(REGISTRY_GRACEFUL_TIMEOUT="1", REGISTRY_BODY_READ_TIMEOUT="60")
    client: Client = stall(served.port, "/v1/auth/token", content_type=FORM)
    time.sleep(0.3)
    started = time.monotonic()
    os.kill(served.process.pid, signal.SIGTERM)
    served.process.wait(timeout=1 + 10)
    took = time.monotonic() - started
    assert took < 1 + SLACK, took
    status_line, _ = client.outcome()
    assert status_line == b""  # the worker was killed with the request unanswered


def test_a_chunked_json_body_over_the_limit_is_refused_before_its_end(
    serve: Callable[..., Served],
) -> None:
    limit = 4096
    served = serve(REGISTRY_MAX_JSON_BYTES=str(limit))
    token = _token(served)
    sock = socket.create_connection(("127.0.0.1", served.port))
    sock.sendall(
        b"POST /v1/subjects HTTP/1.1\r\nHost: registry.test\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\n\r\n"
    )
    chunk = b"[" + b" " * (limit + 100)
    sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    # ... and nothing more: the answer comes without the body's end.
    sock.settimeout(10)
    answer = b""
    while b"payload-too-large" not in answer and (part := sock.recv(65536)):
        answer += part
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"payload-too-large" in answer
