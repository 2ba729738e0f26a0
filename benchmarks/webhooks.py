"""Webhook delivery: events at a steady rate, delivered by `registry worker` to a loopback
receiver. Prints the latency from each event's commit to its arrival (p50/p99/max), events
lost, duplicates, and the worker's CPU seconds (psutil, its own counters) beside wall time.

    .venv/bin/python benchmarks/webhooks.py [--rate 100] [--seconds 60] [--runs 1] [--sqlite]

Events are written by this process with the outbox's ``emit`` in their own transaction each
(as a request would); the commit time is taken right after the commit returns. PostgreSQL by
default (REGISTRY_BENCH_DATABASE_URL), or a SQLite file with --sqlite.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import ROOT, postgres_schema

TARGET_P99 = 2.0
EMITTERS = 4


def _receiver(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.webhooks.receiver", str(log)], cwd=ROOT
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if log.exists() and log.read_text().strip():
            return process, f"http://127.0.0.1:{log.read_text().split()[0]}/hooks"
        time.sleep(0.05)
    raise RuntimeError("the receiver did not start")


def _received(log: Path) -> list[tuple[str, float]]:
    out = []
    for line in log.read_text().splitlines()[1:]:
        record = json.loads(line)
        body = json.loads(base64.b64decode(record["body"]))
        out.append((body["data"]["n"], record["received_at"]))
    return out


def run_once(url: str, rate: float, seconds: float, work: Path) -> dict[str, float]:
    import registry.models  # noqa: F401
    from registry.auth.services import create_organization
    from registry.db import Database
    from registry.webhooks.endpoints import create_endpoint
    from registry.webhooks.events import emit

    log = work / f"receiver-{time.monotonic_ns()}.log"
    receiver, hook_url = _receiver(log)
    database = Database(url=url, pool_size=EMITTERS)
    worker = None
    try:
        with database.session_scope() as session:
            org = create_organization(session, name="Bench", actor="bench")
            create_endpoint(
                session, org_id=org.id, url=hook_url, event_types=[], description="",
                allow_private=True, actor="bench",
            )
            org_id = org.id
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")},
            "REGISTRY_DATABASE_URL": url,
            "REGISTRY_DATA_DIR": str(work),
        }
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "registry"), "worker"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(2)  # the worker is up and idle
        counters = psutil.Process(worker.pid)
        cpu_before = sum(counters.cpu_times()[:2])
        committed: dict[int, float] = {}
        total = int(rate * seconds)
        started = time.monotonic()

        def emitter(first: int) -> None:
            # Each thread writes every EMITTERS-th event at its due time (one thread alone
            # falls behind 100/s when a commit takes over 10 ms on a busy machine).
            for n in range(first, total, EMITTERS):
                pause = started + n / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                with database.session_scope() as session:
                    emit(session, org_id, "grant.issued", {"n": n, "grant_id": f"bench-{n}"})
                committed[n] = time.time()

        threads = [threading.Thread(target=emitter, args=(k,)) for k in range(EMITTERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        emitting = time.monotonic() - started
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len({n for n, _ in _received(log)}) < total:
            time.sleep(0.2)
        cpu = sum(counters.cpu_times()[:2]) - cpu_before
        wall = time.monotonic() - started
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        receiver.terminate()
        receiver.wait()
        database.dispose()
    arrivals = _received(log)
    counts = Counter(n for n, _ in arrivals)
    first: dict[int, float] = {}
    for n, at in arrivals:
        first.setdefault(n, at)
    latencies = sorted(first[n] - committed[n] for n in first)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "events": total,
        "emitting_s": emitting,
        "delivered": len(first),
        "lost": total - len(first),
        "duplicates": sum(c - 1 for c in counts.values()),
        "p50": quantiles[49],
        "p99": quantiles[98],
        "max": latencies[-1] if latencies else float("nan"),
        "worker_cpu_s": cpu,
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    results = []
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-hooks-")))
        if args.sqlite:
            from registry import migrate

            url = f"sqlite:///{work / 'registry.db'}"
            migrate.upgrade(url)
        else:
            url = stack.enter_context(postgres_schema("bench_webhooks"))
        for run in range(args.runs):
            result = run_once(url, args.rate, args.seconds, work)
            results.append(result)
            print(
                f"run {run + 1}: {result['events']} events at {args.rate:g}/s in "
                f"{result['emitting_s']:.1f} s; delivered {result['delivered']}, "
                f"lost {result['lost']}, duplicates {result['duplicates']}; latency after commit "
                f"p50 {result['p50'] * 1000:.0f} ms, p99 {result['p99'] * 1000:.0f} ms, "
                f"max {result['max'] * 1000:.0f} ms; worker CPU {result['worker_cpu_s']:.2f} s "
                f"({result['worker_cpu_s'] / max(result['delivered'], 1) * 1000:.2f} ms/event) "
                f"over {result['wall_s']:.1f} s wall"
            )
    backend = "SQLite" if args.sqlite else "PostgreSQL"
    p99 = statistics.median(r["p99"] for r in results)
    print(
        f"\n{backend}, median of {len(results)} run(s): p50 "
        f"{statistics.median(r['p50'] for r in results) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
        f"(target <= {TARGET_P99 * 1000:.0f} ms: {'met' if p99 <= TARGET_P99 else 'NOT met'}), "
        f"lost {sum(r['lost'] for r in results)}, duplicates "
        f"{sum(r['duplicates'] for r in results)}, worker CPU "
        f"{statistics.median(r['worker_cpu_s'] for r in results):.2f} s"
    )


if __name__ == "__main__":
    main()
