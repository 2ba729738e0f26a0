"""Benchmark: GET /v1/grants/{id}/status against a no-op route, on PostgreSQL with 10^6 grants.

Starts the service under gunicorn, loads both routes with wrk from a second process on
loopback, and prints requests per second, p50 / p99 latency and the ratio.
Targets (issue 2): status RPS >= 0.6 x no-op RPS and status p99 <= 25 ms at 32 connections.

    .venv/bin/python benchmarks/grant_status.py [--grants 1000000] [--seconds 15] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._harness import against_noop, gunicorn, median_result, postgres_schema

SEED_SQL = """
INSERT INTO consent_grants (
  id, org_id, subject_id, grantee_org_id, granted_by, representation, modalities, operations,
  purposes, prohibited_uses, media_types, territories, valid_from, valid_until,
  consent_timestamp, compensation, training, evidence, version, status, token, token_sha256,
  created_at, revoked_at)
SELECT gen_random_uuid()::text, :org, :subject, :org,
  '{"role": "subject", "name": "Bench Subject"}'::jsonb, NULL, '["voice"]'::jsonb,
  '["generate"]'::jsonb,
  '[{"category": "advertising", "description": "Benchmark campaign radio spots"}]'::jsonb,
  '[]'::jsonb, '["audio"]'::jsonb, '["US"]'::jsonb,
  now() - interval '1 day', now() + interval '365 days', now(), NULL, 'not_allowed',
  '[]'::jsonb, 1,
  CASE WHEN n % 10 = 0 THEN 'revoked' ELSE 'active' END,
  'bench-token', repeat('0', 64), now(),
  CASE WHEN n % 10 = 0 THEN now() ELSE NULL END
FROM generate_series(1, :count) AS n
"""


def seed(url: str, count: int) -> list[str]:
    """One organization, one subject and ``count`` grants; returns a sample of grant ids."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        org, subject = (
            "00000000-0000-7000-8000-000000000001",
            "00000000-0000-7000-8000-000000000002",
        )
        connection.execute(
            sa.text(
                "INSERT INTO organizations (id, name, created_at) VALUES (:id, 'Bench', now())"
            ),
            {"id": org},
        )
        connection.execute(
            sa.text(
                "INSERT INTO subjects (id, org_id, pseudonymous_id, display_name, status, "
                "jurisdictions, created_at) VALUES (:id, :org, 'sub_bench', 'Bench', 'living', "
                "'[]'::jsonb, now())"
            ),
            {"id": subject, "org": org},
        )
        connection.execute(sa.text(SEED_SQL), {"org": org, "subject": subject, "count": count})
        ids = (
            connection.execute(
                sa.text("SELECT id FROM consent_grants TABLESAMPLE SYSTEM (1) LIMIT 20000")
            )
            .scalars()
            .all()
        )
    # Measure a settled database, not the aftermath of a bulk load: without this, autovacuum's
    # pass over the new rows and the checkpoint flushing them run during the measurement.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM (ANALYZE) consent_grants")
        connection.exec_driver_sql("CHECKPOINT")
    engine.dispose()
    return list(ids)


def wrk_script(ids: list[str], directory: Path) -> Path:
    """A wrk Lua script that asks for a random grant's status on every request."""
    lines = ",\n".join(f'"{i}"' for i in random.sample(ids, min(len(ids), 5000)))
    script = directory / "status.lua"
    script.write_text(
        "local ids = {\n" + lines + "\n}\n"
        "math.randomseed(os.time())\n"
        "request = function()\n"
        "  return wrk.format('GET', '/v1/grants/' .. ids[math.random(#ids)] .. '/status')\n"
        "end\n"
    )
    return script


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--wrk-threads", type=int, default=2, help="load generator threads")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="no-op and status runs alternate this many times; medians are reported",
    )
    args = parser.parse_args()

    with postgres_schema("registry_bench_status") as url, tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        ids = seed(url, args.grants)
        print(f"seeded {args.grants:,} grants in {time.monotonic() - started:.1f} s")
        script = wrk_script(ids, Path(tmp))
        env = {"REGISTRY_DATABASE_URL": url, "REGISTRY_DATABASE_POOL_SIZE": str(args.threads)}
        with gunicorn(env, workers=args.workers, threads=args.threads) as server:
            noops, statuses = against_noop(
                server.base_url,
                script,
                rounds=args.rounds,
                connections=args.connections,
                seconds=args.seconds,
                threads=args.wrk_threads,
            )
    noop, status = median_result(noops), median_result(statuses)
    for number, (one_noop, one_status) in enumerate(zip(noops, statuses, strict=True), 1):
        print(
            f"round {number}: no-op {one_noop.rps:.0f} RPS (p99 {one_noop.p99_ms:.1f} ms), "
            f"status {one_status.rps:.0f} RPS (p99 {one_status.p99_ms:.1f} ms), "
            f"ratio {one_status.rps / one_noop.rps:.2f}"
        )
    ratio = status.rps / noop.rps
    print(
        f"gunicorn: {args.workers} gthread workers x {args.threads} threads; "
        f"wrk: {args.connections} connections, {args.seconds} s each, loopback; "
        f"median of {args.rounds} alternating rounds"
    )
    print(f"{'route':<28}{'RPS':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    print(
        f"{'GET /healthz (no-op)':<28}{noop.rps:>10.0f}{noop.p50_ms:>10.2f}{noop.p99_ms:>10.2f}{noop.non_2xx:>10}"
    )
    print(
        f"{'GET /v1/grants/{id}/status':<28}{status.rps:>10.0f}{status.p50_ms:>10.2f}{status.p99_ms:>10.2f}{status.non_2xx:>10}"
    )
    print(
        f"status / no-op RPS ratio: {ratio:.2f} (target >= 0.60); "
        f"status p99 {status.p99_ms:.1f} ms (target <= 25 ms)"
    )
    met = ratio >= 0.6 and status.p99_ms <= 25 and status.non_2xx == 0
    print("targets met" if met else "TARGETS NOT MET")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
