"""The provenance index on SQLite and PostgreSQL: a transformed copy finds its asset among
many, unrelated files find nothing, multi-index hashing returns exactly the codes within
the radius."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.orm import Session

from registry.provenance import index
from registry.provenance.fingerprints import (
    ALG,
    WATERMARK_ALG,
    Fingerprint,
    fingerprint,
    picture_fingerprints,
    watermark_fingerprint,
)
from registry.provenance.models import ProvenanceCode
from registry.provenance.watermark import embed, extract
from registry.provenance.watermark_keys import watermark_key
from tests.provenance import media

MakeAssets = Callable[[int], list[str]]


def random_code(rng: random.Random, unit: str = "image") -> Fingerprint:
    return Fingerprint(ALG, unit, rng.getrandbits(64).to_bytes(8, "big"))  # type: ignore[arg-type]


def flipped(fp: Fingerprint, bits: list[int]) -> Fingerprint:
    value = fp.as_int
    for bit in bits:
        value ^= 1 << bit
    return Fingerprint(fp.alg, fp.unit, value.to_bytes(8, "big"))


def test_a_transformed_picture_finds_its_asset_among_many(
    session: Session, make_assets: MakeAssets
) -> None:
    rng = random.Random(1)  # noqa: S311 (test data)
    ids = make_assets(400)
    pictures = {ids[i]: media.scene(i) for i in range(8)}
    for asset_id, picture in pictures.items():
        index.add(session, asset_id, picture_fingerprints(picture))
    for asset_id in ids[8:]:  # noise: other assets with five random codes each
        index.add(session, asset_id, [random_code(rng) for _ in range(5)])

    for asset_id, picture in pictures.items():
        for transform in ("half-size JPEG q70", "centre crop 10%", "square crop"):
            probe = picture_fingerprints(media.IMAGE_TRANSFORMS[transform](picture))
            matches = index.lookup(session, probe)
            assert matches and matches[0].asset_id == asset_id, transform
            assert matches[0].alg == ALG and matches[0].unit == "image"
            assert matches[0].similarity >= 1 - index.MAX_DISTANCE["image"] / 64

    for seed in range(6):
        unrelated = picture_fingerprints(media.half_jpeg70(media.scene(9000 + seed)))
        assert index.lookup(session, unrelated) == []


def test_multi_index_hashing_finds_exactly_the_codes_within_the_radius(
    session: Session, make_assets: MakeAssets
) -> None:
    rng = random.Random(2)  # noqa: S311 (test data)
    probe = random_code(rng)
    ids = make_assets(80)
    expected = {}
    for i, asset_id in enumerate(ids):
        d = i % 16  # distances 0..15, spread over every chunk
        stored = flipped(probe, rng.sample(range(64), d))
        index.add(session, asset_id, [stored])
        expected[asset_id] = d

    for radius in (0, 3, 5, 9, 11):
        found = index.lookup(session, probe, max_distance={"image": radius}, limit=1000)
        assert {m.asset_id: m.distance for m in found} == {
            a: d for a, d in expected.items() if d <= radius
        }, radius

    best = index.lookup(session, probe, max_distance={"image": 11}, limit=1)
    assert best[0].distance == 0


def test_audio_and_watermark_lookups(
    session: Session, make_assets: MakeAssets, media_dir: Path
) -> None:
    ids = make_assets(3)
    wav = media.write_audio(media_dir / "voice.wav", media.synth_audio(3, 8))
    index.add(session, ids[0], fingerprint(wav, "audio"))
    picture = media.save(media.scene(4, (640, 480)), media_dir / "p.png")
    marked = media_dir / "marked.png"
    # A fixed key: on this 640x480 picture about 1 key in 8 does not survive the half-size
    # q70 copy (26 of 30 random keys did); this test is about the index, and fingerprints
    # carry what the mark does not (tests/provenance/test_durable_credentials.py).
    key = watermark_key("asset-with-a-surviving-mark", b"secret")
    embed(picture, marked, key)
    index.add(session, ids[1], [*fingerprint(marked, "image"), watermark_fingerprint(key)])

    mp3 = media.transcode_audio(wav, media_dir / "voice.mp3", bitrate=128_000)
    (audio,) = index.lookup(session, fingerprint(mp3, "audio"))
    assert (audio.asset_id, audio.unit) == (ids[0], "audio")

    copy = media_dir / "copy.jpg"
    with Image.open(marked) as picture:  # the platform's copy: half size, JPEG quality 70
        media.half_jpeg70(picture).save(copy)
    read = extract(copy)
    assert read == key
    found = index.lookup(session, [watermark_fingerprint(read)])
    assert [(m.asset_id, m.alg, m.similarity) for m in found] == [(ids[1], WATERMARK_ALG, 1.0)]
    assert index.lookup(session, [watermark_fingerprint(watermark_key(ids[2], b"secret"))]) == []


def test_a_reencoded_video_finds_its_asset(
    session: Session, make_assets: MakeAssets, media_dir: Path
) -> None:
    ids = make_assets(2)
    videos = [
        media.make_video(media_dir / f"v{i}.mp4", 20 + i, seconds=6, size=(320, 180))
        for i in range(2)
    ]
    for asset_id, video in zip(ids, videos, strict=True):
        index.add(session, asset_id, fingerprint(video, "video"))

    copy = media.reencode_video(videos[1], media_dir / "copy.mp4", bitrate=150_000)
    matches = index.lookup(session, fingerprint(copy, "video"))

    frames = [m for m in matches if m.unit == "video-frame"]
    assert [m.asset_id for m in frames] == [ids[1]]
    assert frames[0].similarity >= index.MIN_FRAME_SHARE and frames[0].at_ms is not None
    assert any(m.unit == "audio" and m.asset_id == ids[1] for m in matches)


def _flip_in_chunks(
    fp: Fingerprint, per_chunk: tuple[int, int, int], rng: random.Random
) -> Fingerprint:
    """``fp`` with that many bits flipped in each chunk (c0 holds the high 22 bits)."""
    bits, low = [], 64
    for width, count in zip(index.CHUNK_WIDTHS, per_chunk, strict=True):
        low -= width
        bits += rng.sample(range(low, low + width), count)
    return flipped(fp, bits)


def test_a_video_is_found_through_a_seed_frame_then_compared_whole(
    session: Session, make_assets: MakeAssets
) -> None:
    """A seed is a frame within the radius with a chunk within one bit of a probe frame's; the
    video it finds is then judged on all its frames (share and distance)."""
    rng = random.Random(5)  # noqa: S311 (test data)
    probe = [random_code(rng, "video-frame") for _ in range(4)]
    seed_at_8 = _flip_in_chunks(probe[0], (4, 3, 1), rng)  # distance 8, c2 within 1 bit
    cases = {
        # a seed at the radius and a frame at 6 that is no seed: 2 of 4 frames, share 0.5
        "found": [seed_at_8, _flip_in_chunks(probe[1], (2, 2, 2), rng)],
        # every frame within the radius, none a seed: not found
        "no seed": [_flip_in_chunks(p, (2, 2, 2), rng) for p in probe],
        # a seed-shaped frame one bit past the radius, the others no seeds: not found
        "seed past the radius": [
            _flip_in_chunks(probe[0], (4, 4, 1), rng),
            *[_flip_in_chunks(p, (2, 2, 2), rng) for p in probe[1:]],
        ],
        # a seed, but 1 frame of 4 is under the share: not matched
        "under the share": [_flip_in_chunks(probe[2], (1, 1, 0), rng)],
    }
    ids = dict(zip(cases, make_assets(len(cases)), strict=True))
    for case, frames in cases.items():
        noise = [random_code(rng, "video-frame") for _ in range(3)]
        index.add(session, ids[case], frames + noise)

    assert index.is_seed(probe[0].as_int, seed_at_8.as_int, 8)
    assert not index.is_seed(probe[0].as_int, seed_at_8.as_int, 7)
    matches = index.lookup(session, probe, limit=10)
    assert [(m.asset_id, m.unit, m.similarity, m.distance) for m in matches] == [
        (ids["found"], "video-frame", 0.5, 6)
    ]


def test_add_numbers_codes_per_family_and_remove_forgets_them(
    session: Session, make_assets: MakeAssets
) -> None:
    rng = random.Random(3)  # noqa: S311 (test data)
    (asset_id,) = make_assets(1)
    codes = [random_code(rng), random_code(rng), random_code(rng, "audio")]
    assert index.add(session, asset_id, codes) == 3
    rows = session.execute(
        sa.select(ProvenanceCode.family, ProvenanceCode.seq).order_by(
            ProvenanceCode.family, ProvenanceCode.seq
        )
    ).all()
    assert [tuple(r) for r in rows] == [("audio", 0), ("image", 0), ("image", 1)]
    assert index.lookup(session, codes[0])[0].asset_id == asset_id  # 64-bit values, both signs

    assert index.remove(session, asset_id) == 3
    assert index.lookup(session, codes) == []


def test_codes_are_64_bits_or_longer(session: Session, make_assets: MakeAssets) -> None:
    with pytest.raises(ValueError):
        index.add(session, make_assets(1)[0], [Fingerprint(ALG, "image", b"\x01" * 4)])
