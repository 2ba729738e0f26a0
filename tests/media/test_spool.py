"""Spooling and hashing on a helper thread: digests match the bytes, no thread outlives its file."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

import pytest

from registry.errors import PayloadTooLarge
from registry.media.spool import CHUNK, DigestingSink, spool_stream

from .assets import garbage


def _threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == "sha256")


def test_spooled_stream_has_the_digest_and_size_of_its_bytes(work: Path) -> None:
    data = garbage("spool", 3 * CHUNK + 123)
    spooled = spool_stream(io.BytesIO(data), work / "upload", limit=len(data))
    assert spooled.sha256 == hashlib.sha256(data).hexdigest()
    assert spooled.size == len(data)
    assert spooled.path.read_bytes() == data
    assert _threads() == 0


def test_spooling_past_the_limit_is_refused_and_stops_hashing(work: Path) -> None:
    data = garbage("too-big", 2 * CHUNK)
    with pytest.raises(PayloadTooLarge):
        spool_stream(io.BytesIO(data), work / "upload", limit=CHUNK)
    assert _threads() == 0


def test_sink_written_front_to_back_knows_its_digest(work: Path) -> None:
    data = garbage("sink", 2 * CHUNK + 5)
    with (work / "signed").open("w+b") as file:
        sink = DigestingSink(file)  # type: ignore[arg-type]
        for start in range(0, len(data), 8192):  # as c2pa writes MP4: 8 KiB at a time
            sink.write(data[start : start + 8192])
        sink.seek(0)
        assert sink.read(4) == data[:4]
        assert sink.digest() == (hashlib.sha256(data).hexdigest(), len(data))
    assert _threads() == 0


def test_sink_rewritten_in_place_gives_no_digest(work: Path) -> None:
    with (work / "signed").open("w+b") as file:
        sink = DigestingSink(file)  # type: ignore[arg-type]
        sink.write(b"RIFF\0\0\0\0WAVE" + garbage("riff", 1000))
        sink.seek(4)
        sink.write(b"\x01\x02\x03\x04")  # as c2pa patches the RIFF size of a WAV
        assert sink.digest() is None
        sink.close()
    assert _threads() == 0
