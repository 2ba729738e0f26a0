"""The watermark: round trip in every image format, survival of the transforms it is
claimed to survive (benchmarks/fingerprint_quality.py measures the rest), no key from
unmarked pictures, refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from registry.provenance.errors import WatermarkNotEmbeddable
from registry.provenance.watermark import (
    MIN_SIDE,
    embed,
    embed_picture,
    extract,
    extract_picture,
)
from registry.provenance.watermark_keys import KEY_BYTES, watermark_key
from tests.provenance import media

KEY = watermark_key("0190c0de-0000-7000-8000-000000000001", b"test secret")
# What the benchmark found it survives in every picture (see the report of issue #11).
SURVIVED = [
    "JPEG q90", "JPEG q70", "JPEG q50", "half-size JPEG q70", "resize 75%", "resize 150%",
    "WEBP q75", "greyscale", "brightness +10%", "blur r=1", "noise",
]  # fmt: skip


@pytest.fixture(scope="module")
def marked() -> list[Image.Image]:
    return [
        embed_picture(media.scene(seed, size), KEY)
        for seed, size in ((1, (768, 512)), (2, (600, 800)))
    ]


def test_keys_are_eight_bytes_of_an_hmac_of_the_asset_id() -> None:
    assert len(KEY) == KEY_BYTES
    assert watermark_key("a", b"s") == watermark_key("a", b"s")
    assert watermark_key("a", b"s") != watermark_key("b", b"s")
    assert watermark_key("a", b"s") != watermark_key("a", b"t")
    with pytest.raises(ValueError):
        watermark_key("a", b"")


@pytest.mark.parametrize(("fmt", "ext"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_round_trip_through_a_file_keeps_format_and_size(
    media_dir: Path, fmt: str, ext: str
) -> None:
    source = media.save(media.scene(5, (640, 480)), media_dir / f"in.{ext}", format=fmt)
    out = media_dir / f"out.{ext}"

    embed(source, out, KEY)

    assert extract(out) == KEY
    assert extract(source) is None
    with Image.open(out) as written:
        assert (written.format, written.size) == (fmt, (640, 480))


def test_lossless_webp_stays_lossless(media_dir: Path) -> None:
    source = media.save(media.scene(6, (400, 300)), media_dir / "in.webp", lossless=True)
    out = media_dir / "out.webp"
    embed(source, out, KEY)
    assert b"VP8L" in out.read_bytes()[:64]
    assert extract(out) == KEY


def test_alpha_and_greyscale_keep_their_mode(media_dir: Path) -> None:
    rgba = media.scene(7, (400, 400)).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((400, 400)))
    grey = media.scene(8, (400, 300)).convert("L")
    for name, picture in (("rgba.png", rgba), ("grey.png", grey)):
        source = media.save(picture, media_dir / name)
        out = media_dir / f"marked-{name}"
        embed(source, out, KEY)
        with Image.open(out) as written:
            assert written.mode == picture.mode
            if picture.mode == "RGBA":
                assert written.getchannel("A").tobytes() == rgba.getchannel("A").tobytes()
        assert extract(out) == KEY


def test_exif_orientation_is_applied_to_the_pixels(media_dir: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    source = media.save(media.scene(9, (600, 400)), media_dir / "tagged.jpg", exif=exif, quality=95)
    out = media_dir / "marked.jpg"
    embed(source, out, KEY)
    with Image.open(out) as written:
        assert written.size == (400, 600)
        assert written.getexif().get(0x0112) in (None, 1)
    assert extract(out) == KEY


@pytest.mark.parametrize("transform", SURVIVED)
def test_the_key_survives(marked: list[Image.Image], transform: str) -> None:
    for picture in marked:
        assert extract_picture(media.WATERMARK_TRANSFORMS[transform](picture)) == KEY


def test_unmarked_pictures_give_no_key() -> None:
    for seed in range(6):
        assert extract_picture(media.half_jpeg70(media.scene(700 + seed))) is None


def test_a_small_picture_is_refused(media_dir: Path) -> None:
    source = media.save(media.scene(1, (MIN_SIDE + 100, MIN_SIDE - 1)), media_dir / "small.png")
    with pytest.raises(WatermarkNotEmbeddable) as caught:
        embed(source, media_dir / "out.png", KEY)
    assert caught.value.extensions["reason"] == "too_small"
    assert not (media_dir / "out.png").exists()


def test_a_picture_that_cannot_hold_the_mark_is_refused(media_dir: Path) -> None:
    white = media.save(Image.new("RGB", (400, 400), (255, 255, 255)), media_dir / "white.png")
    with pytest.raises(WatermarkNotEmbeddable) as caught:
        embed(white, media_dir / "out.png", KEY)
    assert caught.value.extensions["reason"] == "not_readable"
    assert not (media_dir / "out.png").exists()


def test_importing_it_leaves_the_multiprocessing_start_method_alone() -> None:
    # blind-watermark sets 'fork' on import, which raises when a start method was chosen.
    code = (
        "import multiprocessing; multiprocessing.set_start_method('spawn'); "
        "import registry.provenance.watermark; print(multiprocessing.get_start_method())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "spawn"
    assert "Welcome to use blind-watermark" not in out.stdout
