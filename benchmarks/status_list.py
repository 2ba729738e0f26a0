"""Benchmark: status lists of 10^6 consent tokens (issue 12), on PostgreSQL under gunicorn.

Seeds 10^6 grants (10 % revoked, as benchmarks/grant_status.py does) with one entry each at
random indices of a list of 2^21 entries (the registry fills a list to half), then prints:

1. the list: raw and compressed size (the served token's ``lst``), the first GET (built from
   the database, compressed, signed) and the GET after one change (brought up to date from the
   changed entries); the compressed size for other shares of invalid entries (codec only);
2. offline checks on one core: consent-token verification (ES256, the served JWKS) plus the
   status-list lookup (``registry.statuslist.offline.check_consent_token``), against the token
   verification alone, per CPU second of this process (getrusage), medians of interleaved
   rounds (target >= 10,000 checks/s);
3. ``GET /v1/status-lists/1`` with ``If-None-Match`` (304) against the no-op ``/healthz`` with
   wrk, alternating rounds, medians (target >= 0.8 x); the full 200 once for reference.

    .venv/bin/python benchmarks/status_list.py [--grants 1000000] [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import jwt
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._harness import (
    against_noop,
    gunicorn,
    median_result,
    postgres_schema,
    run_wrk,
    self_usage,
)
from benchmarks.grant_status import seed
from registry.consent.tokens import CONSENT_TOKEN_TYPE, token_claims
from registry.keys.keyring import KeyRing
from registry.statuslist.codec import INVALID, SUSPENDED, byte_length, encode_lst, set_status
from registry.statuslist.offline import (
    PublicKeys,
    check_consent_token,
    read_status_list,
)

LIST_SIZE = 1 << 21  # a list holds grants up to half its size

ENTRIES_SQL = """
INSERT INTO status_lists (id, size, allocated, version, created_at)
VALUES (1, :size, (SELECT count(*) FROM consent_grants), 1, now());
INSERT INTO status_list_entries (list_id, idx, grant_id, status, expires_at, changed_version)
SELECT 1, s.idx, g.id, CASE WHEN g.status = 'revoked' THEN 1 ELSE 0 END, g.valid_until, 1
FROM (SELECT id, status, valid_until, row_number() OVER () AS rn FROM consent_grants) AS g
JOIN (SELECT idx, row_number() OVER () AS rn
      FROM (SELECT idx FROM generate_series(0, :size - 1) AS idx ORDER BY random()) AS r) AS s
  USING (rn);
"""


def seed_entries(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in filter(str.strip, ENTRIES_SQL.split(";")):
            connection.execute(sa.text(statement), {"size": LIST_SIZE})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM (ANALYZE) status_list_entries")
        connection.exec_driver_sql("CHECKPOINT")
    engine.dispose()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[float, str, dict[str, str]]:
    started = time.perf_counter()
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - loopback
        body = response.read().decode()
        return time.perf_counter() - started, body, dict(response.headers)


def change_one_entry(url: str) -> None:
    """What ``status_entries.mark`` does for one revocation: flip an entry, bump the version."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        version = connection.execute(
            sa.text("UPDATE status_lists SET version = version + 1 WHERE id = 1 RETURNING version")
        ).scalar_one()
        connection.execute(
            sa.text(
                "UPDATE status_list_entries SET status = 1, changed_version = :v WHERE list_id = 1 "
                "AND idx = (SELECT min(idx) FROM status_list_entries WHERE status = 0)"
            ),
            {"v": version},
        )
    engine.dispose()


def other_shares(grants: int) -> list[tuple[str, int]]:
    """Compressed lst bytes for other mixes of statuses over the same random indices."""
    rng = random.Random(12)
    indices = rng.sample(range(LIST_SIZE), grants)
    rows = []
    for label, invalid, suspended in (
        ("all valid", 0.0, 0.0),
        ("1 % invalid, 0.1 % suspended", 0.01, 0.001),
        ("10 % invalid", 0.10, 0.0),
        ("50 % invalid (expired)", 0.50, 0.0),
    ):
        array = bytearray(byte_length(LIST_SIZE, 2))
        for idx in indices:
            draw = rng.random()
            if draw < invalid:
                set_status(array, idx, INVALID, 2)
            elif draw < invalid + suspended:
                set_status(array, idx, SUSPENDED, 2)
        rows.append((label, len(encode_lst(array))))
    return rows


