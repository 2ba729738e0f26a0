"""Shared pieces of the benchmark scripts: PostgreSQL schema, gunicorn, wrk, S3, peak RSS, and a
process's own CPU and I/O counters."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from tests.s3server import S3Server

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_schema(name: str) -> Iterator[str]:
    """A fresh schema on the benchmark PostgreSQL, migrated to head; dropped afterwards."""
    from registry import migrate

    base = os.environ.get("REGISTRY_BENCH_DATABASE_URL", DEFAULT_PG)
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {name}")
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{name}"
    migrate.upgrade(url)
    try:
        yield url
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        admin.dispose()


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    data_dir: Path


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int, threads: int) -> Iterator[Server]:
    """The service under gunicorn (the production server) with a throwaway data directory."""
    from registry.keys.keyring import init_keys

    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        data_dir = Path(tmp)
        init_keys(data_dir / "keys")
        port = free_port()
        full_env = {
            **os.environ,
            "REGISTRY_DATA_DIR": str(data_dir),
            "REGISTRY_PORT": str(port),
            "REGISTRY_WORKERS": str(workers),
            "REGISTRY_THREADS": str(threads),
            "REGISTRY_LOG_LEVEL": "warning",
            **env,
        }
        gunicorn_bin = Path(sys.executable).with_name("gunicorn")
        process = subprocess.Popen(
            [str(gunicorn_bin), "-c", str(ROOT / "infra/gunicorn.conf.py"), "registry.wsgi:app"],
            env=full_env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, process)
            yield Server(base, process, data_dir)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def seaweedfs(directory: Path) -> Iterator[S3Server]:
    """SeaweedFS (S3) on loopback, started exactly as the tests start it; stopped afterwards."""
    from tests.s3server import S3Server, find_weed, pick_ports

    server = S3Server(weed=find_weed(), directory=directory, ports=pick_ports())
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PeakRss:
    """Peak RSS of a running process over a ``with`` block.

    Exact where possible: writing 5 to /proc/PID/clear_refs resets the kernel's high-water mark
    (VmHWM) to the current RSS, and VmHWM is read at the end. Where that file cannot be written,
    a thread samples the RSS with psutil every 5 ms (``method`` says which was used).
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.method = "VmHWM"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self) -> int:
        return _proc_status_bytes(self.pid, "VmRSS")

    def __enter__(self) -> PeakRss:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            self.method = "psutil, 5 ms"
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        import psutil

        process = psutil.Process(self.pid)
        while not self._stop.is_set():
            self.peak = max(self.peak, process.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *_exc: object) -> None:
        if self._thread is None:
            self.peak = _proc_status_bytes(self.pid, "VmHWM")
        else:
            self._stop.set()
            self._thread.join()


