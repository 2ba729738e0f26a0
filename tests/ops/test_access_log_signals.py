"""The JSON access log in a file under a real gunicorn, across its signals.

SIGHUP reloads the configuration (gunicorn sets its logger up again, then starts new
workers): each request is still one line. SIGUSR1 (logrotate's ``postrotate``) reopens the
file: after a ``mv``, the next lines go to a new file at the configured path.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.ops.conftest import Served

WAIT_SECONDS = 20.0
_SENT = "sent-"


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {WAIT_SECONDS} s"
        time.sleep(0.1)


def _ids(path: Path) -> list[str]:
    """The request ids the test sent (``_get``) of the access lines in ``path``, in order;
    the fixture's readiness probes have random ones."""
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert all(line["event"] == "access" for line in lines)
    return [line["request_id"] for line in lines if line["request_id"].startswith(_SENT)]


def _get(served: Served, request_id: str) -> None:
    answer = httpx.get(f"{served.base}/healthz", headers={"X-Request-ID": _SENT + request_id})
    assert answer.status_code == 200


def _stop(served: Served) -> None:
    """SIGTERM by PID: each worker writes the lines it holds, then exits."""
    os.kill(served.process.pid, signal.SIGTERM)
    assert served.process.wait(timeout=20) == 0


def _serve_json(serve: Callable[..., Served], tmp_path: Path) -> tuple[Served, Path]:
    access = tmp_path / "access.log"
    return serve(REGISTRY_LOG_FORMAT="json", REGISTRY_ACCESS_LOG=str(access)), access


def test_a_reload_on_sighup_writes_each_access_line_once(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    served, access = _serve_json(serve, tmp_path)
    _get(served, "before-hup")
    os.kill(served.process.pid, signal.SIGHUP)
    # The new worker boots, then the old one exits (its lines written): only the new answers.
    _wait_for(lambda: served.log().count("Booting worker") == 2, "new worker")
    _wait_for(lambda: "Worker exiting" in served.log(), "old worker's exit")
    _get(served, "after-hup")
    _stop(served)
    assert _ids(access) == [_SENT + "before-hup", _SENT + "after-hup"]


def test_sigusr1_reopens_the_access_log_file(serve: Callable[..., Served], tmp_path: Path) -> None:
    served, access = _serve_json(serve, tmp_path)
    _get(served, "before-rotation")
    rotated = access.with_name("access.log.1")
    access.rename(rotated)
    os.kill(served.process.pid, signal.SIGUSR1)
    _wait_for(access.exists, "new access log file")  # the master reopened it
    time.sleep(1.0)  # and the worker, to which the master passes the signal
    _get(served, "after-rotation")
    _stop(served)
    assert _ids(rotated) == [_SENT + "before-rotation"]
    assert _ids(access) == [_SENT + "after-rotation"]
