"""Fingerprints: a transformed copy stays within the threshold of its original; unrelated
files do not; every supported format gets a fingerprint of its kind."""

from __future__ import annotations

import contextlib
from pathlib import Path

import iscc_core as ic
import pytest
from PIL import Image

from registry.intake.sniff import sniff
from registry.provenance.errors import UndecodableMedia
from registry.provenance.fingerprints import (
    ALG,
    Fingerprint,
    distance,
    fingerprint,
    picture_fingerprints,
)
from registry.provenance.index import MAX_DISTANCE, MIN_FRAME_SHARE
from tests.media.assets import ASSETS
from tests.provenance import media


def nearest(probe: list[Fingerprint], stored: list[Fingerprint], unit: str) -> int:
    """The distance at which the index would find ``stored`` for ``probe`` (one code)."""
    probes = [fp for fp in probe if fp.unit == unit and fp.variant is None]
    codes = [fp for fp in stored if fp.unit == unit]
    return min(distance(p, s) for p in probes for s in codes)


def frame_share(probe: list[Fingerprint], stored: list[Fingerprint]) -> float:
    frames = [fp for fp in probe if fp.unit == "video-frame"]
    limit = MAX_DISTANCE["video-frame"]
    hits = [any(distance(p, s) <= limit for s in stored if s.unit == "video-frame") for p in frames]
    return sum(hits) / len(hits)


# --- images ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "transform",
    [
        "half-size JPEG q70",
        "JPEG q50",
        "WEBP q75",
        "centre crop 10%",
        "centre crop 20%",
        "square crop",
        "corner crop 5%",
        "corner crop 10%",
    ],
)
def test_a_transformed_picture_matches_its_original(transform: str) -> None:
    limit = MAX_DISTANCE["image"]
    for seed in range(6):
        original = media.scene(seed)
        stored = picture_fingerprints(original)
        copy = picture_fingerprints(media.IMAGE_TRANSFORMS[transform](original))
        assert nearest(copy, stored, "image") <= limit, (transform, seed)


def test_unrelated_pictures_do_not_match() -> None:
    limit = MAX_DISTANCE["image"]
    stored = [picture_fingerprints(media.scene(seed)) for seed in range(12)]
    for seed in range(12):
        probe = picture_fingerprints(media.half_jpeg70(media.scene(5000 + seed)))
        assert all(nearest(probe, s, "image") > limit for s in stored)


