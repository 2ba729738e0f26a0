"""Media fixtures: generated with Pillow and ``wave``, or copied from tests/assets/.

Formats Python cannot write (MP3, FLAC, M4A, MP4, MOV) are tiny committed files made once
with ffmpeg by tests/assets/regenerate.sh, since CI machines have no ffmpeg.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import struct
import wave
from collections.abc import Callable
from pathlib import Path

from PIL import Image

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def make_image(
    directory: Path, *, fmt: str = "JPEG", size: tuple[int, int] = (64, 64), name: str = ""
) -> Path:
    """A deterministic gradient image (JPEG, PNG or WEBP); 1000x1000 is the 1 MP benchmark."""
    width, height = size
    image = Image.new("RGB", size)
    image.putdata(
        [
            ((x * 255) // width, (y * 255) // height, (x ^ y) & 0xFF)
            for y in range(height)
            for x in range(width)
        ]
    )
    path = directory / (name or f"image-{width}x{height}.{fmt.lower()}")
    image.save(path, fmt)
    return path


def make_jpeg(directory: Path, *, size: tuple[int, int] = (64, 64)) -> Path:
    return make_image(directory, fmt="JPEG", size=size)


def make_png(directory: Path, *, size: tuple[int, int] = (64, 64)) -> Path:
    return make_image(directory, fmt="PNG", size=size)


def make_webp(directory: Path, *, size: tuple[int, int] = (64, 64)) -> Path:
    return make_image(directory, fmt="WEBP", size=size)


def make_wav(directory: Path, *, seconds: float = 1.0, rate: int = 16_000) -> Path:
    """A mono 16-bit rising tone of ``seconds`` (a sweep, so no stretch of it repeats)."""
    path = directory / f"tone-{seconds:g}s.wav"
    frames = int(seconds * rate)
    samples = (
        int(12_000 * math.sin(2 * math.pi * (440 + 40 * i / rate) * i / rate))
        for i in range(frames)
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", sample) for sample in samples))
    return path


def copy_asset(directory: Path, name: str) -> Path:
    """A private copy of a committed fixture, so a test may damage it."""
    target = directory / name
    shutil.copyfile(ASSETS / name, target)
    return target


def make_mp3(directory: Path) -> Path:
    return copy_asset(directory, "tone.mp3")


def make_flac(directory: Path) -> Path:
    return copy_asset(directory, "tone.flac")


def make_m4a(directory: Path) -> Path:
    return copy_asset(directory, "tone.m4a")


def make_mp4(directory: Path) -> Path:
    return copy_asset(directory, "clip.mp4")


def make_mov(directory: Path) -> Path:
    return copy_asset(directory, "clip.mov")


def make_large_mp4(directory: Path, *, megabytes: int) -> Path:
    """The small MP4 followed by a top-level ``mdat`` of ``megabytes`` MiB (no ffmpeg needed).

    Players ignore the unreferenced box, but c2pa hashes every byte of it, so signing and
    verifying cost what a real video of that size costs. (A ``free`` box would not do:
    c2pa leaves ``free`` boxes out of the hash.)
    """
    path = directory / f"large-{megabytes}MiB.mp4"
    block = garbage(f"mdat-{megabytes}", 1024 * 1024)
    with path.open("wb") as out:
        out.write((ASSETS / "clip.mp4").read_bytes())
        out.write(struct.pack(">I4s", 8 + megabytes * len(block), b"mdat"))
        for _ in range(megabytes):
            out.write(block)
    return path


def garbage(seed: str, size: int) -> bytes:
    """Reproducible bytes that look random (no stdlib PRNG: the linter rightly flags those)."""
    return hashlib.shake_256(seed.encode()).digest(size)


# One small, valid file per supported MIME type.
MAKERS: dict[str, Callable[[Path], Path]] = {
    "image/jpeg": make_jpeg,
    "image/png": make_png,
    "image/webp": make_webp,
    "audio/wav": make_wav,
    "audio/mpeg": make_mp3,
    "audio/flac": make_flac,
    "audio/mp4": make_m4a,
    "video/mp4": make_mp4,
    "video/quicktime": make_mov,
}


def flip_payload_byte(*, signed: Path, source: Path) -> Path:
    """Flip one byte of media data (not of the manifest) in a copy of ``signed``.

    A window from the middle of ``source`` is found again in ``signed``: the bytes there are
    the unsigned content carried over, so changing one must break the hard binding.
    """
    original, data = source.read_bytes(), bytearray(signed.read_bytes())
    for start in range(len(original) // 2, len(original) - 32, 97):
        window = original[start : start + 32]
        if original.count(window) == 1 and data.count(window) == 1:
            position = data.index(window) + 16
            data[position] ^= 0xFF
            tampered = signed.with_name("tampered-" + signed.name)
            tampered.write_bytes(bytes(data))
            return tampered
    raise AssertionError(f"no unique media window of {source.name} found in {signed.name}")