def consent_tokens(
    url: str, keys_dir: Path, base_url: str, count: int, *, with_status: bool = True
) -> list[str]:
    """Consent tokens of seeded grants, naming their entries (or, as tokens issued before
    status lists, not), signed with the server's key."""
    from sqlalchemy.orm import Session

    from registry.consent.models import ConsentGrant
    from registry.statuslist.models import StatusListEntry

    key = KeyRing(keys_dir=keys_dir).active
    engine = sa.create_engine(url)
    tokens = []
    with Session(engine) as session:
        rows = session.execute(
            sa.select(ConsentGrant, StatusListEntry.idx)
            .join(StatusListEntry, StatusListEntry.grant_id == ConsentGrant.id)  # type: ignore[arg-type]
            .limit(count)
        ).all()
        for grant, idx in rows:
            reference = {"idx": idx, "uri": f"{base_url}/v1/status-lists/1"}
            claims = token_claims(
                grant,
                issuer=base_url,
                pseudonym="sub_bench",
                status_list=reference if with_status else None,
            )
            tokens.append(
                jwt.encode(
                    claims,
                    key.private_key,
                    algorithm="ES256",
                    headers={"kid": key.kid, "typ": CONSENT_TOKEN_TYPE},
                )
            )
    engine.dispose()
    return tokens


def per_cpu_second(work, tokens: list[str], seconds: float) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """(checks per CPU second, CPU seconds, wall seconds) of ``work`` over ``tokens`` in a loop."""
    done = 0
    before, started = self_usage(), time.perf_counter()
    while time.perf_counter() - started < seconds:
        for token in tokens:
            work(token)
        done += len(tokens)
    wall = time.perf_counter() - started
    cpu = (self_usage() - before).cpu_s
    return done / cpu, cpu, wall


