"""Benchmark: verification, bare c2pa.Reader versus the service end to end.

For a 1 MP JPEG, a 10-minute WAV (44.1 kHz 16-bit mono, ~53 MB) and a ~100 MB MP4, all
generated here and signed with the service's development credential:
  bare     c2pa.Reader over the file on disk (page cache), with the service's trust settings
           (its anchors and EKU list, no network), and the store's JSON parsed;
  service  HTTP upload to POST /v1/verify (raw body, and multipart) under gunicorn on
           loopback (2 gthread workers x 4 threads, PostgreSQL): spooled, hashed, read,
           checked against the registry, the verdict.
Also requests per second for the small JPEG with two gunicorn workers (wrk, loopback).

Figures (bare, raw and multipart runs interleaved, N runs each; medians):
  wall     seconds per verification, the client's view (noise on this VM: its speed drifts 2-3x);
  CPU      the service's: the gunicorn workers' own counters (psutil ``cpu_times()`` user +
           system, summed over the workers, not the master) and those of the c2pa helper
           processes each worker keeps (registry/c2pa/budget.py: c2pa runs there), from
           before the request until they are quiet after the response; the bare Reader's: this process's
           getrusage(RUSAGE_SELF) around it (nothing else runs here meanwhile). The workers'
           counters tick at 10 ms, so the JPEG is measured over batches of ``--jpeg-batch``
           requests (and reads) and divided;
  I/O      bytes through read()/write() (rchar/wchar: files and page cache, not sockets) and
           block-layer reads / dirtied pages (rd/wr), per byte of the file;
  load     the workers' CPU during the wrk run divided by the requests it completed.
Targets (#9): worker CPU / bare CPU <= 1.5 on the WAV and the MP4, and <= 2 on the JPEG
(sequential, raw upload; multipart and the CPU under load are printed beside it). The older
wall-time target (service / bare <= 1.15 on the WAV and the MP4, #4) is printed, not decided
on. Exit status 1 when a #9 target is missed.

    .venv/bin/python benchmarks/verify_throughput.py [--runs 5] [--jpeg-batch 40] [--mp4-mb 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import c2pa
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks._harness import (  # noqa: E402
    LoadResult,
    Usage,
    gunicorn,
    postgres_schema,
    print_io_per_byte,
    process_usage,
    quiet_tree_usage,
    quiet_usage,
    run_wrk,
    self_usage,
    settle,
    sha256_mb_s,
    tree_usage,
    worker_pids,
)
from registry.c2pa.adapter import sign_file  # noqa: E402
from registry.keys.c2pa_credential import (  # noqa: E402
    DEV_CA_FILE,
    SIGNER_EKUS,
    create_dev_credential,
)
from tests.media import assets  # noqa: E402

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
WALL_TARGET = 1.15  # service / bare wall time on the WAV and MP4 (#4): printed only
CPU_TARGET_BIG = 1.5  # worker CPU / bare CPU on the WAV and MP4 (#9)
CPU_TARGET_JPEG = 2.0  # worker CPU / bare CPU on the 1 MP JPEG (#9)
MODES = ("bare", "raw", "multipart")


def manifest() -> dict:  # type: ignore[type-arg]
    action = {
        "action": "c2pa.created",
        "digitalSourceType": IPTC,
        "softwareAgent": {"name": "Bench", "version": "1"},
    }
    return {
        "claim_generator_info": [{"name": "bench", "version": "1"}],
        "title": "bench",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [action]}}],
    }


def make_files(work: Path, mp4_mb: int) -> dict[str, tuple[Path, str]]:
    return {
        "1 MP JPEG": (assets.make_jpeg(work, size=(1000, 1000)), "image/jpeg"),
        "10 min WAV": (assets.make_wav(work, seconds=600, rate=44_100), "audio/wav"),
        f"{mp4_mb} MB MP4": (assets.make_large_mp4(work, megabytes=mp4_mb), "video/mp4"),
    }


def reader_settings(anchors: str) -> dict:  # type: ignore[type-arg]
    """What registry.c2pa.adapter.read_manifest gives c2pa: our anchors, the EKUs, no network."""
    return {
        "trust": {"user_anchors": anchors, "trust_config": "".join(f"{o}\n" for o in SIGNER_EKUS)},
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    }


def bare_read(path: Path, mime: str, settings: dict) -> None:  # type: ignore[type-arg]
    with (
        c2pa.Context.from_dict(settings) as context,
        path.open("rb") as stream,
        c2pa.Reader(mime, stream, context=context) as reader,
    ):
        state = json.loads(reader.json())["validation_state"]
    assert state == "Trusted", state


def service_raw(http: httpx.Client, path: Path) -> None:
    with path.open("rb") as handle:
        response = http.post(
            "/v1/verify", content=handle, headers={"Content-Type": "application/octet-stream"}
        )
    assert response.status_code == 200 and response.json()["verdict"] != "fail", response.text


def service_multipart(http: httpx.Client, path: Path) -> None:
    with path.open("rb") as handle:
        response = http.post("/v1/verify", files={"file": (path.name, handle)})
    assert response.status_code == 200 and response.json()["verdict"] != "fail", response.text


def wrk_post_script(path: Path, directory: Path) -> Path:
    script = directory / "verify.lua"
    script.write_text(
        f'local f = io.open("{path}", "rb")\n'
        "wrk.method = 'POST'\nwrk.body = f:read('*all')\nf:close()\n"
        "wrk.headers['Content-Type'] = 'application/octet-stream'\n"
    )
    return script


@dataclass
class Row:
    name: str
    size: int
    batch: int
    wall: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in MODES})
    usage: dict[str, list[Usage]] = field(default_factory=lambda: {m: [] for m in MODES})
    # The part of ``usage`` in the workers' c2pa helper processes (none for bare).
    helpers: dict[str, list[Usage]] = field(default_factory=lambda: {m: [] for m in MODES})

    def wall_s(self, mode: str) -> float:
        return statistics.median(self.wall[mode])

    def cpu_s(self, mode: str) -> float:
        return statistics.median(u.cpu_s for u in self.usage[mode])

    def helpers_s(self, mode: str) -> float:
        return statistics.median(u.cpu_s for u in self.helpers[mode])

    def ratio(self, mode: str) -> float:
        return self.cpu_s(mode) / self.cpu_s("bare")

    def pairs(self, mode: str) -> str:
        """The range of the per-run ratios (each service run over the bare run just before)."""
        values = [
            s.cpu_s / b.cpu_s
            for b, s in zip(self.usage["bare"], self.usage[mode], strict=True)
            if b.cpu_s
        ]
        return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


Counters = Callable[[], tuple[Usage, Usage]]


def measure_one(
    action: Callable[[], None], batch: int, counters: Counters, quiet: Counters
) -> tuple[float, Usage, Usage]:
    """Wall seconds, counters (all) and counters (c2pa helpers) per call of ``action``, over
    ``batch`` calls."""
    before = counters()
    started = time.perf_counter()
    for _ in range(batch):
        action()
    wall = time.perf_counter() - started
    after = quiet()
    total = sum(after, Usage()) - sum(before, Usage())
    return wall / batch, total.scaled(1 / batch), (after[1] - before[1]).scaled(1 / batch)


def _self_counters() -> tuple[Usage, Usage]:
    return self_usage(), Usage()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs of each (JPEG)")
    parser.add_argument(
        "--big-runs", type=int, default=None, help="runs for the WAV and MP4 (default: --runs)"
    )
    parser.add_argument(
        "--jpeg-batch", type=int, default=40, help="JPEG verifications per measured run"
    )
    parser.add_argument("--mp4-mb", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration for the RPS figure")
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        help="wait at most this long (s) for the machine to go idle before each run",
    )
    args = parser.parse_args()
    big_runs = args.big_runs or args.runs
    env = {
        # The anonymous limits (requests, bytes, c2pa seconds, concurrency) out of the way.
        "REGISTRY_ANONYMOUS_VERIFY_RATE": "1000000/second",
        "REGISTRY_ANONYMOUS_VERIFY_BYTES_PER_MINUTE": str(1 << 50),
        "REGISTRY_ANONYMOUS_VERIFY_C2PA_SECONDS_PER_MINUTE": "1e9",
        "REGISTRY_ANONYMOUS_VERIFY_CONCURRENCY": "1000",
        "REGISTRY_MAX_UPLOAD_BYTES": str(1024**3),
    }
    rows: list[Row] = []
    with postgres_schema("registry_bench_verify") as url, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = make_files(work, args.mp4_mb)
        with gunicorn({**env, "REGISTRY_DATABASE_URL": url}, workers=2, threads=4) as server:
            keys = server.data_dir / "keys" / "c2pa"
            credential = create_dev_credential(keys).credential
            settings = reader_settings((keys / DEV_CA_FILE).read_text())
            workers = worker_pids(server.process.pid)
            probes: dict[str, tuple[Counters, Counters]] = {
                "bare": (_self_counters, _self_counters),
                "raw": (partial(tree_usage, workers), partial(quiet_tree_usage, workers)),
            }
            probes["multipart"] = probes["raw"]
            with httpx.Client(base_url=server.base_url, timeout=600) as http:
                for name, (source, mime) in files.items():
                    signed = work / f"signed-{source.name}"
                    sign_file(
                        source=source,
                        dest=signed,
                        mime_type=mime,
                        manifest=manifest(),
                        credential=credential,
                    )
                    small = signed.stat().st_size < 20_000_000
                    row = Row(name, signed.stat().st_size, args.jpeg_batch if small else 1)
                    actions: dict[str, Callable[[], None]] = {
                        "bare": lambda s=signed, m=mime: bare_read(s, m, settings),
                        "raw": lambda s=signed: service_raw(http, s),
                        "multipart": lambda s=signed: service_multipart(http, s),
                    }
                    for action in actions.values():  # warm: page cache, connections, imports
                        action()
                    for _ in range(args.runs if small else big_runs):
                        for mode, action in actions.items():
                            settle(at_most=args.settle)
                            wall, usage, helpers = measure_one(action, row.batch, *probes[mode])
                            row.wall[mode].append(wall)
                            row.usage[mode].append(usage)
                            row.helpers[mode].append(helpers)
                        print(
                            f"  {name} run {len(row.wall['bare'])}: "
                            + ", ".join(
                                f"{mode} {row.wall[mode][-1] * 1000:.1f} ms wall, "
                                f"{row.usage[mode][-1].cpu_s * 1000:.1f} ms CPU"
                                for mode in MODES
                            ),
                            flush=True,
                        )
                    rows.append(row)
                jpeg = work / f"signed-{files['1 MP JPEG'][0].name}"
                settle(at_most=args.settle)
                before = process_usage(workers)
                load = run_wrk(
                    server.base_url + "/v1/verify",
                    connections=8,
                    seconds=args.seconds,
                    script=wrk_post_script(jpeg, work),
                )
                load_usage = quiet_usage(workers) - before
    sha_mbs = sha256_mb_s()
    return 0 if report(rows, load, load_usage, args=args, sha_mbs=sha_mbs) else 1


def report(
    rows: list[Row],
    load: LoadResult,
    load_usage: Usage,
    *,
    args: argparse.Namespace,
    sha_mbs: float,
) -> bool:
    print()
    print(
        f"c2pa-python {c2pa.__version__}; gunicorn 2 gthread workers x 4 threads, PostgreSQL, "
        f"loopback; SHA-256 on this machine: {sha_mbs:.0f} MB/s; medians of N interleaved runs "
        f"(JPEG: each run a batch of {args.jpeg_batch}, per verification)"
    )
    print()
    print("wall time per verification (noise: the VM's speed drifts 2-3x)")
    print(
        f"{'file':<14}{'MB':>8}{'N':>3}{'bare s':>10}{'raw s':>10}{'ratio':>8}"
        f"{'multipart s':>13}{'ratio':>8}"
    )
    for row in rows:
        bare = row.wall_s("bare")
        print(
            f"{row.name:<14}{row.size / 1e6:>8.3f}{len(row.wall['bare']):>3}{bare:>10.4f}"
            f"{row.wall_s('raw'):>10.4f}{row.wall_s('raw') / bare:>8.2f}"
            f"{row.wall_s('multipart'):>13.4f}{row.wall_s('multipart') / bare:>8.2f}"
        )
    print()
    print(
        "CPU seconds per verification: service = the gunicorn workers and their c2pa helper "
        "processes (psutil user + system; (c2pa) = the helpers' part); bare = this process "
        "around c2pa.Reader; pairs = range of the per-run ratios"
    )
    header = (
        f"{'file':<14}{'N':>3}{'bare CPU':>10}{'raw CPU':>10}{'(c2pa)':>8}{'ratio':>7}{'pairs':>11}"
        f"{'multi CPU':>11}{'ratio':>7}{'pairs':>11}  target (raw)"
    )
    print(header)
    print("-" * len(header))
    met = True
    for row in rows:
        target = CPU_TARGET_JPEG if "JPEG" in row.name else CPU_TARGET_BIG
        ok = row.ratio("raw") <= target
        met &= ok
        print(
            f"{row.name:<14}{len(row.usage['bare']):>3}{row.cpu_s('bare'):>10.4f}"
            f"{row.cpu_s('raw'):>10.4f}{row.helpers_s('raw'):>8.4f}{row.ratio('raw'):>7.2f}"
            f"{row.pairs('raw'):>11}"
            f"{row.cpu_s('multipart'):>11.4f}{row.ratio('multipart'):>7.2f}"
            f"{row.pairs('multipart'):>11}  <= {target}: {'ok' if ok else 'MISSED'}"
            f" (multipart {'ok' if row.ratio('multipart') <= target else 'missed'})"
        )
    print()
    print_io_per_byte(
        "the file",
        [(row.name, mode, row.usage[mode], row.size) for row in rows for mode in MODES],
        width=14,
    )
    print()
    jpeg = next(row for row in rows if "JPEG" in row.name)
    per_request = load_usage.cpu_s / load.requests if load.requests else float("nan")
    print(
        f"1 MP JPEG with 2 gunicorn workers (wrk, 8 connections, {args.seconds} s): "
        f"{load.rps:.0f} requests/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
        f"non-2xx {load.non_2xx}; workers' CPU {per_request * 1000:.2f} ms per request "
        f"(user {load_usage.user_s / max(load.requests, 1) * 1000:.2f}), "
        f"{per_request / jpeg.cpu_s('bare'):.2f} x the bare Reader's {jpeg.cpu_s('bare') * 1000:.2f} ms"
    )
    wall_ok = all(
        row.wall_s("raw") / row.wall_s("bare") <= WALL_TARGET for row in rows if row is not jpeg
    )
    print(
        f"wall time service/bare <= {WALL_TARGET} on WAV and MP4 (#4, raw upload): "
        f"{'met' if wall_ok else 'not met'} (printed only: noise on this VM)"
    )
    print(
        f"targets (#9, raw upload): worker CPU / bare CPU <= {CPU_TARGET_BIG} on the WAV and the "
        f"MP4, <= {CPU_TARGET_JPEG} on the JPEG: {'met' if met else 'NOT MET'}"
    )
    return met


if __name__ == "__main__":
    sys.exit(main())
