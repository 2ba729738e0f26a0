"""Which registered assets is this file close to: multi-index hashing in plain SQL.

Every code is 64 bits, cut into three chunks of 22, 21 and 21 bits, each indexed with its
family (``models``). Two codes at Hamming distance d have, by the pigeonhole principle, a
chunk that differs in at most floor(d / 3) bits. So a lookup up to distance r asks, for each
chunk position, for the stored chunks within floor(r / 3) bits of the probe's chunk (1
value for r < 3, 23 for r < 6, ~254 for r < 9), one indexed query per position joined by
``UNION ALL`` (a single round trip), and ranks the rows found by their exact distance in
Python (Norouzi, Punjani & Fleet, "Fast exact search in Hamming space with multi-index
hashing", 2014). The answer is exact: every stored code within r is found. Video frames are
the exception: a video is found through a frame within one bit per chunk of a probe frame's
(``FRAME_SEED_RADIUS``), then judged on all its frames.

Why three chunks: at 5 x 10^6 codes (10^6 pictures) a 21-bit chunk value matches ~2 random
rows, a 16-bit one ~76; for the image threshold 8, four 16-bit chunks (rho = 2) would fetch
~42 000 candidate rows per unmatched lookup, three 21-bit chunks ~1 400.

The same SQL runs on SQLite and PostgreSQL (the chunk values go as one parameter per
position: an ``integer[]`` on PostgreSQL, a JSON array read by ``json_each`` on SQLite); no
extension, no in-process index to rebuild. Thresholds (``MAX_DISTANCE``) come from
``benchmarks/fingerprint_quality.py``; latencies at 10^4..10^6 assets from
``benchmarks/fingerprint_lookup.py``.

``add`` and ``remove`` write through the caller's session or connection and never commit.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from registry.provenance.fingerprints import ALG, BITS, WATERMARK_ALG, Fingerprint
from registry.provenance.models import ProvenanceCode

CHUNK_WIDTHS = (22, 21, 21)  # bits of c0, c1, c2, from the code's high bits down
CHUNKS = len(CHUNK_WIDTHS)

# Largest Hamming distance (of 64 bits) at which a code still counts as the same content,
# per family. Chosen from measured precision and recall (benchmarks/fingerprint_quality.py,
# see docs in the report of issue #11); a watermark key is exact (its check bytes held).
MAX_DISTANCE: dict[str, int] = {
    "image": 8,  # of 64 bits
    "audio": 22,  # of 256 bits
    "video-frame": 8,  # of 64 bits (an image code of a frame)
    "watermark": 0,  # exact: its check bytes held
}
# Codes longer than 64 bits (audio, 256) are found by their first 64 bits within this radius,
# then compared whole against MAX_DISTANCE.
CANDIDATE_RADIUS: dict[str, int] = {"audio": 8}
# A video matches when at least this share of the probe's frame codes match its frames.
MIN_FRAME_SHARE = 0.5
# A video is found through its frames that share a chunk within one bit with a probe frame's
# (every frame within 5 bits, most within 8: ``is_seed``), 23 values per chunk instead of 254
# at reach 2, which made a 6-frame probe cost ~11x an image's; each asset so found is then
# compared whole: all its frames, at MAX_DISTANCE. A copy is missed only when none of its
# matching frames is a seed (recall measured by benchmarks/fingerprint_quality.py).
FRAME_SEED_RADIUS = 5

_TABLE = ProvenanceCode.metadata.tables["provenance_codes"]
_SELECT = (
    "SELECT asset_id, seq, code, tail, start_ms FROM provenance_codes WHERE family = :family AND "
)
_ANY_PG = (
    "c0 = ANY(CAST(:v0 AS integer[]))",
    "c1 = ANY(CAST(:v1 AS integer[]))",
    "c2 = ANY(CAST(:v2 AS integer[]))",
)
_IN_SQLITE = (
    "c0 IN (SELECT value FROM json_each(:v0))",
    "c1 IN (SELECT value FROM json_each(:v1))",
    "c2 IN (SELECT value FROM json_each(:v2))",
)


@dataclass(frozen=True)
class Match:
    """A registered asset close to the probe.

    ``similarity`` is 1 - distance/bits for a single code; for video frames it is the share of
    the probe's frames that matched one of the asset's. ``alg`` is the soft-binding
    algorithm, ``unit`` the family, ``distance`` the best Hamming distance found and
    ``at_ms`` where in the asset the best code lies (video frames), if anywhere.
    """

    asset_id: str
    similarity: float
    alg: str
    unit: str
    distance: int
    at_ms: int | None = None


def add(session: Session | Connection, asset_id: str, fingerprints: Iterable[Fingerprint]) -> int:
    """Index the fingerprints (and watermark key) of a registered asset; rows added."""
    seq: dict[str, int] = defaultdict(int)
    rows: list[dict[str, Any]] = []
    for fp in fingerprints:
        prefix = _prefix(fp)
        rows.append(
            {
                "asset_id": asset_id,
                "family": fp.unit,
                "seq": seq[fp.unit],
                "code": _signed(prefix),
                **{f"c{i}": chunk for i, chunk in enumerate(chunks_of(prefix))},
                "tail": fp.value[BITS // 8 :] or None,
                "start_ms": fp.scope.start_ms,
            }
        )
        seq[fp.unit] += 1
    if rows:
        session.execute(sa.insert(_TABLE), rows)
    return len(rows)


def remove(session: Session | Connection, asset_id: str) -> int:
    """Forget every code of an asset (before the asset row itself is deleted)."""
    result = session.execute(sa.delete(_TABLE).where(_TABLE.c.asset_id == asset_id))
    return int(getattr(result, "rowcount", 0) or 0)


def lookup(
    session: Session | Connection,
    probe: Fingerprint | Iterable[Fingerprint],
    *,
    max_distance: dict[str, int] | None = None,
    limit: int = 10,
) -> list[Match]:
    """Registered assets close to the probe's fingerprints, best first (at most ``limit``).

    Give all the fingerprints of the file (``fingerprints.fingerprint``) and, for an image,
    the watermark read from it (``fingerprints.watermark_fingerprint(watermark.extract())``);
    variants (crops, shifts) are skipped. Each family is looked up with its own threshold;
    an asset may appear once per family.
    """
    probes = [probe] if isinstance(probe, Fingerprint) else list(probe)
    # A probe's variants are not looked up: the registered variants already cover crops and
    # shifts, and variant-to-variant comparisons would only add chances of a false match.
    probes = [fp for fp in probes if fp.variant is None]
    limits = {**MAX_DISTANCE, **(max_distance or {})}
    by_family: dict[str, list[Fingerprint]] = defaultdict(list)
    for fp in probes:
        _prefix(fp)  # refuses a code shorter than 64 bits
        by_family[fp.unit].append(fp)
    matches: list[Match] = []
    for family, members in by_family.items():
        values = sorted({fp.value for fp in members})
        radius = limits.get(family, 0)
        if family == "video-frame":
            rows = _frames_of_seeded(session, values, radius)
        else:
            candidate_radius = min(radius, CANDIDATE_RADIUS.get(family, radius))
            rows = _candidates(session, family, values, candidate_radius)
        matches.extend(_rank(family, values, rows, radius))
    matches.sort(key=lambda m: (-m.similarity, m.distance, m.asset_id))
    return matches[:limit]


def best_per_asset(matches: Iterable[Match]) -> list[Match]:
    """The best match of each asset, best first (``lookup`` may find an asset once per
    family: by its picture and by a frame, say)."""
    best: dict[str, Match] = {}
    for match in sorted(matches, key=lambda m: (-m.similarity, m.distance, m.asset_id)):
        best.setdefault(match.asset_id, match)
    return list(best.values())


Row = tuple[str, int, int, int, int | None]  # asset_id, seq, whole code, its bits, start_ms


def _candidates(
    session: Session | Connection, family: str, probes: Sequence[bytes], radius: int
) -> list[Row]:
    """Rows whose first 64 bits share a chunk within floor(radius / 3) bits with a probe's:
    every code within ``radius`` of a probe (on its first 64 bits) is among them."""
    reach = radius // CHUNKS
    wanted: list[set[int]] = [set() for _ in range(CHUNKS)]
    for probe in probes:
        for position, chunk in enumerate(chunks_of(_prefix_of(probe))):
            width = CHUNK_WIDTHS[position]
            wanted[position].update(chunk ^ mask for mask in _masks(width, reach))
    found: dict[tuple[str, int], Row] = {}
    for asset_id, seq, code, tail, start_ms in _query(session, family, wanted):
        whole, bits = _unsigned(code), BITS
        if tail:
            whole = (whole << (8 * len(tail))) | int.from_bytes(tail, "big")
            bits += 8 * len(tail)
        found[(asset_id, seq)] = (asset_id, seq, whole, bits, start_ms)
    return list(found.values())


def is_seed(probe: int, stored: int, radius: int) -> bool:
    """Whether a stored frame code finds its video for a probe frame: within ``radius`` and
    sharing a chunk within ``FRAME_SEED_RADIUS // CHUNKS`` bits (what the seed query asks)."""
    reach = FRAME_SEED_RADIUS // CHUNKS
    return (probe ^ stored).bit_count() <= radius and any(
        (a ^ b).bit_count() <= reach
        for a, b in zip(chunks_of(probe), chunks_of(stored), strict=True)
    )