def _proc_status_bytes(pid: int | str, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {name} in /proc/{pid}/status")


def settle(*, quiet_percent: float = 10.0, at_most: float = 5.0) -> None:
    """Wait until the machine is idle (CPU below ``quiet_percent`` for 0.3 s), so that work left
    over from the previous run (page reclaim, the S3 server) does not land in the next one."""
    import psutil

    deadline = time.monotonic() + at_most
    while time.monotonic() < deadline and psutil.cpu_percent(interval=0.3) > quiet_percent:
        pass


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not become ready")


def ensure_wrk() -> str:
    """Path of wrk, installed from Debian's packages when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (apt-get) ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed")
    return found


@dataclass(frozen=True)
class LoadResult:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int = 0  # completed in the run (wrk's "N requests in")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def median_result(results: list[LoadResult]) -> LoadResult:
    """Each figure's median over several runs of the same load."""
    return LoadResult(
        statistics.median(r.rps for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.non_2xx for r in results),
        int(statistics.median(r.requests for r in results)),
    )


def run_wrk(
    url: str, *, connections: int, seconds: int, threads: int = 2, script: Path | None = None
) -> LoadResult:
    """Load ``url`` with wrk from a second process; loopback only."""
    command = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    if "Requests/sec" not in output or "99%" not in output:
        raise RuntimeError(f"wrk gave no figures:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)\s*$", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)\s*$", output, re.M).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    requests = re.search(r"(\d+) requests in", output)
    return LoadResult(
        rps,
        p50,
        p99,
        int(non_2xx.group(1)) if non_2xx else 0,
        int(requests.group(1)) if requests else 0,
    )


def against_noop(
    base_url: str, script: Path, *, rounds: int, connections: int, seconds: int, threads: int = 2
) -> tuple[list[LoadResult], list[LoadResult]]:
    """wrk on ``/healthz`` and on the route ``script`` asks for, alternating ``rounds`` times
    (drift on a shared machine hits both), after a short warm-up of each; (no-op, route)."""
    run_wrk(f"{base_url}/healthz", connections=8, seconds=2)
    run_wrk(base_url, connections=8, seconds=2, script=script)
    noops, routes = [], []
    for _ in range(rounds):
        noops.append(
            run_wrk(
                f"{base_url}/healthz", connections=connections, seconds=seconds, threads=threads
            )
        )
        routes.append(
            run_wrk(
                base_url, connections=connections, seconds=seconds, script=script, threads=threads
            )
        )
    return noops, routes


def sha256_mb_s(megabytes: int = 256) -> float:
    """SHA-256 throughput of hashlib on this machine in MB/s (best of three over one buffer)."""
    buffer = hashlib.shake_256(b"sha").digest(1 << 20) * megabytes
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        hashlib.sha256(buffer).digest()
        best = max(best, len(buffer) / 1e6 / (time.perf_counter() - started))
    return best


# --- A process's own counters: CPU seconds and bytes through read()/write() -----------------

IO_FIELDS = ("read_chars", "write_chars", "read_bytes", "write_bytes", "cancelled_write_bytes")


@dataclass(frozen=True)
class Usage:
    """CPU seconds and I/O bytes of one or more processes (all their threads, exited ones too).

    ``read_chars``/``write_chars`` (rchar/wchar) count the bytes passed to read(2)/write(2) and
    the like, whatever the file is (page cache hits included) but not socket send/recv;
    ``read_bytes``/``write_bytes`` what the process made the block layer fetch or dirtied in the
    page cache; ``cancelled_write_bytes`` dirtied pages dropped before writeback (a spool file
    deleted in time). CPU is the kernel's user + system time: in clock ticks (10 ms) for another
    process, in microseconds for this one.
    """

    user_s: float = 0.0
    system_s: float = 0.0
    read_chars: int = 0
    write_chars: int = 0
    read_bytes: int = 0
    write_bytes: int = 0
    cancelled_write_bytes: int = 0

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.system_s

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(a + b for a, b in zip(_values(self), _values(other), strict=True)))

    def __sub__(self, other: Usage) -> Usage:
        return Usage(*(a - b for a, b in zip(_values(self), _values(other), strict=True)))

    def scaled(self, factor: float) -> Usage:
        return Usage(*(value * factor for value in _values(self)))  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, float]:
        return {"user_s": self.user_s, "system_s": self.system_s} | {
            name: getattr(self, name) for name in IO_FIELDS
        }


def _values(usage: Usage) -> tuple[float, ...]:
    return (usage.user_s, usage.system_s, *(getattr(usage, name) for name in IO_FIELDS))


def _proc_io(pid: int | str) -> dict[str, int]:
    """/proc/PID/io under psutil's names (psutil's ``io_counters`` has no cancelled_write_bytes)."""
    names = {"rchar": "read_chars", "wchar": "write_chars"}
    fields = {}
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[names.get(key, key)] = int(value)
    return fields


def worker_pids(gunicorn_pid: int) -> list[int]:
    """The gunicorn worker processes (the master's children), not the master itself."""
    import psutil

    return sorted(child.pid for child in psutil.Process(gunicorn_pid).children())


def process_usage(pids: list[int]) -> Usage:
    """The counters of ``pids`` and of every live process below them, summed.

    psutil ``cpu_times()`` user + system (plus children_user/children_system: the processes
    they have reaped) and ``io_counters()`` (Linux adds a reaped child's I/O to its parent's).
    The descendants are there because the service runs each c2pa call in a helper process that
    its worker starts and keeps (registry/c2pa/budget.py): the worker's own counters would
    leave c2pa out. A helper replaced between two readings moves from "live" to "reaped" and is
    counted once either way.
    """
    return sum(tree_usage(pids), Usage())