def etag_script(directory: Path, etag: str) -> Path:
    script = directory / "if_none_match.lua"
    script.write_text(
        f"wrk.path = '/v1/status-lists/1'\nwrk.headers['If-None-Match'] = {json.dumps(etag)}\n"
    )
    return script


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk rounds")
    parser.add_argument("--offline-rounds", type=int, default=5)
    parser.add_argument("--offline-seconds", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    with postgres_schema("registry_bench_statuslist") as url, tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        seed(url, args.grants)
        seed_entries(url)
        print(f"seeded {args.grants:,} grants and entries in {time.monotonic() - started:.1f} s")
        env = {"REGISTRY_DATABASE_URL": url, "REGISTRY_DATABASE_POOL_SIZE": str(args.threads)}
        with gunicorn(env, workers=args.workers, threads=args.threads) as server:
            list_url = f"{server.base_url}/v1/status-lists/1"
            # 1. The list itself. Each worker builds its own copy on its first request.
            builds = [get(list_url)[0] for _ in range(args.workers * 2)]
            token = get(list_url)[1]
            public = PublicKeys(json.loads(get(f"{server.base_url}/.well-known/jwks.json")[1]))
            claims = jwt.decode(token, options={"verify_signature": False})
            status_list = read_status_list(token, public, uri=claims["sub"])
            change_one_entry(url)
            after_change = [get(list_url)[0] for _ in range(args.workers * 2)]
            # 2. Offline checks against the served list, with tokens naming its entries.
            issuer = claims["sub"].split("/v1/")[0]
            tokens = consent_tokens(url, server.data_dir / "keys", issuer, 2000)
            bare = consent_tokens(url, server.data_dir / "keys", issuer, 2000, with_status=False)
            lists = {status_list.uri: status_list}
            assert check_consent_token(tokens[0], public, lists).status in (0, 1)

            def full(token: str) -> object:
                return check_consent_token(token, public, lists)

            if hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
            fulls, sigs = [], []
            for _ in range(args.offline_rounds):
                fulls.append(per_cpu_second(full, tokens, args.offline_seconds))
                sigs.append(per_cpu_second(full, bare, args.offline_seconds))
            # 3. HTTP: 304 against the no-op route.
            etag = get(list_url)[2]["ETag"]  # the list as it is now (after the change)
            try:
                get(list_url, {"If-None-Match": etag})
                raise AssertionError("a matching If-None-Match was not answered 304")
            except urllib.error.HTTPError as answer:  # urllib raises on a 304
                assert answer.code == 304, answer.code
            script = etag_script(Path(tmp), etag)
            noops, conditionals = against_noop(
                server.base_url,
                script,
                rounds=args.rounds,
                connections=args.connections,
                seconds=args.seconds,
            )
            whole = run_wrk(list_url, connections=8, seconds=args.seconds)

    lst = claims["status_list"]["lst"]
    print(f"\n1. list of {args.grants:,} grants in {LIST_SIZE:,} entries (2 bits; 10 % revoked)")
    print(
        f"   raw array {byte_length(LIST_SIZE, 2):,} B; lst (zlib 9 + base64url) {len(lst):,} B "
        f"(deflated {len(lst) * 3 // 4:,} B); whole token {len(token):,} B"
    )
    print(
        f"   first GET per worker (build from the database, compress, sign): "
        f"median {statistics.median(builds) * 1000:.0f} ms of {len(builds)} "
        f"({', '.join(f'{b * 1000:.0f}' for b in builds)} ms)"
    )
    print(
        f"   GET after one change (changed entries only, compress, sign): median "
        f"{statistics.median(after_change) * 1000:.0f} ms ({', '.join(f'{b * 1000:.0f}' for b in after_change)} ms)"
    )
    for label, size in other_shares(args.grants):
        print(f"   lst bytes, same indices, {label:<30} {size:>9,}")

    rate = statistics.median(r[0] for r in fulls)
    sig_rate = statistics.median(r[0] for r in sigs)
    print(
        f"\n2. offline, one core, {len(tokens):,} distinct tokens, median of "
        f"{args.offline_rounds} interleaved rounds of ~{args.offline_seconds:g} s"
    )
    print(
        f"   token + status-list check: {rate:,.0f} /CPU s "
        f"(CPU {statistics.median(r[1] for r in fulls):.2f} s, wall {statistics.median(r[2] for r in fulls):.2f} s a round); "
        f"{1e6 / rate:.1f} us each"
    )
    print(
        f"   the same tokens without a status claim (verification alone): {sig_rate:,.0f} /CPU s "
        f"({1e6 / sig_rate:.1f} us); the status-list lookup costs {1e6 / rate - 1e6 / sig_rate:.1f} us"
    )

    noop, conditional = median_result(noops), median_result(conditionals)
    print(
        f"\n3. HTTP, gunicorn {args.workers} x {args.threads}, wrk {args.connections} connections, "
        f"{args.seconds} s runs, median of {args.rounds} alternating rounds"
    )
    for number, (one, two) in enumerate(zip(noops, conditionals, strict=True), 1):
        print(
            f"   round {number}: no-op {one.rps:.0f} RPS, 304 {two.rps:.0f} RPS, ratio {two.rps / one.rps:.2f}"
        )
    print(
        f"   GET /healthz            {noop.rps:>8.0f} RPS  p50 {noop.p50_ms:.2f} ms  p99 {noop.p99_ms:.2f} ms"
    )
    print(
        f"   GET list, If-None-Match {conditional.rps:>8.0f} RPS  p50 {conditional.p50_ms:.2f} ms  "
        f"p99 {conditional.p99_ms:.2f} ms  (errors {conditional.non_2xx})"
    )
    print(
        f"   GET list, full 200      {whole.rps:>8.0f} RPS at 8 connections ({len(token):,} B each)"
    )
    ratio = conditional.rps / noop.rps
    print(f"\noffline {rate:,.0f}/s (target >= 10,000); 304 / no-op {ratio:.2f} (target >= 0.8)")
    met = rate >= 10_000 and ratio >= 0.8 and conditional.non_2xx == 0
    print("targets met" if met else "TARGETS NOT MET")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
