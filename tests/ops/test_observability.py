"""Metrics, JSON logs and request ids under a real gunicorn with two workers (issue #14).

One run does what a studio does in a day (token, subject, grant, sign, verify, revoke) over
real HTTP, then reads ``/metrics`` with prometheus_client's own parser and every log line the
server wrote. docs/operations.md describes both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from registry.settings import DEFAULT_SECRET_KEY, DEFAULT_WATERMARK_SECRET
from tests.ops.conftest import Served, free_port
from tests.ops.realrun import GRANTOR_NAME, SUBJECT_NAME, Api, new_client

METRICS_TOKEN = "metrics-scrape-token-for-the-test-0123456789"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def total(found: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)


def test_a_full_run_is_counted_by_both_workers_and_logged_as_json_without_secrets(
    serve: Callable[..., Served], tmp_path: Path, database_url: str
) -> None:
    metrics_port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    served = serve(
        REGISTRY_WORKERS="2",
        REGISTRY_THREADS="4",
        REGISTRY_LOG_FORMAT="json",
        REGISTRY_METRICS_TOKEN=METRICS_TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        REGISTRY_METRICS_BIND=f"127.0.0.1:{metrics_port}",
        REGISTRY_DATABASE_URL=database_url,
    )
    client_id, secret = new_client(database_url)
    api = Api(served.base, client_id, secret)
    try:
        api.login()
        subject = api.subject()
        grant = api.grant(subject["id"]).json()
        media = api.sign(grant["id"])
        signed = api.download(media, tmp_path / "signed.mp3")
        verified = api.verify(signed)
        assert verified.status_code == 200, verified.text
        assert api.verify(signed, anonymous=True).status_code == 200
        assert api.revoke(grant["id"]).status_code == 200
        # A sane request id is echoed; an unsafe one is replaced.
        echoed = api.http.get("/healthz", headers={"X-Request-ID": "trace-abc.123"})
        assert echoed.headers["X-Request-ID"] == "trace-abc.123"
        replaced = api.http.get("/healthz", headers={"X-Request-ID": "x" * 200})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-ID"])
        # Every problem names the request id it was logged under.
        problem = api.http.get("/v1/grants/nope", headers=api.auth)
        assert problem.status_code == 404
        assert problem.json()["request_id"] == problem.headers["X-Request-ID"]
        # Many connections at once: both workers answer some.
        with httpx.Client(
            base_url=served.base, limits=httpx.Limits(max_keepalive_connections=0)
        ) as fresh:
            for _ in range(60):
                assert fresh.get("/healthz").status_code == 200

        assert api.http.get("/metrics").status_code == 401
        scrape = api.http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    finally:
        api.close()
    assert scrape.status_code == 200
    found = samples(scrape.text)
    # The master's separate bind serves the same sums, without a token.
    separate = samples(httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text)
    assert total(separate, "registry_http_requests_total", route="/v1/media", status="201") == 1

    # Both workers wrote samples, and the scrape adds them up.
    writers = {p.stem.rsplit("_", 1)[1] for p in metrics_dir.glob("counter_*.db")}
    assert len(writers) == 2, writers
    assert total(found, "registry_http_requests_total", route="/healthz", status="200") >= 62
    assert total(found, "registry_http_requests_total", route="/v1/media", status="201") == 1
    assert total(found, "registry_http_requests_total", route="/v1/verify", status="200") == 2
    assert total(found, "registry_http_request_duration_seconds_count", route="/v1/media") == 1
    assert total(found, "registry_signing_duration_seconds_count", media_type="audio/mpeg") == 1
    assert total(found, "registry_signing_bytes_total", media_type="audio/mpeg") > 0
    assert (
        total(found, "registry_verification_duration_seconds_count", media_type="audio/mpeg") == 2
    )
    assert total(found, "registry_verification_bytes_total", media_type="audio/mpeg") > 0
    assert total(found, "registry_problems_total", status="404") >= 1
    assert total(found, "registry_problems_total", type="unauthorized", status="401") >= 1
    assert total(found, "registry_tokens_issued_total", kind="access") == 1
    assert total(found, "registry_tokens_issued_total", kind="consent") >= 1
    assert total(found, "registry_http_requests_total", route="<unmatched>") == 0
    assert ("registry_outbox_depth", frozenset()) in found
    assert total(found, "process_cpu_seconds_total") > 0
    assert total(found, "registry_master_process_cpu_seconds_total") > 0

    # Access lines are written in batches, at most a second late when traffic stops...
    deadline = time.monotonic() + 3
    while '"path": "/metrics"' not in served.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert '"path": "/metrics"' in served.log()
    # ... and a worker that stops writes what it holds.
    served.process.send_signal(signal.SIGTERM)
    served.process.wait(timeout=20)
    lines = [line for line in served.log().splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [e for e in events if e.get("event") == "access"]
    assert len(access) >= 70
    assert all(re.fullmatch(r"[\w.:@/+=-]{1,128}", e["request_id"]) for e in access)
    assert {"method", "path", "status", "duration_ms", "timestamp"} <= set(access[0])
    assert any(e["path"] == "/v1/grants/nope" and e["status"] == 404 for e in access)
    assert any(e.get("request_id") == "trace-abc.123" for e in access)

    log_text = served.log()
    secrets = [secret, *api.seen_tokens, grant["token"], SUBJECT_NAME, GRANTOR_NAME]
    secrets += ["PRIVATE KEY", "Authorization", "Bearer ", "client_secret"]
    secrets += [DEFAULT_SECRET_KEY, DEFAULT_WATERMARK_SECRET, METRICS_TOKEN]
    for value in secrets:
        assert value not in log_text, value
    for pem in (served.data_dir / "keys").rglob("*.pem"):
        for body_line in pem.read_text().splitlines()[1:-1]:
            assert body_line not in log_text, pem.name


def test_the_worker_logs_json_lines_and_stops_on_sigterm(
    sqlite_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "registry.db"
    shutil.copy(sqlite_template, database)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("registry")), "worker"],
            env={
                **environment,
                "REGISTRY_DATA_DIR": str(tmp_path),
                "REGISTRY_DATABASE_URL": f"sqlite:///{database}",
                "REGISTRY_LOG_FORMAT": "json",
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 20
            while "delivering webhooks" not in log_path.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
    events = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert events[-1]["event"] == "worker: stopped on SIGTERM, the deliveries under way finished"
    assert all({"timestamp", "level", "logger"} <= set(e) for e in events)
