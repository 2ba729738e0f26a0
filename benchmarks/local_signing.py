"""Benchmark: signing without uploading (signing sessions) against bare local c2pa signing.

    .venv/bin/python benchmarks/local_signing.py [--sizes 10,100,1000] [--runs 3] [--big-runs 1]

Media: WAV files of 10 MB, 100 MB and 1 GB (48 kHz 16-bit stereo noise from SHAKE-256,
generated here; c2pa hashes and copies every sample, as it would a film's).

(a) Bare: c2pa-python in this process, ``Builder.sign`` file to file with a local PEM key
    (``Signer.from_info``, the registry's development credential), the manifest the registry
    builds for the same grant (``build_manifest``) and the c2pa settings the pipeline signs
    with (``signing_settings`` without c2pa's check of what it signed, which would read the
    output again), streams as ``local_signing.pipeline`` opens them.
(b) Local signing: ``RegistryClient.sign_local`` (``POST /v1/signing-sessions``; c2pa here
    with a placeholder signature; the manifest store and the source's SHA-256, computed in a
    thread beside c2pa's pass, ``POST``ed to ``/v1/signing-sessions/{id}/signature``; the
    answer checked and written over the placeholder) against gunicorn
    (infra/gunicorn.conf.py, one gthread worker), SQLite. Time: the client's wall time, end
    to end (token already held).

(c) The same with ``source_sha256`` given (a pipeline that has its master's checksum already):
    no hashing on the client.

Per file: the bytes the service received (request lines, headers and bodies of every
request, counted by the client's transport: what went over the socket, before TLS), the CPU
seconds of the gunicorn worker and of every process below it (the scheduler's nanosecond
counters of each of their threads, ``_harness.run_seconds``, read once the worker is quiet
again; psutil's ``cpu_times`` counts 10 ms ticks, too coarse for two requests) over the
whole signing, and, in one more untimed signing per run, within each request's window
(the requests' own cost; the whole-run figure also holds what the worker does on its own
while the client's c2pa runs), the wall times, and the CPU seconds of this
process (getrusage: c2pa's threads, the hashing thread, httpx) for each way of signing: on a
shared machine the wall time swings with others' load, the CPU seconds much less. Medians of interleaved
runs (bare, local, bare, local, ...). Targets (#13): service bytes <= 64 KiB per file; service
CPU flat (1 GB <= 1.5x 10 MB); local / bare wall time <= 1.10 at 1 GB.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import sys
import tempfile
import time
import uuid
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import (
    gunicorn,
    quiet_tree_usage,
    run_seconds,
    self_usage,
    settle,
    worker_pids,
)
from benchmarks.sign_throughput import create_tenant, issue_grant

MB = 1_000_000
CHUNK = 1024 * 1024
BYTES_TARGET = 64 * 1024
CPU_FLAT_TARGET = 1.5
RATIO_TARGET = 1.10


class CountingTransport(httpx.HTTPTransport):
    """Counts what the client sends: request line, headers and body of every request. With
    ``account`` set to the worker's pids, also the worker's CPU seconds from just before each
    request to when it is quiet after the response (``request_cpu``): what the requests cost,
    without what the worker does meanwhile on its own (gunicorn's heartbeat loop)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0
        self.account: list[int] = []
        self.request_cpu = 0.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        line = f"{request.method} {request.url.raw_path.decode()} HTTP/1.1\r\n"
        headers = sum(len(k) + len(v) + 4 for k, v in request.headers.raw) + 2
        self.sent += len(line) + headers + len(body)
        if not self.account:
            return super().handle_request(request)
        before = run_seconds(self.account)
        response = super().handle_request(request)
        response.read()
        quiet_tree_usage(self.account)
        self.request_cpu += run_seconds(self.account) - before
        return response


def make_wav(directory: Path, megabytes: int) -> Path:
    path = directory / f"take-{megabytes}MB.wav"
    frames = (megabytes * MB - 44) // 4
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(48_000)
        left, block = frames, 0
        while left:
            count = min(left, CHUNK // 4 * 16)
            out.writeframes(hashlib.shake_256(b"wav%d" % block).digest(count * 4))
            left -= count
            block += 1
    return path


def bare_sign(source: Path, dest: Path, definition: dict[str, Any], credential: Any) -> float:
    import c2pa

    from registry.c2pa.adapter import signing_settings

    started = time.perf_counter()
    info = c2pa.C2paSignerInfo(
        b"es256", credential.cert_chain_pem, credential.private_key_pem, None
    )
    with (
        c2pa.Context.from_dict(
            signing_settings(thumbnails=False, verify_after_sign=False)
        ) as context,
        c2pa.Builder({**definition, "label": f"urn:c2pa:{uuid.uuid4()}"}, context=context) as b,
        c2pa.Signer.from_info(info) as signer,
        io.BufferedReader(io.FileIO(source), CHUNK) as src,
        io.BufferedRandom(io.FileIO(dest, "w+"), CHUNK) as out,
    ):
        b.sign(signer, "audio/wav", src, out)
    return time.perf_counter() - started


@dataclass
class Row:
    label: str
    size: int
    bare_s: list[float] = field(default_factory=list)
    local_s: list[float] = field(default_factory=list)
    known_s: list[float] = field(default_factory=list)  # the pipeline gives the source hash
    # CPU seconds of this process (every thread: c2pa, the hashing thread, httpx), per run.
    bare_cpu: list[float] = field(default_factory=list)
    local_cpu: list[float] = field(default_factory=list)
    known_cpu: list[float] = field(default_factory=list)
    service_cpu_s: list[float] = field(default_factory=list)
    request_cpu_s: list[float] = field(default_factory=list)  # in the requests' windows
    service_bytes: list[int] = field(default_factory=list)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="MB, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs per file up to 100 MB")
    parser.add_argument("--big-runs", type=int, default=1, help="runs per file above 100 MB")
    parser.add_argument(
        "--dir", default=None, help="where the media go (e.g. /dev/shm: no disk writeback noise)"
    )
    args = parser.parse_args()
    from registry.client import GrantCitation, RegistryClient
    from registry.keys.c2pa_credential import load_credential
    from registry.local_signing.pipeline import file_facts

    with (
        tempfile.TemporaryDirectory(prefix="bench-local-") as db_dir,
        tempfile.TemporaryDirectory(prefix="bench-local-media-", dir=args.dir) as tmp_name,
    ):
        tmp = Path(tmp_name)
        db_url = f"sqlite:///{Path(db_dir) / 'registry.db'}"
        tenant = create_tenant(db_url)
        env = {"REGISTRY_DATABASE_URL": db_url}
        with gunicorn(env, workers=1, threads=4) as server:
            keys = server.data_dir / "keys" / "c2pa"
            credential = load_credential(
                cert_chain=keys / "c2pa-chain.pem", private_key=keys / "c2pa-key.pem"
            )
            transport = CountingTransport()
            registry = RegistryClient(
                server.base_url, tenant.client_id, tenant.client_secret, transport=transport
            )
            grant_id = issue_grant(server.base_url, registry.access_token())
            uses = [GrantCitation(grant_id, ("voice",), "advertising", "US")]
            pids = [worker_pids(server.process.pid)[0]]
            rows = []
            for megabytes in (int(s) for s in args.sizes.split(",")):
                print(f"generating {megabytes} MB ...", flush=True)
                source = make_wav(tmp, megabytes)
                row = Row(f"WAV {megabytes} MB", source.stat().st_size)
                digest = file_facts(source)[0]
                # Warm-up; the bare run embeds what a session of the same grant answers.
                registry.sign_local(source, tmp / "warm.wav", uses, "BenchForge@1.0")
                session = registry._send(
                    "POST",
                    "/v1/signing-sessions",
                    json={
                        "grants": [u.as_json() for u in uses],
                        "generator": {"name": "BenchForge", "version": "1.0"},
                        "mime_type": "audio/wav",
                        "size": row.size,
                        "source_sha256": "0" * 64,
                    },
                ).json()
                definition = session["manifest_definition"]
                (tmp / "warm.wav").unlink()
                runs = args.runs if megabytes <= 100 else args.big_runs
                for _ in range(runs):
                    settle()
                    cpu = self_usage().cpu_s
                    row.bare_s.append(bare_sign(source, tmp / "bare.wav", definition, credential))
                    row.bare_cpu.append(self_usage().cpu_s - cpu)
                    (tmp / "bare.wav").unlink()
                    settle()
                    quiet_tree_usage(pids)
                    before, sent = run_seconds(pids), transport.sent
                    started, cpu = time.perf_counter(), self_usage().cpu_s
                    registry.sign_local(source, tmp / "local.wav", uses, "BenchForge@1.0")
                    row.local_s.append(time.perf_counter() - started)
                    row.local_cpu.append(self_usage().cpu_s - cpu)
                    quiet_tree_usage(pids)
                    row.service_cpu_s.append(run_seconds(pids) - before)
                    row.service_bytes.append(transport.sent - sent)
                    (tmp / "local.wav").unlink()
                    settle()
                    started, cpu = time.perf_counter(), self_usage().cpu_s
                    registry.sign_local(
                        source, tmp / "local.wav", uses, "BenchForge@1.0", source_sha256=digest
                    )
                    row.known_s.append(time.perf_counter() - started)
                    row.known_cpu.append(self_usage().cpu_s - cpu)
                    (tmp / "local.wav").unlink()
                    # Once more, untimed, each request's CPU accounted on its own.
                    settle()
                    transport.account, transport.request_cpu = pids, 0.0
                    registry.sign_local(source, tmp / "local.wav", uses, "BenchForge@1.0")
                    transport.account = []
                    row.request_cpu_s.append(transport.request_cpu)
                    (tmp / "local.wav").unlink()
                    print(
                        f"  {row.label}: bare {row.bare_s[-1]:.2f} s, local {row.local_s[-1]:.2f}"
                        f" s, local with the hash given {row.known_s[-1]:.2f} s, service CPU "
                        f"{row.service_cpu_s[-1] * 1000:.1f} ms (in its requests "
                        f"{row.request_cpu_s[-1] * 1000:.1f} ms), {row.service_bytes[-1]} bytes sent",
                        flush=True,
                    )
                source.unlink()
                rows.append(row)
            registry.close()
    return report(rows)


def report(rows: list[Row]) -> int:
    med = statistics.median
    print()
    print(
        "| file | runs | service bytes | service CPU ms: requests (whole run) | bare c2pa s "
        "| local signing s "
        "(/ bare) | local, hash given s (/ bare) |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        bare = med(row.bare_s)
        print(
            f"| {row.label} | {len(row.local_s)} | {med(row.service_bytes):,.0f} | "
            f"{med(row.request_cpu_s) * 1000:.1f} ({med(row.service_cpu_s) * 1000:.1f}) | {bare:.2f} | {med(row.local_s):.2f} "
            f"({med(row.local_s) / bare:.3f}) | {med(row.known_s):.2f} "
            f"({med(row.known_s) / bare:.3f}) |"
        )
    print()
    print("| file | client CPU s: bare | local (/ bare) | local, hash given (/ bare) |")
    print("|---|---|---|---|")
    for row in rows:
        bare = med(row.bare_cpu)
        print(
            f"| {row.label} | {bare:.2f} | {med(row.local_cpu):.2f} "
            f"({med(row.local_cpu) / bare:.3f}) | {med(row.known_cpu):.2f} "
            f"({med(row.known_cpu) / bare:.3f}) |"
        )
    ok = all(max(r.service_bytes) <= BYTES_TARGET for r in rows)
    print(f"\nservice bytes <= {BYTES_TARGET} per file: {'met' if ok else 'NOT met'}")
    if len(rows) > 1:
        for name, attr in (("in its requests", "request_cpu_s"), ("whole run", "service_cpu_s")):
            flat = med(getattr(rows[-1], attr)) / med(getattr(rows[0], attr))
            print(
                f"service CPU {name}, largest / smallest file: {flat:.2f} "
                f"(target <= {CPU_FLAT_TARGET})"
            )
    last = rows[-1]
    for name, times in (("local", last.local_s), ("local, hash given", last.known_s)):
        ratio = med(times) / med(last.bare_s)
        print(f"{name} / bare at {last.label}: {ratio:.3f} (target <= {RATIO_TARGET} at 1 GB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
