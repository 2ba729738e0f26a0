"""Benchmark: POST /v1/screen against POST /v1/verify for a 1 MP JPEG the service signed.

The service runs under gunicorn on loopback (2 gthread workers x 4 threads, PostgreSQL). A
1 MP JPEG is signed through POST /v1/media; then, interleaved, in batches:
  verify        POST /v1/verify of the signed file (raw body): c2pa reads and validates it;
  screen        POST /v1/screen of the same file: recognised by its hash, no c2pa work;
  screen copy   POST /v1/screen of a copy at half size, JPEG quality 70 (no manifest): c2pa
                finds no manifest, the watermark is looked for, then the fingerprints are
                computed and looked up (the asset indexed as signing will index it, #11).
Figures (medians of N interleaved runs, each a batch of ``--batch`` requests, per request):
wall seconds (the client's view) and CPU seconds of the service (the gunicorn workers and
their c2pa helper processes, psutil user + system, until they are quiet after the batch).

    .venv/bin/python benchmarks/screen_throughput.py [--runs 7] [--batch 30] [--settle 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks._harness import (  # noqa: E402
    Usage,
    gunicorn,
    postgres_schema,
    quiet_tree_usage,
    settle,
    tree_usage,
    worker_pids,
)
from benchmarks.sign_throughput import create_tenant, issue_grant  # noqa: E402
from benchmarks.verify_throughput import measure_one  # noqa: E402
from registry.client import GrantCitation, RegistryClient  # noqa: E402
from tests.media import assets  # noqa: E402

MODES = ("verify", "screen", "screen copy")


def post(http: httpx.Client, url: str, path: Path, check: Callable[[dict], bool]) -> None:  # type: ignore[type-arg]
    response = http.post(url, content=path.read_bytes(), headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 200 and check(response.json()), response.text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="interleaved runs of each mode")
    parser.add_argument("--batch", type=int, default=30, help="requests per measured run")
    parser.add_argument("--settle", type=float, default=5.0, help="wait for idle (s, at most)")
    args = parser.parse_args()
    env = {
        "REGISTRY_ANONYMOUS_VERIFY_RATE": "1000000/second",
        "REGISTRY_ANONYMOUS_VERIFY_BYTES_PER_MINUTE": str(1 << 50),
        "REGISTRY_ANONYMOUS_VERIFY_C2PA_SECONDS_PER_MINUTE": "1e9",
        "REGISTRY_ANONYMOUS_VERIFY_CONCURRENCY": "1000",
    }
    wall: dict[str, list[float]] = {m: [] for m in MODES}
    usage: dict[str, list[Usage]] = {m: [] for m in MODES}
    helpers: dict[str, list[Usage]] = {m: [] for m in MODES}
    with postgres_schema("registry_bench_screen") as url, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tenant = create_tenant(url)
        with gunicorn({**env, "REGISTRY_DATABASE_URL": url}, workers=2, threads=4) as server:
            signed = work / "signed.jpg"
            with RegistryClient(server.base_url, tenant.client_id, tenant.client_secret) as reg:
                grant_id = issue_grant(server.base_url, reg.access_token())
                use = GrantCitation(grant_id, ("likeness",), "advertising", "US")
                source = assets.make_jpeg(work, size=(1000, 1000))
                asset = reg.sign_media(source, [use], "BenchForge@1.0")
                reg.download(asset.id, signed)  # signing indexed it
            copy = work / "copy.jpg"
            with Image.open(signed) as picture:
                picture.convert("RGB").resize((500, 500)).save(copy, "JPEG", quality=70)
            sizes = signed.stat().st_size, copy.stat().st_size
            workers = worker_pids(server.process.pid)
            counters = (partial(tree_usage, workers), partial(quiet_tree_usage, workers))
            with httpx.Client(base_url=server.base_url, timeout=600) as http:
                actions: dict[str, Callable[[], None]] = {
                    "verify": lambda: post(
                        http, "/v1/verify", signed, lambda r: r["verdict"] == "pass"
                    ),
                    "screen": lambda: post(
                        http,
                        "/v1/screen",
                        signed,
                        lambda r: r["match"]["method"] == "signed_hash",
                    ),
                    "screen copy": lambda: post(
                        http,
                        "/v1/screen",
                        copy,
                        lambda r: r["match"] is not None and r["match"]["method"] == "fingerprint",
                    ),
                }
                for action in actions.values():  # warm: connections, imports, helpers
                    for _ in range(3):
                        action()
                for run in range(args.runs):
                    for mode, action in actions.items():
                        settle(at_most=args.settle)
                        seconds, used, in_helpers = measure_one(action, args.batch, *counters)
                        wall[mode].append(seconds)
                        usage[mode].append(used)
                        helpers[mode].append(in_helpers)
                    print(
                        f"  run {run + 1}: "
                        + ", ".join(
                            f"{m} {wall[m][-1] * 1000:.1f} ms wall, "
                            f"{usage[m][-1].cpu_s * 1000:.1f} ms CPU"
                            for m in MODES
                        ),
                        flush=True,
                    )
    print()
    print(
        f"1 MP JPEG ({sizes[0] / 1000:.0f} kB signed, copy {sizes[1] / 1000:.0f} kB); 2 gunicorn workers x 4 threads, PostgreSQL, loopback; medians of {args.runs} "
        f"interleaved runs of {args.batch} requests, per request"
    )
    header = f"{'mode':<13}{'wall ms':>9}{'CPU ms':>9}{'(c2pa)':>9}{'CPU / verify':>14}"
    print(header)
    print("-" * len(header))
    base = statistics.median(u.cpu_s for u in usage["verify"])
    for mode in MODES:
        cpu = statistics.median(u.cpu_s for u in usage[mode])
        print(
            f"{mode:<13}{statistics.median(wall[mode]) * 1000:>9.2f}{cpu * 1000:>9.2f}"
            f"{statistics.median(u.cpu_s for u in helpers[mode]) * 1000:>9.2f}"
            f"{cpu / base:>14.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