def _frames_of_seeded(
    session: Session | Connection, probes: Sequence[bytes], radius: int
) -> list[Row]:
    """Every frame of the videos that have a seed frame (``is_seed``) for one of the probes."""
    seeds = _candidates(session, "video-frame", probes, FRAME_SEED_RADIUS)
    codes = [_prefix_of(p) for p in probes]
    found = sorted({row[0] for row in seeds if any(is_seed(c, row[2], radius) for c in codes)})
    if not found:
        return []
    statement = sa.select(_TABLE.c.asset_id, _TABLE.c.seq, _TABLE.c.code, _TABLE.c.start_ms).where(
        _TABLE.c.family == "video-frame", _TABLE.c.asset_id.in_(found)
    )
    return [
        (asset_id, seq, _unsigned(code), BITS, start_ms)
        for asset_id, seq, code, start_ms in session.execute(statement)
    ]


@functools.cache
def _statement(postgresql: bool, positions: tuple[int, ...]) -> sa.TextClause:
    """One SELECT per chunk position, joined by UNION ALL. Only constants are put into the
    SQL; the chunk values are bound parameters."""
    matches = _ANY_PG if postgresql else _IN_SQLITE
    return sa.text(" UNION ALL ".join(_SELECT + matches[position] for position in positions))


@functools.cache
def _masks(width: int, reach: int) -> tuple[int, ...]:
    """Every ``width``-bit mask of at most ``reach`` set bits (XOR them onto a chunk)."""
    return tuple(
        sum(1 << bit for bit in flips)
        for rho in range(reach + 1)
        for flips in combinations(range(width), rho)
    )


