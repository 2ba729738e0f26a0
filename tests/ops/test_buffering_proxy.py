"""The production topology: nginx (infra/nginx/registry.conf.template) in front of gunicorn.

nginx buffers request bodies, so stalled clients never reach gunicorn at all: they cost nginx
a connection each, and nginx closes them after its client_body_timeout. The service's own
body deadline (tests/ops/test_stalled_clients.py) is set far away here, so that every
release seen is nginx's doing.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from string import Template

import pytest

from tests.ops.conftest import ROOT, Served, free_port, request
from tests.ops.test_stalled_clients import FORM, SLACK, THREADS, stall

PROXY_TIMEOUT = 1.0  # nginx's client timeouts in this test, seconds


def find_nginx() -> str:
    """nginx on PATH or in /usr/sbin (`make test` installs Debian's nginx-light)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    assert found, "nginx is missing: `make test` installs nginx-light"
    return found


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Callable[[int], int]]:
    """Call with gunicorn's port to start nginx in front of it; returns nginx's port."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(upstream_port: int) -> int:
        directory = tmp_path / "nginx"
        directory.mkdir()
        port = free_port()
        site = Template((ROOT / "infra/nginx/registry.conf.template").read_text())
        # As the nginx image renders it: only these variables, nginx's own ($host) stay.
        (directory / "registry.conf").write_text(
            site.safe_substitute(
                REGISTRY_UPSTREAM=f"127.0.0.1:{upstream_port}",
                PROXY_PORT=f"127.0.0.1:{port}",
                PROXY_CLIENT_TIMEOUT=f"{PROXY_TIMEOUT:g}s",
            )
        )
        temp_paths = "\n".join(
            f"  {name}_temp_path {directory / name};"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (directory / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "") + f"pid {directory / 'nginx.pid'};\n"
            f"error_log {directory / 'error.log'} info;\n"
            "worker_processes 1;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            f"  access_log {directory / 'access.log'};\n"
            f"{temp_paths}\n"
            f"  include {directory / 'registry.conf'};\n"
            "}\n"
        )
        process = subprocess.Popen(
            [
                find_nginx(),
                "-p",
                str(directory),
                "-c",
                str(directory / "nginx.conf"),
                "-g",
                "daemon off;",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(directory / "stderr.log").open("wb"),
        )
        processes.append(process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"nginx exited: {(directory / 'stderr.log').read_text()}")
            with contextlib.suppress(OSError):
                request(port, "GET", "/healthz", timeout=2)
                return port
            time.sleep(0.1)
        pytest.fail("nginx did not answer")

    yield start
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGQUIT)  # graceful: the master stops its worker
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


def test_behind_the_buffering_proxy_stalled_bodies_never_reach_gunicorn(
    serve: Callable[..., Served], proxy: Callable[[int], int]
) -> None:
    served = serve(REGISTRY_THREADS=str(THREADS), REGISTRY_BODY_READ_TIMEOUT="30")
    port = proxy(served.port)
    clients = [stall(port, "/v1/auth/token", content_type=FORM) for _ in range(3 * THREADS)]

    latencies = []
    until = time.monotonic() + 2 * PROXY_TIMEOUT
    while time.monotonic() < until:
        status, took = request(port, "GET", "/healthz", timeout=10)
        assert status == 200
        latencies.append(took)
        time.sleep(0.05)
    closed = [client.outcome()[1] for client in clients]
    # A whole request through nginx still arrives, body and all.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(
        "POST",
        "/v1/auth/token",
        body="grant_type=client_credentials&client_id=nobody&client_secret=wrong",
        headers={"Content-Type": FORM.decode()},
    )
    answered = connection.getresponse().status
    connection.close()

    assert max(latencies) < 0.5, latencies
    assert all(PROXY_TIMEOUT - 0.1 < seconds < PROXY_TIMEOUT + SLACK for seconds in closed), closed
    assert answered == 401
    # gunicorn logs a request after answering it: give the complete one a moment.
    until = time.monotonic() + 5
    while "POST /v1/auth/token" not in served.log() and time.monotonic() < until:
        time.sleep(0.05)
    assert served.log().count("POST /v1/auth/token") == 1  # the complete one only


def anonymous_verify(port: int, source: str, *, forwarded: str | None = None) -> int:
    """An anonymous POST /v1/verify from loopback address ``source``; its status."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    headers = {"Content-Type": "image/jpeg"}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    try:
        connection.request("POST", "/v1/verify", body=b"not a jpeg", headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize(("hops", "apart"), [(0, False), (1, True)])
def test_behind_the_proxy_anonymous_limits_count_each_client_by_the_proxys_word(
    serve: Callable[..., Served], proxy: Callable[[int], int], hops: int, apart: bool
) -> None:
    served = serve(REGISTRY_PROXY_HOPS=str(hops), REGISTRY_ANONYMOUS_VERIFY_RATE="2/minute")
    port = proxy(served.port)

    within = [anonymous_verify(port, "127.0.0.2") for _ in range(2)]
    # A client's own X-Forwarded-For moves it to no other bucket: nginx appends the address
    # it saw, and that last entry is the one trusted.
    spoofed = anonymous_verify(port, "127.0.0.2", forwarded="203.0.113.9")
    other_client = anonymous_verify(port, "127.0.0.3")

    assert 429 not in within, within
    assert spoofed == 429
    # Trusting no proxy (the default), every client behind nginx is one address to the limit.
    assert (other_client != 429) is apart, other_client
