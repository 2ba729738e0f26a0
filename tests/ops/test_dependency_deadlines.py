"""A frozen or unreachable dependency is a quick 503, never a hang or a 500 (issue #10, item 8).

S3: a SeaweedFS of this module's own is frozen with SIGSTOP (the kernel still accepts
connections; nothing answers them) and thawed with SIGCONT. The database: a port nobody
listens on, a listener that never answers, and (PostgreSQL) a row lock held elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from registry import create_app
from registry.keys.keyring import init_keys
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio, assert_problem
from tests.media import assets
from tests.media.conftest import metadata, sign_upload
from tests.s3server import S3Server, find_weed, pick_ports, use_s3

Counts = Callable[[], dict[str, int]]
S3_READ_TIMEOUT = 1.0
S3_MAX_ATTEMPTS = 2
READINESS_TIMEOUT = 0.8
SLACK = 1.5  # scheduling noise on a busy machine, added to every upper bound


@pytest.fixture(scope="module")
def own_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A SeaweedFS for this module alone: freezing it leaves the session's server alone."""
    server = S3Server(
        weed=find_weed(), directory=tmp_path_factory.mktemp("own-s3"), ports=pick_ports()
    )
    server.start()
    yield server
    server.stop()


@contextlib.contextmanager
def frozen(server: S3Server) -> Iterator[None]:
    """SIGSTOP the server for the block; SIGCONT whatever happens."""
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.fixture
def settings(  # type: ignore[override]
    settings: Settings, own_s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    bucket = f"frozen-{uuid.uuid4().hex[:12]}"
    own_s3.client().create_bucket(Bucket=bucket)
    use_s3(settings, monkeypatch, own_s3.endpoint_url, bucket)
    settings.s3_read_timeout = S3_READ_TIMEOUT
    settings.s3_connect_timeout = S3_READ_TIMEOUT
    settings.s3_max_attempts = S3_MAX_ATTEMPTS
    settings.readiness_timeout = READINESS_TIMEOUT
    return settings


def timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def wait_until_ready(client: FlaskClient, *, within: float = 20.0) -> float:
    started = time.monotonic()
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() - started < within, "/readyz did not recover"
        time.sleep(0.2)
    return time.monotonic() - started


def test_readyz_answers_503_within_its_deadline_while_s3_is_frozen_and_recovers(
    client: FlaskClient, own_s3: S3Server
) -> None:
    # Ready first (a new app's first connection to PostgreSQL can take longer than the
    # deadline on a busy machine; the check goes on and the next probe has its result).
    wait_until_ready(client)
    with frozen(own_s3):
        probes, checkers = [], []
        for _ in range(4):
            probes.append(timed(lambda: client.get("/readyz")))
            checkers.append(sum(t.name.startswith("readyz") for t in threading.enumerate()))
    recovered_in = wait_until_ready(client)

    for response, took in probes:
        assert_problem(response, 503, "storage-unavailable")  # type: ignore[arg-type]
        assert took < READINESS_TIMEOUT + SLACK
    assert probes[0][1] > READINESS_TIMEOUT - 0.05  # the deadline, not a refusal, ended it
    # A probe joins a check still running from the one before: the threads do not grow.
    assert checkers[-1] <= checkers[0], checkers
    assert recovered_in < 10


def test_a_sign_while_s3_is_frozen_is_a_503_problem_in_time_and_records_nothing(
    app: Flask, studio: Studio, own_s3: S3Server, work: Path, counts: Counts
) -> None:
    grant = studio.grant()
    wav = assets.make_wav(work)
    before = counts()
    with frozen(own_s3):
        response, took = timed(lambda: sign_upload(studio, wav, metadata(grant["id"])))

    body = assert_problem(response, 503, "storage-unavailable")  # type: ignore[arg-type]
    assert "127.0.0.1" not in body["detail"]
    # Each try of the upload waits up to 1 s for "100 Continue" (botocore's own wait), then
    # one read timeout for the answer; the backoff between tries is at most 50 ms.
    assert took < S3_MAX_ATTEMPTS * (1 + S3_READ_TIMEOUT) + SLACK
    assert counts() == before  # no media row, no audit event
    wait_until_ready(app.test_client())
    assert sign_upload(studio, wav, metadata(grant["id"])).status_code == 201


# --- The database ---------------------------------------------------------------------------


def app_on(database_url: str, tmp_path: Path, **overrides: object) -> Flask:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        readiness_timeout=READINESS_TIMEOUT,
        _env_file=None,  # type: ignore[call-arg]
        **overrides,  # type: ignore[arg-type]
    )
    init_keys(settings.keys_dir)  # type: ignore[arg-type]
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


TOKEN_FORM = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}


def test_a_request_on_an_unreachable_database_is_a_503_problem_not_a_500(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = app_on(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test", tmp_path)
    try:
        response = app.test_client().post("/v1/auth/token", data=TOKEN_FORM)
    finally:
        state_of(app).database.dispose()

    assert_problem(response, 503, "service-unavailable")


@pytest.fixture
def silent_database() -> Iterator[str]:
    """A PostgreSQL URL whose server accepts connections (the kernel does) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/test?sslmode=disable"


def test_a_database_that_never_answers_is_a_503_within_the_connect_timeout(
    silent_database: str, tmp_path: Path
) -> None:
    app = app_on(silent_database, tmp_path, database_connect_timeout=2)
    client = app.test_client()
    try:
        ready, ready_took = timed(lambda: client.get("/readyz"))
        token, token_took = timed(lambda: client.post("/v1/auth/token", data=TOKEN_FORM))
    finally:
        state_of(app).database.dispose()

    assert_problem(ready, 503, "service-unavailable")  # type: ignore[arg-type]
    assert ready_took < READINESS_TIMEOUT + SLACK
    assert_problem(token, 503, "service-unavailable")  # type: ignore[arg-type]
    assert token_took < 2 + SLACK


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_lock_held_past_the_lock_timeout_is_a_503_and_changes_nothing(
    settings: Settings, database_url: str
) -> None:
    settings.database_lock_timeout = 1.0
    app = create_app(settings)
    app.config["TESTING"] = True
    client = app.test_client()
    studio = Studio.create(app, client, name="Locked Studio")
    grant = studio.grant()
    holder = sa.create_engine(database_url)
    try:
        with holder.begin() as connection:
            connection.execute(
                sa.text("SELECT id FROM consent_grants WHERE id = :id FOR UPDATE"),
                {"id": grant["id"]},
            )
            response, took = timed(
                lambda: studio.post(
                    f"/v1/grants/{grant['id']}/revoke",
                    json={"reason": "withdrawn", "effect": "stop_new_use"},
                )
            )
        status = studio.get(f"/v1/grants/{grant['id']}").json["status"]
    finally:
        holder.dispose()
        state_of(app).database.dispose()

    assert_problem(response, 503, "service-unavailable")  # type: ignore[arg-type]
    assert 1.0 <= took < 1.0 + SLACK
    assert status == "active"
