"""Benchmark: provenance index lookups at 10^4, 10^5 and 10^6 registered assets, on SQLite
and on PostgreSQL (a throwaway schema), p50 / p99 per kind of probe; and the CPU seconds that
watermarking and fingerprinting add to a signing, against c2pa signing of the same file.

Each asset is a picture with 13 codes (the whole, three centred crops, eight corner crops and
the centred square, as ``fingerprints`` gives them to a picture that is not square), so 10^6
assets are 1.3 x 10^7 image rows. Most are uniformly random 64-bit codes (generating
10^6 real pictures would take a day here); ``--real`` of them are real pictures
(tests/provenance/media.py) whose half-size JPEG q70 copies are the "hit" probes. Probes:

- hit: a transformed copy of a registered picture (found at rho <= 1, the early stop);
- miss: an unrelated picture (the whole radius: rho = 2 for the image threshold 8);
- video copy: six consecutive frames of a registered video (every ``VIDEO_EVERY``-th asset
  also holds ``FRAMES_PER_VIDEO`` random video-frame codes: 10^6 assets carry 1.2 x 10^7
  frame rows beside their 1.3 x 10^7 image rows), each frame 0-7 bits off, as a re-encode
  leaves them (benchmarks/fingerprint_quality.py: median 2-4, max 8);
- video miss: six unrelated frame codes, as a 6-second video's frames go;
- watermark: an exact 64-bit key.

Real codes are not uniform (common chunk values gather more rows), so candidates per lookup
are printed too: a skewed corpus costs in proportion to them.

Cost (``--cost``, or ``--only cost``): for a 1024x1024 JPEG and PNG, a 30-s WAV and a 10-s
640x360 MP4 (generated), ``jobs.mark_and_fingerprint`` (what signing runs first: the
watermark for images, then the fingerprints) and ``adapter.sign_file`` (c2pa, thumbnails off
as in production), interleaved, each in a c2pa helper process: CPU seconds as that process
counts them (getrusage, every thread), medians of the runs, beside wall time.

    .venv/bin/python benchmarks/fingerprint_lookup.py [--levels 10000,100000,1000000] [--queries 300] [--only sqlite|postgresql|cost] [--cost-runs 7]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._harness import postgres_schema
from registry import migrate
from registry.c2pa import budget
from registry.c2pa.adapter import sign_file
from registry.keys.c2pa_credential import create_dev_credential
from registry.provenance import index, jobs
from registry.provenance.fingerprints import (
    ALG,
    Fingerprint,
    picture_fingerprints,
    watermark_fingerprint,
)
from registry.provenance.softbinding import soft_binding_assertions, watermarked_action
from tests.provenance import media

ORG = "00000000-0000-7000-8000-0000000000be"
CODES_PER_ASSET = 13
VIDEO_EVERY = 10  # every tenth bulk asset is also a video ...
FRAMES_PER_VIDEO = 120  # ... of the most frames signing keeps (fingerprints.MAX_FRAMES)
ASSET_COLUMNS = (
    "id", "org_id", "sha256", "source_sha256", "manifest_id", "mime_type", "size", "source_size",
    "storage_key", "grant_ids", "grant_uses", "generator", "digital_source_type", "created_by",
    "created_at",
)  # fmt: skip
CODE_COLUMNS = ("asset_id", "family", "seq", "code", "c0", "c1", "c2", "start_ms")


def asset_id(n: int) -> str:
    return f"00000000-0000-7000-8000-{n:012d}"


def asset_rows(start: int, stop: int) -> Iterator[tuple[object, ...]]:
    now = datetime.now(UTC)
    for n in range(start, stop):
        aid = asset_id(n)
        yield (aid, ORG, "0" * 64, "1" * 64, f"urn:c2pa:{aid}", "image/jpeg", 1, 1,
               f"media/{aid}.jpg", "[]", "[]", '{"name": "bench"}', "trainedAlgorithmicMedia",
               "bench", now)  # fmt: skip


def code_rows(start: int, stop: int, rng: random.Random) -> Iterator[tuple[object, ...]]:
    for n in range(start, stop):
        for seq in range(CODES_PER_ASSET):
            value = rng.getrandbits(64)
            yield _code_row(asset_id(n), "image", seq, value)
        if n % VIDEO_EVERY == 0:
            for seq, value in enumerate(video_frames(n)):
                yield _code_row(asset_id(n), "video-frame", seq, value)


def video_frames(n: int) -> list[int]:
    """The frame codes of bulk asset ``n`` (a video when n % VIDEO_EVERY == 0): reproducible,
    so that probes can be made of them."""
    frames = random.Random(n)
    return [frames.getrandbits(64) for _ in range(FRAMES_PER_VIDEO)]


def video_copy(n: int, rng: random.Random) -> list[Fingerprint]:
    """Six consecutive frames of video ``n``, each 0-7 bits off."""
    first = rng.randrange(FRAMES_PER_VIDEO - 6)
    probe = []
    for value in video_frames(n)[first : first + 6]:
        for bit in rng.sample(range(64), rng.randrange(8)):
            value ^= 1 << bit
        probe.append(Fingerprint(ALG, "video-frame", value.to_bytes(8, "big")))
    return probe


def _code_row(aid: str, family: str, seq: int, value: int) -> tuple[object, ...]:
    signed = value - (1 << 64) if value >= 1 << 63 else value
    return (aid, family, seq, signed, *index.chunks_of(value), None)


# --- loading --------------------------------------------------------------------------------


INDEXES = [f"ix_provenance_codes_c{i}" for i in range(index.CHUNKS)]


def load(engine: sa.Engine, start: int, stop: int, rng: random.Random) -> None:
    """Bulk load (throwaway database: no journal on SQLite; indexes rebuilt after the load,
    as a bulk import would do)."""
    with engine.begin() as connection:
        for name in INDEXES:
            connection.exec_driver_sql(f"DROP INDEX {name}")
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            _copy(raw, "media_assets", ASSET_COLUMNS, asset_rows(start, stop))
            _copy(raw, "provenance_codes", CODE_COLUMNS, code_rows(start, stop, rng))
        else:
            cursor = raw.cursor()
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-500000")
            for table, columns, rows in (
                ("media_assets", ASSET_COLUMNS, asset_rows(start, stop)),
                ("provenance_codes", CODE_COLUMNS, code_rows(start, stop, rng)),
            ):
                marks = ", ".join("?" * len(columns))
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
                if table == "media_assets":
                    rows = ((*r[:-1], r[-1].isoformat(" ")) for r in rows)  # type: ignore[union-attr]
                cursor.executemany(sql, rows)
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as connection:
        for i, name in enumerate(INDEXES):
            connection.exec_driver_sql(f"CREATE INDEX {name} ON provenance_codes (family, c{i})")


def _copy(
    raw: object, table: str, columns: tuple[str, ...], rows: Iterator[tuple[object, ...]]
) -> None:
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):  # type: ignore[attr-defined]
        for row in rows:
            copy.write_row(row)


def add_real(engine: sa.Engine, pictures: dict[str, list[Fingerprint]], first: int) -> None:
    with engine.begin() as connection:
        connection.execute(sa.insert(sa.table("media_assets", *map(sa.column, ASSET_COLUMNS))), [
            dict(zip(ASSET_COLUMNS, row, strict=True)) for row in asset_rows(first, first + len(pictures))
        ])  # fmt: skip
        for aid, prints in pictures.items():
            index.add(connection, aid, prints)


# --- measuring ------------------------------------------------------------------------------


def measure(
    connection: Connection, probes: list[list[Fingerprint]]
) -> tuple[float, float, float, float, float]:
    """p50 and p99 latency in ms, p50 of this process's CPU time in ms (on SQLite all of the
    work; on PostgreSQL the client's part), mean rows fetched, share of probes matched."""
    times: list[float] = []
    cpu: list[float] = []
    found = 0
    candidates: list[int] = []
    original = index._query

    def counting(*args: object, **kwargs: object) -> object:
        rows = original(*args, **kwargs)  # type: ignore[arg-type]
        candidates[-1] += len(rows)  # type: ignore[arg-type]
        return rows

    index._query = counting  # type: ignore[assignment]
    try:
        for probe in probes:
            candidates.append(0)
            start, start_cpu = time.perf_counter(), time.process_time()
            matches = index.lookup(connection, probe)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            found += bool(matches)
    finally:
        index._query = original  # type: ignore[assignment]
    times.sort()
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
    return (
        statistics.median(times),
        p99,
        statistics.median(cpu),
        statistics.fmean(candidates),
        found / len(probes),
    )