def _query(
    session: Session | Connection, family: str, wanted: list[set[int]]
) -> list[tuple[str, int, int, bytes | None, int | None]]:
    """The rows of ``family`` whose chunk at some position is one of the wanted values."""
    dialect = (
        session.get_bind().dialect.name if isinstance(session, Session) else session.dialect.name
    )
    params: dict[str, Any] = {"family": family}
    positions = tuple(position for position, values in enumerate(wanted) if values)
    if not positions:
        return []
    for position in positions:
        values = sorted(wanted[position])
        params[f"v{position}"] = values if dialect == "postgresql" else json.dumps(values)
    statement = _statement(dialect == "postgresql", positions)
    rows = session.execute(statement, params)
    return [(row[0], row[1], row[2], row[3], row[4]) for row in rows]


def _rank(family: str, probes: Sequence[bytes], rows: list[Row], radius: int) -> list[Match]:
    alg = WATERMARK_ALG if family == "watermark" else ALG
    # Per asset: for each probe, the closest of the asset's codes (distance, start_ms).
    best: dict[str, dict[int, tuple[int, int | None]]] = defaultdict(dict)
    values = [(int.from_bytes(p, "big"), len(p) * 8) for p in probes]
    bits = values[0][1] if values else BITS
    for asset_id, _seq, stored, stored_bits, start_ms in rows:
        for index, (probe, probe_bits) in enumerate(values):
            if stored_bits != probe_bits:
                continue
            d = (probe ^ stored).bit_count()
            if d <= radius and (index not in best[asset_id] or d < best[asset_id][index][0]):
                best[asset_id][index] = (d, start_ms)
    matches = []
    for asset_id, per_probe in best.items():
        if not per_probe:
            continue
        distance, at_ms = min(per_probe.values(), key=lambda v: v[0])
        if family == "video-frame":
            share = len(per_probe) / len(probes)
            if share < MIN_FRAME_SHARE:
                continue
            similarity = share
        else:
            similarity = 1 - distance / bits
        matches.append(Match(asset_id, round(similarity, 4), alg, family, distance, at_ms))
    return matches


def _prefix(fp: Fingerprint) -> int:
    """The first 64 bits of a code (the indexed part); codes are 64 bits or longer."""
    if len(fp.value) * 8 < BITS or len(fp.value) % 8:
        raise ValueError(f"the index holds codes of 64 bits or more, not {len(fp.value) * 8}")
    return _prefix_of(fp.value)


def _prefix_of(value: bytes) -> int:
    return int.from_bytes(value[: BITS // 8], "big")


def chunks_of(value: int) -> tuple[int, ...]:
    """The chunks of a 64-bit code, high bits first (``CHUNK_WIDTHS``)."""
    chunks, shift = [], BITS
    for width in CHUNK_WIDTHS:
        shift -= width
        chunks.append((value >> shift) & ((1 << width) - 1))
    return tuple(chunks)


def _signed(value: int) -> int:
    return value - (1 << BITS) if value >= 1 << (BITS - 1) else value


def _unsigned(value: int) -> int:
    return value + (1 << BITS) if value < 0 else value
