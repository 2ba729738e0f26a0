"""Files built to cost c2pa time and memory, and files cut short (issue #10, items 2 and 9).

Shared by the tests of the structural pre-check and by benchmarks/hostile.py. Each maker
writes its file into ``directory`` (streamed: the 100 MB PNG is never whole in memory) and
returns its path.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.media import assets

MIB = 1024 * 1024


def _png_chunk(chunk_type: bytes, data: bytes = b"") -> bytes:
    crc = zlib.crc32(chunk_type + data)
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", crc)


def many_boxes_mp4(directory: Path, *, boxes: int = 120_000) -> Path:
    """A real MP4 followed by ``boxes`` empty top-level ``free`` boxes: 960 KB for the 120,000
    of the probe, which took c2pa 47 s to read (its cost grows with the square of the count)."""
    path = directory / f"boxes-{boxes}.mp4"
    with path.open("wb") as out:
        out.write((assets.ASSETS / "clip.mp4").read_bytes())
        out.write(struct.pack(">I4s", 8, b"free") * boxes)
    return path


def padded_png(directory: Path, *, padding: int = 100 * MIB) -> Path:
    """A small real PNG with ``padding`` bytes of empty private chunks (12 bytes each: ~8.7
    million of them for 100 MB) before its IEND. c2pa took 41 s and +636 MB to read it."""
    source = assets.make_png(directory).read_bytes()
    iend = source.rindex(b"IEND") - 4
    empty = _png_chunk(b"prVt")
    block = empty * (MIB // len(empty))
    path = directory / f"padded-{padding // MIB}MiB.png"
    with path.open("wb") as out:
        out.write(source[:iend])
        written = 0
        while written + len(block) <= padding:
            out.write(block)
            written += len(block)
        out.write(empty * ((padding - written) // len(empty)))
        out.write(source[iend:])
    return path


def wav_claiming_more(directory: Path, *, extra: int = MIB) -> Path:
    """A real WAV whose RIFF header says it holds ``extra`` bytes more than it does (as a WAV
    cut short does)."""
    path = assets.make_wav(directory)
    data = bytearray(path.read_bytes())
    (riff_size,) = struct.unpack("<I", data[4:8])
    data[4:8] = struct.pack("<I", riff_size + extra)
    claiming = directory / "claims-more.wav"
    claiming.write_bytes(bytes(data))
    return claiming


def cut_wav(directory: Path, *, keep: float = 0.9) -> Path:
    """A real WAV cut to ``keep`` of its length (its header is left as it was)."""
    data = assets.make_wav(directory).read_bytes()
    path = directory / "cut.wav"
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def jpeg_cut_to_a_third(directory: Path) -> Path:
    """A 512x512 JPEG cut to a third of its length: its scan data has no end (no EOI)."""
    data = assets.make_image(directory, fmt="JPEG", size=(512, 512)).read_bytes()
    path = directory / "third.jpg"
    path.write_bytes(data[: len(data) // 3])
    return path


def png_without_iend(directory: Path) -> Path:
    """A real PNG whose last chunk, IEND, is missing."""
    data = assets.make_png(directory, size=(128, 128)).read_bytes()
    path = directory / "no-iend.png"
    path.write_bytes(data[: data.rindex(b"IEND") - 4])
    return path


# name: (maker, MIME type, the problem slug signing gives, the one verification gives)
HOSTILE: dict[str, tuple[Callable[[Path], Path], str, str, str]] = {
    "mp4-120000-boxes": (many_boxes_mp4, "video/mp4", "media-too-complex", "media-too-complex"),
    "png-100MB-padding": (padded_png, "image/png", "media-too-complex", "media-too-complex"),
    "wav-claiming-more": (wav_claiming_more, "audio/wav", "malformed-media", "manifest-unreadable"),
    "jpeg-cut-to-a-third": (
        jpeg_cut_to_a_third,
        "image/jpeg",
        "malformed-media",
        "manifest-unreadable",
    ),
    "png-without-iend": (png_without_iend, "image/png", "malformed-media", "manifest-unreadable"),
}