@pytest.mark.parametrize(("fmt", "ext"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_every_image_format_gets_image_codes(media_dir: Path, fmt: str, ext: str) -> None:
    path = media.save(media.scene(3), media_dir / f"picture.{ext}", format=fmt)
    assert sniff(path).kind == "image"

    prints = fingerprint(path, "image")

    assert prints[0].unit == "image" and prints[0].variant is None and prints[0].alg == ALG
    corners = {
        f"{corner} {share}"
        for corner in ("top left", "top right", "bottom left", "bottom right")
        for share in ("6%", "12%")
    }
    assert {fp.variant for fp in prints[1:]} == {
        "crop 7%", "crop 14%", "crop 21%", "square crop", *corners
    }  # fmt: skip
    assert all(fp.scope.region is not None for fp in prints[1:])
    assert prints[0].iscc.startswith("ISCC:EE")  # Content-Code, Image
    assert ic.iscc_validate(prints[0].iscc, strict=True)


def test_exif_orientation_and_transparency_are_normalised(media_dir: Path) -> None:
    picture = media.scene(4, (600, 400))
    upright = fingerprint(media.save(picture, media_dir / "upright.png"), "image")[0]
    # The same picture stored rotated, with the EXIF tag that turns it back.
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    rotated = picture.transpose(Image.Transpose.ROTATE_90)
    tagged = fingerprint(
        media.save(rotated, media_dir / "tagged.jpg", exif=exif, quality=95), "image"
    )[0]
    assert distance(upright, tagged) <= 2
    # Transparent pixels count as white, as ISCC normalises them.
    rgba = picture.convert("RGBA")
    rgba.putalpha(255)
    assert fingerprint(media.save(rgba, media_dir / "alpha.png"), "image")[0].value == upright.value


def test_a_flat_picture_has_no_fingerprint(media_dir: Path) -> None:
    flat = media.save(Image.new("RGB", (300, 200), (40, 90, 200)), media_dir / "flat.png")
    assert fingerprint(flat, "image") == []


def test_a_broken_image_is_undecodable(media_dir: Path) -> None:
    good = media.save(media.scene(1), media_dir / "good.jpg", quality=90).read_bytes()
    broken = media_dir / "broken.jpg"
    broken.write_bytes(good[: len(good) // 3])
    with pytest.raises(UndecodableMedia):
        fingerprint(broken, "image")


# --- audio ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("audio")
    return [
        media.write_audio(directory / f"clip-{i}.wav", media.synth_audio(i, 8)) for i in range(4)
    ]


@pytest.mark.parametrize(
    ("suffix", "bitrate"),
    [(".128.mp3", 128_000), (".64.mp3", 64_000), (".m4a", 96_000), (".flac", None)],
)
def test_transcoded_audio_matches_its_original(
    originals: list[Path], suffix: str, bitrate: int | None
) -> None:
    for source in originals:
        copy = media.transcode_audio(source, source.with_suffix(suffix), bitrate=bitrate)
        stored = fingerprint(source, "audio")
        assert nearest(fingerprint(copy, "audio"), stored, "audio") <= MAX_DISTANCE["audio"], (
            source,
            suffix,
        )


def test_unrelated_audio_does_not_match(originals: list[Path], media_dir: Path) -> None:
    stored = [fingerprint(source, "audio") for source in originals]
    for seed in range(4):
        other = media.write_audio(
            media_dir / f"other-{seed}.mp3", media.synth_audio(900 + seed, 8), bitrate=128_000
        )
        probe = fingerprint(other, "audio")
        assert all(nearest(probe, s, "audio") > MAX_DISTANCE["audio"] for s in stored)


@pytest.mark.parametrize("ext", ["wav", "mp3", "flac", "m4a"])
def test_every_audio_format_gets_an_audio_code(media_dir: Path, ext: str) -> None:
    path = media.write_audio(media_dir / f"clip.{ext}", media.synth_audio(7, 8))
    assert sniff(path).kind == "audio"

    prints = fingerprint(path, "audio")

    shifted = [
        [f"shift {ms} ms", f"trim start 5% shift {ms} ms", f"trim start 10% shift {ms} ms"]
        for ms in ("-83", "-41", "+41", "+83")
    ]
    assert [fp.variant for fp in prints] == [
        None,
        *("trim start 5%", "trim end 5%", "trim start 10%", "trim end 10%"),
        *(variant for variants in shifted for variant in variants),
    ]
    assert prints[0].iscc.startswith("ISCC:EI")  # Content-Code, Audio


@pytest.mark.parametrize("name", ["tone.mp3", "tone.flac", "tone.m4a"])
def test_audio_under_six_seconds_has_no_fingerprint(name: str) -> None:
    assert fingerprint(ASSETS / name, "audio") == []  # 1 s: Chromaprint has no features yet


def test_five_seconds_of_sound_is_still_too_short(media_dir: Path) -> None:
    clip = media.write_audio(media_dir / "short.wav", media.synth_audio(2, 5))
    assert fingerprint(clip, "audio") == []


def test_silence_has_no_fingerprint(media_dir: Path) -> None:
    silence = media.write_audio(media_dir / "silence.wav", media.synth_audio(1, 6) * 0)
    assert fingerprint(silence, "audio") == []


def test_garbage_audio_is_undecodable(media_dir: Path) -> None:
    garbage = media_dir / "garbage.mp3"
    garbage.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40)
    with contextlib.suppress(UndecodableMedia):  # or FFmpeg finds no frames at all
        assert fingerprint(garbage, "audio") == []


# --- video ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("video")
    return media.make_video(directory / "clip.mp4", 11, seconds=6, size=(320, 180), bitrate=800_000)


def test_a_reencoded_video_matches_its_original(video: Path) -> None:
    stored = fingerprint(video, "video")
    lower = media.reencode_video(video, video.with_suffix(".low.mp4"), bitrate=150_000)
    smaller = media.reencode_video(
        video, video.with_suffix(".small.mov"), bitrate=200_000, size=(256, 144)
    )
    for copy in (lower, smaller):
        probe = fingerprint(copy, "video")
        assert frame_share(probe, stored) >= MIN_FRAME_SHARE
        assert nearest(probe, stored, "audio") <= MAX_DISTANCE["audio"]  # the soundtrack


def test_frames_are_sampled_every_second_with_timespans(video: Path) -> None:
    frames = [fp for fp in fingerprint(video, "video") if fp.unit == "video-frame"]
    assert [(fp.scope.start_ms, fp.scope.end_ms) for fp in frames] == [
        (0, 1000), (1000, 2000), (2000, 3000), (3000, 4000), (4000, 5000), (5000, 6000)
    ]  # fmt: skip


def test_an_unrelated_video_does_not_match(video: Path, media_dir: Path) -> None:
    other = media.make_video(media_dir / "other.mp4", 12, seconds=6, size=(320, 180), audio=False)
    assert frame_share(fingerprint(other, "video"), fingerprint(video, "video")) < MIN_FRAME_SHARE


@pytest.mark.parametrize("name", ["clip.mp4", "clip.mov"])
def test_the_committed_one_second_clips_get_one_frame_code(name: str) -> None:
    prints = fingerprint(ASSETS / name, "video")
    assert [fp.unit for fp in prints] == ["video-frame"]  # its sound is too short for a code


def test_a_truncated_video_is_undecodable(video: Path, media_dir: Path) -> None:
    cut = media_dir / "cut.mp4"
    cut.write_bytes(video.read_bytes()[:200])
    with pytest.raises(UndecodableMedia):
        fingerprint(cut, "video")
