"""The service under a real gunicorn (infra/gunicorn.conf.py) on loopback, started per test."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """A running gunicorn: its port, process and log (the error log, and the access log)."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def get(self, path: str, *, timeout: float = 5.0) -> tuple[int, float]:
        """GET ``path`` on a new connection: the status and the seconds it took."""
        return request(self.port, "GET", path, timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def data_dir(self) -> Path:
        return self.log_path.parent

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def request(port: int, method: str, path: str, *, timeout: float = 5.0) -> tuple[int, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        connection.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM by PID, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def serve(
    tmp_path: Path, keys_template: Path, sqlite_template: Path
) -> Iterator[Callable[..., Served]]:
    """Call with REGISTRY_* overrides to start gunicorn (one worker); stopped by PID after."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> Served:
        data_dir = tmp_path / f"served-{len(started)}"
        data_dir.mkdir()
        shutil.copytree(keys_template, data_dir / "keys")
        shutil.copy(sqlite_template, data_dir / "registry.db")
        port = free_port()
        log_path = data_dir / "gunicorn.log"
        full_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")},
            "REGISTRY_DATA_DIR": str(data_dir),
            "REGISTRY_PORT": str(port),
            "REGISTRY_WORKERS": "1",
            "REGISTRY_LOG_LEVEL": "info",
            "REGISTRY_ACCESS_LOG": "-",
            "REGISTRY_LOG_FORMAT": "text",  # gunicorn's access lines, which tests count
            **env,
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("gunicorn")),
                    "-c",
                    str(ROOT / "infra/gunicorn.conf.py"),
                    "registry.wsgi:app",
                ],
                env=full_env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        served = Served(port, process, log_path)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{served.log()}")
            with contextlib.suppress(OSError):
                if served.get("/healthz", timeout=2)[0] == 200:
                    return served
            time.sleep(0.1)
        pytest.fail(f"gunicorn did not answer within {START_TIMEOUT_SECONDS} s:\n{served.log()}")

    yield start
    for process in started:
        _stop(process)