@contextmanager
def database(kind: str) -> Iterator[sa.Engine]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="fingerprint-lookup-") as tmp:
            url = f"sqlite:///{tmp}/registry.db"
            migrate.upgrade(url)
            engine = sa.create_engine(url)
            yield engine
            engine.dispose()
    else:
        with postgres_schema("fingerprint_lookup_bench") as url:
            engine = sa.create_engine(url)
            yield engine
            engine.dispose()


def run(kind: str, levels: list[int], queries: int, real: int) -> list[dict[str, object]]:
    rng = random.Random(11)
    print(
        f"\n== {kind}: building {len(levels)} levels ({CODES_PER_ASSET} codes per asset)",
        flush=True,
    )
    pictures = {asset_id(10**9 + i): media.scene(i) for i in range(real)}
    real_prints = {aid: picture_fingerprints(p) for aid, p in pictures.items()}
    hits = [picture_fingerprints(media.half_jpeg70(p)) for p in pictures.values()]
    misses = [
        picture_fingerprints(media.half_jpeg70(media.scene(777_000 + i))) for i in range(real)
    ]
    video_misses = [
        [Fingerprint(ALG, "video-frame", rng.getrandbits(64).to_bytes(8, "big")) for _ in range(6)]
        for _ in range(queries)
    ]
    keys = [[watermark_fingerprint(rng.getrandbits(64).to_bytes(8, "big"))] for _ in range(queries)]
    results = []
    with database(kind) as engine:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO organizations (id, name, created_at) VALUES (:id, 'Bench', :at)"
                ),
                {"id": ORG, "at": datetime.now(UTC)},
            )
        add_real(engine, real_prints, 10**9)
        loaded = 0
        for level in levels:
            start = time.perf_counter()
            load(engine, loaded, level, rng)
            loaded = level
            with engine.begin() as connection:
                if kind == "postgresql":
                    connection.exec_driver_sql("ANALYZE provenance_codes")
                else:
                    connection.exec_driver_sql("ANALYZE")
            built = time.perf_counter() - start
            with engine.connect() as connection:
                video_copies = [
                    video_copy(VIDEO_EVERY * rng.randrange(level // VIDEO_EVERY), rng)
                    for _ in range(queries)
                ]
                for name, probes in (
                    ("hit (half-size JPEG q70)", _cycle(hits, queries)),
                    ("miss (unrelated picture)", _cycle(misses, queries)),
                    ("video copy (6 frames)", video_copies),
                    ("video miss (6 frames)", video_misses),
                    ("watermark key", keys),
                ):
                    measure(connection, probes[:20])  # warm the cache
                    p50, p99, cpu, rows, share = measure(connection, probes)
                    results.append(
                        {
                            "db": kind,
                            "assets": level,
                            "probe": name,
                            "p50_ms": round(p50, 2),
                            "p99_ms": round(p99, 2),
                            "cpu_p50_ms": round(cpu, 2),
                            "rows": round(rows, 1),
                            "matched": share,
                        }
                    )
                    print(
                        f"  {level:>9,} assets ({level * CODES_PER_ASSET + level // VIDEO_EVERY * FRAMES_PER_VIDEO:>10,} codes, load {built:5.0f} s)  "
                        f"{name:26s} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  cpu p50 {cpu:6.2f} ms  "
                        f"rows {rows:7.1f}  matched {share:5.1%}",
                        flush=True,
                    )
    return results


def _cycle(items: list[list[Fingerprint]], count: int) -> list[list[Fingerprint]]:
    return [items[i % len(items)] for i in range(count)]


# --- cost per signed asset -------------------------------------------------------------------

COST_TARGETS = {"image": 1.0, "audio": 0.5, "video": 0.5}  # the ceilings
CREATED = {
    "action": "c2pa.created",
    "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
}


def manifest(prov: jobs.Provenance) -> dict[str, object]:
    """A manifest with the soft bindings and actions signing writes (c2pa hashes the file
    and signs the claim: the manifest's other assertions cost next to nothing)."""
    actions = [CREATED, *([watermarked_action()] if prov.watermark_key else [])]
    return {
        "claim_generator_info": [{"name": "bench", "version": "1"}],
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": actions}},
            *soft_binding_assertions(prov.fingerprints, watermark_key=prov.watermark_key),
        ],
    }


def cost_sources(directory: Path) -> list[tuple[str, str, str, Path]]:
    """(label, kind, MIME type, file) of each media type the ratio is measured on."""
    scene = media.scene(5, (1024, 1024))
    return [
        ("JPEG 1024x1024", "image", "image/jpeg", media.save(scene, directory / "c.jpg", quality=92)),
        ("PNG 1024x1024", "image", "image/png", media.save(scene, directory / "c.png")),
        ("WAV 30 s 44.1 kHz", "audio", "audio/wav",
         media.write_audio(directory / "c.wav", media.synth_audio(5, 30))),
        ("MP4 10 s 640x360", "video", "video/mp4",
         media.make_video(directory / "c.mp4", 5, seconds=10)),
    ]  # fmt: skip


def cost(runs: int) -> list[dict[str, object]]:
    print(
        f"\n== CPU per signed asset: provenance (watermark + fingerprints) / c2pa signing, {runs} runs"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="fingerprint-cost-") as tmp:
        directory = Path(tmp)
        credential = create_dev_credential(directory / "keys").credential
        budget.configure(budget.Budget(workers=1))
        key = b"\x01\x23\x45\x67\x89\xab\xcd\xef"
        for label, kind, mime_type, source in cost_sources(directory):
            jobs.probe(path=source, kind=kind)  # the helper loads its libraries once
            samples: dict[str, list[float]] = {
                "prov": [],
                "c2pa": [],
                "prov_wall": [],
                "c2pa_wall": [],
            }
            for _ in range(runs):  # interleaved
                started = time.perf_counter()
                prov = jobs.mark_and_fingerprint(
                    source=source,
                    dest=directory / f"m{source.suffix}",
                    kind=kind,
                    watermark_key=key,
                )  # type: ignore[arg-type]
                samples["prov_wall"].append(time.perf_counter() - started)
                samples["prov"].append(prov.cpu_seconds)
                started = time.perf_counter()
                with budget.metered() as meter:
                    sign_file(
                        source=prov.path, dest=directory / f"s{source.suffix}", mime_type=mime_type,
                        manifest=manifest(prov),
                        credential=credential,
                    )  # fmt: skip
                samples["c2pa_wall"].append(time.perf_counter() - started)
                samples["c2pa"].append(meter.seconds)
            med = {name: statistics.median(values) for name, values in samples.items()}
            ratio = med["prov"] / med["c2pa"] if med["c2pa"] else float("inf")
            marked = "watermark + " if prov.watermark_key else ""
            print(
                f"  {label:18s} {marked}fingerprints cpu {1000 * med['prov']:7.1f} ms "
                f"(wall {1000 * med['prov_wall']:7.1f})  c2pa sign cpu {1000 * med['c2pa']:7.1f} ms "
                f"(wall {1000 * med['c2pa_wall']:7.1f})  ratio {ratio:5.2f}x "
                f"(target <= {COST_TARGETS[kind]}x)",
                flush=True,
            )
            results.append({"media": label, "provenance_cpu_ms": round(1000 * med["prov"], 1),
                            "c2pa_cpu_ms": round(1000 * med["c2pa"], 1), "ratio": round(ratio, 2)})  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--real", type=int, default=40)
    parser.add_argument("--only", choices=["sqlite", "postgresql", "cost"])
    parser.add_argument("--cost-runs", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    levels = [int(v) for v in args.levels.split(",")]
    results: list[dict[str, object]] = []
    if args.only in (None, "cost"):
        results += cost(args.cost_runs)
    for kind in ("sqlite", "postgresql"):
        if args.only in (None, kind):
            results += run(kind, levels, args.queries, args.real)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
