"""Spooling and hashing on helper threads: digests match the bytes, no thread outlives its file."""

from __future__ import annotations

import gc
import hashlib
import io
import threading
import time
from pathlib import Path

import pytest

from registry.errors import PayloadTooLarge
from registry.intake.spool import CHUNK, DigestingSink, HashingWriter, spool_stream
from tests.media.assets import garbage


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


def test_hash_follows_a_writer_that_pauses_and_writes_odd_sizes(work: Path) -> None:
    data = garbage("odd", 2 * CHUNK + 777)
    writer = HashingWriter(work / "upload", limit=len(data))
    try:
        for start, size in ((0, 1), (1, 70_000), (70_001, CHUNK + 3)):
            writer.write(data[start : start + size])
            time.sleep(0.01)  # the helper catches up and waits for more
        writer.write(bytearray(data[70_001 + CHUNK + 3 :]))
        spooled = writer.finish()
    finally:
        writer.close()
    assert spooled.size == len(data)
    assert spooled.sha256 == hashlib.sha256(data).hexdigest()
    assert _threads() == 0


def test_empty_upload_has_the_digest_of_nothing(work: Path) -> None:
    spooled = spool_stream(io.BytesIO(b""), work / "upload", limit=10)
    assert (spooled.size, spooled.sha256) == (0, hashlib.sha256(b"").hexdigest())


def test_a_digest_nobody_reads_stops_with_its_file(work: Path) -> None:
    data = garbage("unread", 8 * CHUNK)
    spooled = spool_stream(io.BytesIO(data), work / "upload", limit=len(data))
    del spooled  # e.g. a 415 after spooling: the hash is never asked for
    gc.collect()
    assert _threads() == 0


def test_closing_after_finish_leaves_the_handed_over_digest_alone(work: Path) -> None:
    data = garbage("handed", 3 * CHUNK)
    writer = HashingWriter(work / "upload", limit=len(data))
    writer.write(data)
    spooled = writer.finish()
    writer.close()
    assert spooled.sha256 == hashlib.sha256(data).hexdigest()
