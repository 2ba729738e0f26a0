"""The structural pre-check: real media passes far below the limits; files cut short and files
built from too many pieces are refused by reading headers only, in milliseconds."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from registry.c2pa.adapter import sign_file
from registry.errors import problem_type
from registry.intake.errors import MalformedMedia, MediaTooComplex
from registry.intake.structure import (
    BMFF_BOXES,
    JPEG_SEGMENTS,
    MAX_DEPTH,
    PNG_CHUNKS,
    RIFF_CHUNKS,
    check_structure,
)
from registry.keys.c2pa_credential import DevCredential, create_dev_credential
from tests.c2pa.test_adapter import representative_manifest
from tests.media import assets
from tests.verification import hostile_media

FAST_SECONDS = 0.25  # the slowest refusal (30,000 PNG chunks walked) takes ~0.09 s here


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> DevCredential:
    return create_dev_credential(tmp_path_factory.mktemp("keys"))


def _signed(source: Path, mime_type: str, dev: DevCredential) -> Path:
    dest = source.with_name(f"signed-{source.name}")
    sign_file(
        source=source,
        dest=dest,
        mime_type=mime_type,
        manifest=representative_manifest(),
        credential=dev.credential,
    )
    return dest


REAL: dict[str, tuple[Callable[[Path], Path], str]] = {
    **{f"small-{mime}": (maker, mime) for mime, maker in assets.MAKERS.items()},
    "jpeg-1000x1000": (lambda d: assets.make_jpeg(d, size=(1000, 1000)), "image/jpeg"),
    "png-1000x1000": (lambda d: assets.make_png(d, size=(1000, 1000)), "image/png"),
    "webp-1000x1000": (lambda d: assets.make_webp(d, size=(1000, 1000)), "image/webp"),
    "wav-30s": (lambda d: assets.make_wav(d, seconds=30), "audio/wav"),
    "mp4-8MiB": (lambda d: assets.make_large_mp4(d, megabytes=8), "video/mp4"),
    "mp3-id3": (lambda d: assets.copy_asset(d, "tone-id3.mp3"), "audio/mpeg"),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_media_and_its_signed_copy_are_far_below_the_limits(
    tmp_path: Path, dev: DevCredential, name: str
) -> None:
    make, mime_type = REAL[name]
    source = make(tmp_path)
    for path in (source, _signed(source, mime_type, dev)):
        shape = check_structure(path, mime_type=mime_type)
        # A fifth of the smallest allowance, at most: the limits leave a wide margin.
        assert shape.pieces <= JPEG_SEGMENTS.base // 5, (path.name, shape)
        assert shape.depth <= MAX_DEPTH // 4, (path.name, shape)


@pytest.mark.parametrize("name", sorted(hostile_media.HOSTILE))
def test_crafted_and_cut_files_are_refused_in_milliseconds(tmp_path: Path, name: str) -> None:
    make, mime_type, slug, _ = hostile_media.HOSTILE[name]
    path = make(tmp_path)
    expected = MediaTooComplex if slug == "media-too-complex" else MalformedMedia
    started = time.perf_counter()
    with pytest.raises(expected) as caught:
        check_structure(path, mime_type=mime_type)
    assert time.perf_counter() - started < FAST_SECONDS
    assert caught.value.type == problem_type(slug)
    assert caught.value.status == 422


def test_a_wav_cut_to_ninety_percent_is_malformed(tmp_path: Path) -> None:
    with pytest.raises(MalformedMedia, match="truncated"):
        check_structure(hostile_media.cut_wav(tmp_path), mime_type="audio/wav")


def test_a_signed_wav_cut_to_ninety_percent_is_malformed(
    tmp_path: Path, dev: DevCredential
) -> None:
    signed = _signed(assets.make_wav(tmp_path), "audio/wav", dev)
    signed.write_bytes(signed.read_bytes()[: signed.stat().st_size * 9 // 10])
    with pytest.raises(MalformedMedia, match="truncated"):
        check_structure(signed, mime_type="audio/wav")


@pytest.mark.parametrize("mime_type", ["image/jpeg", "image/png", "image/webp", "audio/wav"])
def test_signed_files_cut_to_a_third_are_malformed(
    tmp_path: Path, dev: DevCredential, mime_type: str
) -> None:
    source = assets.MAKERS[mime_type](tmp_path)
    signed = _signed(source, mime_type, dev)
    signed.write_bytes(signed.read_bytes()[: signed.stat().st_size // 3])
    with pytest.raises(MalformedMedia):
        check_structure(signed, mime_type=mime_type)


def test_the_box_limit_is_a_fixed_allowance_plus_one_per_32_kib(tmp_path: Path) -> None:
    clip = (assets.ASSETS / "clip.mp4").read_bytes()
    empty = struct.pack(">I4s", 8, b"free")
    within = tmp_path / "within.mp4"
    within.write_bytes(clip + empty * (BMFF_BOXES.base - 100))
    assert check_structure(within, mime_type="video/mp4").pieces <= BMFF_BOXES.base
    over = tmp_path / "over.mp4"
    over.write_bytes(clip + empty * (BMFF_BOXES.base + 10))
    with pytest.raises(MediaTooComplex):
        check_structure(over, mime_type="video/mp4")
    # Boxes beyond the fixed allowance cost the sender 32 KiB each: a 2 GiB file may have ~70k.
    assert BMFF_BOXES.for_size(2 * 1024**3) == BMFF_BOXES.base + 65_536


def test_boxes_nested_deeper_than_the_limit_are_refused(tmp_path: Path) -> None:
    levels = 100_000  # as the hostile-bytes test: each box holds the next
    ftyp = struct.pack(">I4s4sI4s", 20, b"ftyp", b"isom", 0, b"isom")
    path = tmp_path / "deep.mp4"
    path.write_bytes(
        ftyp + b"".join(struct.pack(">I4s", 8 * (levels - i), b"trak") for i in range(levels))
    )
    with pytest.raises(MediaTooComplex, match="deep"):
        check_structure(path, mime_type="video/mp4")


def test_boxes_hidden_in_a_c2pa_manifest_are_counted(tmp_path: Path, dev: DevCredential) -> None:
    signed = _signed(assets.make_mp4(tmp_path), "video/mp4", dev)
    data = signed.read_bytes()
    # Grow the manifest store's outermost JUMBF superbox by many empty boxes inside it.
    uuid_at = data.index(bytes.fromhex("d8fec3d61b0e483c92975828877ec481")) - 8
    uuid_size = struct.unpack(">I", data[uuid_at : uuid_at + 4])[0]
    jumb_at = data.index(b"jumb", uuid_at) - 4
    jumb_size = struct.unpack(">I", data[jumb_at : jumb_at + 4])[0]
    extra = struct.pack(">I4s", 8, b"free") * (BMFF_BOXES.base + 10)
    grown = bytearray(data)
    grown[jumb_at + jumb_size : jumb_at + jumb_size] = extra
    grown[jumb_at : jumb_at + 4] = struct.pack(">I", jumb_size + len(extra))
    grown[uuid_at : uuid_at + 4] = struct.pack(">I", uuid_size + len(extra))
    path = tmp_path / "grown.mp4"
    path.write_bytes(bytes(grown))
    with pytest.raises(MediaTooComplex, match="boxes"):
        check_structure(path, mime_type="video/mp4")


def test_too_many_jpeg_segments_are_refused(tmp_path: Path) -> None:
    data = assets.make_jpeg(tmp_path).read_bytes()
    path = tmp_path / "segments.jpg"
    path.write_bytes(data[:2] + b"\xff\xe5\x00\x02" * (JPEG_SEGMENTS.base + 1) + data[2:])
    with pytest.raises(MediaTooComplex, match="segments"):
        check_structure(path, mime_type="image/jpeg")


def test_too_many_riff_chunks_are_refused(tmp_path: Path) -> None:
    data = assets.make_wav(tmp_path).read_bytes()
    extra = b"junk" + struct.pack("<I", 0)
    body = data[12:] + extra * (RIFF_CHUNKS.for_size(len(data)) + 10)
    path = tmp_path / "chunks.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)
    with pytest.raises(MediaTooComplex, match="chunks"):
        check_structure(path, mime_type="audio/wav")


def test_a_riff_chunk_running_past_the_end_is_malformed(tmp_path: Path) -> None:
    data = assets.make_wav(tmp_path).read_bytes()
    path = tmp_path / "chunk-past-end.wav"
    junk = b"junk" + struct.pack("<I", 1000) + bytes(10)
    body = data[12:] + junk
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)
    with pytest.raises(MalformedMedia, match="'junk'"):
        check_structure(path, mime_type="audio/wav")


def test_png_chunks_counted_against_the_size_allowance(tmp_path: Path) -> None:
    path = hostile_media.padded_png(tmp_path, padding=12 * (PNG_CHUNKS.base - 10))
    check_structure(path, mime_type="image/png")  # under the fixed allowance: fine


def test_jpeg_fill_bytes_stray_bytes_and_trailing_data_are_fine(tmp_path: Path) -> None:
    data = assets.make_jpeg(tmp_path).read_bytes()
    path = tmp_path / "fill.jpg"
    # Fill bytes before a marker are allowed; what follows EOI is not the JPEG's.
    path.write_bytes(data[:2] + b"\xff" * 100_000 + data[2:] + b"trailer")
    check_structure(path, mime_type="image/jpeg")
    # Stray bytes between segments: decoders skip them, and c2pa signs such files.
    after_app0 = 4 + int.from_bytes(data[4:6], "big")
    path.write_bytes(data[:after_app0] + b"\0\0\0" + data[after_app0:])
    check_structure(path, mime_type="image/jpeg")
