"""What metrics and JSON logs cost: the no-op and grant-status routes with both on vs off.

Two gunicorns run side by side on one PostgreSQL schema (10^4 grants): "off" has
REGISTRY_METRICS_ENABLED=false and text logs without an access log (gunicorn's default);
"on" is production's: the metrics hooks (multiprocess samples), JSON logs and a JSON access
line per request, written to a file. Request ids are on in both (they are part of every
response). wrk loads ``/healthz`` and ``GET /v1/grants/{id}/status`` on each server in turn,
the order alternating every round; printed: medians of RPS and p99, and the workers' CPU
seconds per request from their own counters (psutil user + system, before and after each run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._harness import (
    LoadResult,
    Server,
    gunicorn,
    postgres_schema,
    process_usage,
    run_wrk,
    worker_pids,
)
from benchmarks.grant_status import seed, wrk_script


def measure(
    server: Server, url: str, script: Path | None, args: argparse.Namespace
) -> tuple[LoadResult, float]:
    """One wrk run: its figures and the workers' CPU seconds per completed request."""
    pids = worker_pids(server.process.pid)
    before = process_usage(pids)
    result = run_wrk(
        url,
        connections=args.connections,
        seconds=args.seconds,
        threads=args.wrk_threads,
        script=script,
    )
    spent = process_usage(pids) - before
    return result, spent.cpu_s / max(1, result.requests)


# --parts: each part on its own, /healthz only (which of them costs what).
PARTS = {
    "off": {"REGISTRY_METRICS_ENABLED": "false", "REGISTRY_LOG_FORMAT": "text"},
    "metrics only": {"REGISTRY_LOG_FORMAT": "text"},
    "json, no access log": {
        "REGISTRY_METRICS_ENABLED": "false",
        "REGISTRY_LOG_FORMAT": "json",
        "REGISTRY_ACCESS_LOG": "off",
    },
    "json + access log": {"REGISTRY_METRICS_ENABLED": "false", "REGISTRY_LOG_FORMAT": "json"},
    "all (production)": {"REGISTRY_LOG_FORMAT": "json"},
}


def parts(args: argparse.Namespace) -> int:
    """/healthz on one server per part, the order rotating each round."""
    figures: dict[str, list[tuple[LoadResult, float]]] = {name: [] for name in PARTS}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        servers = {}
        for name, env in PARTS.items():
            if "REGISTRY_ACCESS_LOG" not in env and env["REGISTRY_LOG_FORMAT"] == "json":
                env = {**env, "REGISTRY_ACCESS_LOG": str(Path(tmp) / f"{len(servers)}.jsonl")}
            servers[name] = stack.enter_context(
                gunicorn(env, workers=args.workers, threads=args.threads)
            )
        names = list(servers)
        for server in servers.values():
            run_wrk(f"{server.base_url}/healthz", connections=8, seconds=2)
        for number in range(args.rounds):
            for name in names[number % len(names) :] + names[: number % len(names)]:
                server = servers[name]
                figures[name].append(measure(server, f"{server.base_url}/healthz", None, args))
    base_rps = statistics.median(r.rps for r, _ in figures["off"])
    base_cpu = statistics.median(c for _, c in figures["off"])
    print(f"\n/healthz, medians of {args.rounds} rotating rounds:")
    for name, runs in figures.items():
        rps = statistics.median(r.rps for r, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(
            f"{name:22} {rps:7.0f} RPS ({rps / base_rps:.2f}), "
            f"{cpu * 1e6:4.0f} µs CPU/request ({cpu / base_cpu:.2f})"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parts", action="store_true", help="each part alone, /healthz only")
    args = parser.parse_args()
    if args.parts:
        return parts(args)

    figures: dict[tuple[str, str], list[tuple[LoadResult, float]]] = {}
    with (
        postgres_schema("registry_bench_instrumentation") as url,
        tempfile.TemporaryDirectory() as tmp,
        ExitStack() as stack,
    ):
        ids = seed(url, args.grants)
        script = wrk_script(ids, Path(tmp))
        common = {"REGISTRY_DATABASE_URL": url, "REGISTRY_DATABASE_POOL_SIZE": str(args.threads)}
        servers = {
            "off": stack.enter_context(
                gunicorn({**common, **PARTS["off"]}, workers=args.workers, threads=args.threads)
            ),
            "on": stack.enter_context(
                gunicorn(
                    {
                        **common,
                        **PARTS["all (production)"],
                        "REGISTRY_LOG_LEVEL": "info",
                        "REGISTRY_ACCESS_LOG": str(Path(tmp) / "access.jsonl"),
                    },
                    workers=args.workers,
                    threads=args.threads,
                )
            ),
        }
        for server in servers.values():  # warm-up
            run_wrk(f"{server.base_url}/healthz", connections=8, seconds=2)
            run_wrk(server.base_url, connections=8, seconds=2, script=script)
        for number in range(args.rounds):
            order = ("off", "on") if number % 2 == 0 else ("on", "off")
            for route, route_script in (("no-op", None), ("status", script)):
                for name in order:
                    server = servers[name]
                    url = f"{server.base_url}/healthz" if route_script is None else server.base_url
                    result = measure(server, url, route_script, args)
                    figures.setdefault((route, name), []).append(result)
                    print(
                        f"round {number + 1} {route:6} {name:3}: {result[0].rps:7.0f} RPS, "
                        f"p99 {result[0].p99_ms:6.1f} ms, {result[1] * 1e6:6.0f} µs CPU/request",
                        flush=True,
                    )
        access_lines = sum(1 for _ in (Path(tmp) / "access.jsonl").open())

    print(
        f"\ngunicorn: {args.workers} gthread workers x {args.threads} threads per server; wrk: "
        f"{args.connections} connections, {args.seconds} s per run, loopback; medians of "
        f"{args.rounds} rounds; the 'on' server wrote {access_lines:,} JSON access lines"
    )
    print(
        f"{'route':8} {'off RPS':>9} {'on RPS':>9} {'ratio':>6} {'off µs CPU':>11} {'on µs CPU':>10} {'ratio':>6} {'p99 off/on ms':>14}"
    )
    for route in ("no-op", "status"):
        off, on = figures[(route, "off")], figures[(route, "on")]
        off_rps = statistics.median(r.rps for r, _ in off)
        on_rps = statistics.median(r.rps for r, _ in on)
        off_cpu = statistics.median(c for _, c in off)
        on_cpu = statistics.median(c for _, c in on)
        off_p99 = statistics.median(r.p99_ms for r, _ in off)
        on_p99 = statistics.median(r.p99_ms for r, _ in on)
        print(
            f"{route:8} {off_rps:9.0f} {on_rps:9.0f} {on_rps / off_rps:6.2f} "
            f"{off_cpu * 1e6:11.0f} {on_cpu * 1e6:10.0f} {on_cpu / off_cpu:6.2f} "
            f"{off_p99:6.1f}/{on_p99:.1f}"
        )
    print("target: RPS on / off >= 0.9 on both routes (#14)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
