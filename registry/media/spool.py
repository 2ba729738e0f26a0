"""Spooling incoming media to disk while hashing it: one pass, bounded, never whole in memory."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from registry.errors import PayloadTooLarge

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SpooledFile:
    """Bytes as received: where they are, their SHA-256 and size."""

    path: Path
    sha256: str
    size: int


class HashingWriter:
    """A file being written that hashes every byte and refuses to grow past ``limit``."""

    def __init__(self, path: Path, *, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.size = 0
        self._hash = hashlib.sha256()
        self._file: BinaryIO = path.open("w+b")

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise PayloadTooLarge(f"media files may be at most {self.limit} bytes")
        self._hash.update(data)
        return self._file.write(data)

    def finish(self) -> SpooledFile:
        self._file.close()
        return SpooledFile(self.path, self._hash.hexdigest(), self.size)

    def __getattr__(self, name: str) -> Any:  # seek, tell, read, flush, close, ...
        return getattr(self._file, name)


def spool_stream(stream: BinaryIO, path: Path, *, limit: int) -> SpooledFile:
    """Copy ``stream`` to ``path`` in chunks, hashing as it goes."""
    writer = HashingWriter(path, limit=limit)
    try:
        while chunk := stream.read(CHUNK):
            writer.write(chunk)
    finally:
        result = writer.finish()
    return result


@contextmanager
def workdir(parent: Path) -> Iterator[Path]:
    """A private directory for one request's files, removed on success and on every error."""
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="media-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
