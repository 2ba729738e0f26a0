"""Webhook fixtures: a receiver process on loopback, worker processes, endpoints."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from registry.settings import Settings
from tests.factories import Studio

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = Path(sys.executable).parent / "registry"


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "it") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass
class Received:
    received_at: float
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    @property
    def type(self) -> str:
        return str(self.payload["type"])

    def verify(self, secret: str) -> dict[str, Any]:
        """The payload, if the Standard Webhooks signature verifies (else it raises)."""
        return Webhook(secret).verify(self.body, self.headers)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    """A receiver process: its URL, PID and what it received."""

    log: Path
    process: subprocess.Popen[bytes]
    url: str = ""

    def requests(self) -> list[Received]:
        lines = self.log.read_text().splitlines()[1:]
        out = []
        for line in lines:
            data = json.loads(line)
            out.append(
                Received(data["received_at"], data["headers"], base64.b64decode(data["body"]))
            )
        return out

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.requests() if r.type == event_type]

    def wait(self, event_type: str, count: int = 1, timeout: float = 20.0) -> list[Received]:
        return wait_for(  # type: ignore[no-any-return]
            lambda: (found := self.of_type(event_type)) and len(found) >= count and found,
            timeout,
            f"{count} {event_type}",
        )


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.kill(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def receivers(tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    """Start receiver processes (stopped by PID after the test)."""
    started: list[Receiver] = []

    def start(*args: str) -> Receiver:
        log = tmp_path / f"receiver-{len(started)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.webhooks.receiver", str(log), *args], cwd=ROOT
        )
        receiver = Receiver(log, process)
        started.append(receiver)
        port = wait_for(lambda: log.exists() and log.read_text().strip(), what="the receiver")
        receiver.url = f"http://127.0.0.1:{port.splitlines()[0]}/hooks"
        return receiver

    yield start
    for receiver in started:
        _stop(receiver.process)


@pytest.fixture
def receiver(receivers: Callable[..., Receiver]) -> Receiver:
    return receivers()


@dataclass
class Workers:
    """`registry worker` processes on the test's database, stopped by PID."""

    settings: Settings
    log_dir: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, **env: str) -> subprocess.Popen[bytes]:
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")},
            "REGISTRY_DATABASE_URL": self.settings.database_url,
            "REGISTRY_DATA_DIR": str(self.settings.data_dir),
            "REGISTRY_WORKER_POLL_SECONDS": "0.05",
            "REGISTRY_WORKER_EXPIRY_SECONDS": "0.5",
            **env,
        }
        log = (self.log_dir / f"worker-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [str(REGISTRY), "worker"], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
        _stop(process, sig)
        return process.returncode


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[Workers]:
    running = Workers(settings, tmp_path)
    yield running
    for process in running.started:
        _stop(process, signal.SIGKILL)


def add_endpoint(studio: Studio, url: str, **fields: Any) -> dict[str, Any]:
    response = studio.post("/v1/webhook-endpoints", json={"url": url, **fields})
    assert response.status_code == 201, response.json
    assert response.json["secret"].startswith("whsec_")
    return response.json  # type: ignore[no-any-return]