def run_seconds(pids: list[int]) -> float:
    """Seconds on a CPU of every thread of ``pids`` and of the live processes below them, from
    the scheduler's own nanosecond counters (/proc/PID/task/TID/schedstat): fine enough for a
    request of a few milliseconds, where ``cpu_times`` counts 10 ms clock ticks. A thread that
    has ended is not counted (gunicorn's gthread workers keep theirs)."""
    import psutil

    total = 0
    for pid in pids:
        top = psutil.Process(pid)
        for process in [top, *top.children(recursive=True)]:
            for task in Path(f"/proc/{process.pid}/task").glob("*/schedstat"):
                try:
                    total += int(task.read_text().split()[0])
                except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                    continue  # the thread ended between the listing and the read
    return total / 1e9


def tree_usage(pids: list[int]) -> tuple[Usage, Usage]:
    """(the counters of ``pids`` themselves, those of the live processes below them)."""
    import psutil

    own, below = Usage(), Usage()
    for pid in pids:
        top = psutil.Process(pid)
        for number, process in enumerate([top, *top.children(recursive=True)]):
            try:
                with process.oneshot():
                    times, io = process.cpu_times(), process.io_counters()
                cancelled = _proc_io(process.pid).get("cancelled_write_bytes", 0)
            except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
                continue  # gone: its parent's reaped-children counters have it (or will)
            usage = Usage(
                times.user + times.children_user,
                times.system + times.children_system,
                io.read_chars,
                io.write_chars,
                io.read_bytes,
                io.write_bytes,
                cancelled,
            )
            if number == 0:
                own += usage
            else:
                below += usage
    return own, below


def self_usage() -> Usage:
    """This process's counters: getrusage(RUSAGE_SELF) (every thread, µs) and /proc/self/io."""
    import resource

    rusage = resource.getrusage(resource.RUSAGE_SELF)
    io = _proc_io("self")
    return Usage(rusage.ru_utime, rusage.ru_stime, *(io.get(name, 0) for name in IO_FIELDS))


def quiet_usage(pids: list[int], *, still: float = 0.06, at_most: float = 2.0) -> Usage:
    """``process_usage`` of ``pids`` once their CPU time has stopped moving (``quiet_tree_usage``)."""
    return sum(quiet_tree_usage(pids, still=still, at_most=at_most), Usage())


def quiet_tree_usage(
    pids: list[int], *, still: float = 0.06, at_most: float = 2.0
) -> tuple[Usage, Usage]:
    """``tree_usage`` of ``pids`` once their CPU time has stopped moving for ``still`` seconds.

    A worker keeps working after the client has its response (gunicorn's post_request hook
    trims malloc's heap; helper threads end): that belongs to the request too.
    """
    deadline = time.monotonic() + at_most
    last = tree_usage(pids)
    while time.monotonic() < deadline:
        time.sleep(still)
        now = tree_usage(pids)
        if sum(now, Usage()).cpu_s == sum(last, Usage()).cpu_s:
            return now
        last = now
    return last


def print_io_per_byte(
    title: str, rows: list[tuple[str, str, list[Usage], int]], *, width: int
) -> None:
    """A table of I/O per byte of media: one line per (file, what, usages, media size)."""
    print(
        f"bytes per byte of {title} (median of N): rchar/wchar = bytes through read()/write() "
        "(files, page cache included; not sockets); rd/wr = block-layer reads / pages dirtied; "
        "cw = dirtied pages dropped before writeback"
    )
    short = dict(zip(IO_FIELDS, ("rchar", "wchar", "rd", "wr", "cw"), strict=True))
    header = f"{'file':<{width}}{'':<11}" + "".join(f"{short[name]:>8}" for name in IO_FIELDS)
    print(header)
    print("-" * len(header))
    previous = None
    for label, what, usages, size in rows:
        shown = label if label != previous else ""
        previous = label
        print(
            f"{shown:<{width}}{what:<11}"
            + "".join(
                f"{statistics.median(getattr(u, name) for u in usages) / size:>8.2f}"
                for name in IO_FIELDS
            )
        )
