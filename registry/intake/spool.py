"""Spooling incoming media to disk while hashing it: one pass, bounded, never whole in memory."""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from io import BufferedRandom
from pathlib import Path
from typing import IO, Any

from registry.errors import PayloadTooLarge

CHUNK = 1024 * 1024
# Chunks waiting for the digest thread; a full queue makes the producer wait, so at most this
# many CHUNK-sized pieces are held in memory.
_QUEUE_CHUNKS = 8


class SpooledFile:
    """Bytes as received: where they are, their size and their SHA-256.

    The digest may still be computed by a ``FollowingDigest`` when the file is handed over;
    reading ``sha256`` waits for it. Work that needs only the bytes (c2pa reading or signing
    them) goes ahead meanwhile, on the other core.
    """

    def __init__(self, path: Path, size: int, digest: FollowingDigest | str) -> None:
        self.path = path
        self.size = size
        self._digest = digest
        if isinstance(digest, FollowingDigest):  # nobody will ask: stop hashing
            weakref.finalize(self, digest.cancel)

    @property
    def sha256(self) -> str:
        if isinstance(self._digest, FollowingDigest):
            self._digest = self._digest.result()
        return self._digest


class FollowingDigest:
    """SHA-256 of a file being written, computed by a helper thread that reads behind the writer.

    The writer never waits for the hash: receiving an upload runs at the network's pace, and the
    hash (the slow part: ~1.4 GB/s here) finishes on another core while the file is already in
    use. The helper reads what was written back from the page cache, one ``CHUNK`` at a time.
    The writer calls ``advance`` after every write and ``writer_done`` at the end; ``result``
    waits for the digest; ``cancel`` stops the thread without one.
    """

    def __init__(self, path: Path) -> None:
        self._reader = path.open("rb", buffering=0)  # only ever asked for bytes already written
        self._hash = hashlib.sha256()
        self._written = 0
        self._writer_done = False
        self._cancelled = False
        self._failure: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def advance(self, size: int) -> None:
        with self._changed:
            self._written += size
            self._changed.notify()

    def writer_done(self) -> None:
        with self._changed:
            self._writer_done = True
            self._changed.notify()

    def result(self) -> str:
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        if self._cancelled:
            raise RuntimeError("the digest was cancelled")
        return self._hash.hexdigest()

    def cancel(self) -> None:
        with self._changed:
            self._cancelled = True
            self._changed.notify()
        self._thread.join()

    def _run(self) -> None:
        position = 0
        try:
            while True:
                with self._changed:
                    while not (self._cancelled or self._writer_done or self._written > position):
                        self._changed.wait()
                    if self._cancelled or (self._writer_done and self._written == position):
                        return
                    available = self._written - position
                data = self._reader.read(min(available, CHUNK))
                if not data:
                    raise OSError(f"{self._reader.name} is shorter than what was written")
                self._hash.update(data)
                position += len(data)
        except BaseException as exc:  # e.g. an I/O error: raised from result()
            self._failure = exc
        finally:
            self._reader.close()


class BackgroundDigest:
    """SHA-256 computed on a helper thread while the caller goes on producing the bytes.

    hashlib lets go of the GIL, so c2pa writing a signed file and hashing it use two cores
    instead of taking turns on one. Call ``hexdigest`` or ``cancel`` exactly once: either stops
    the thread.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._cancelled = False
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def update(self, data: bytes) -> None:
        """Hash ``data`` after what came before; it must not change afterwards."""
        self._raise_failure()
        self._queue.put(data)

    def hexdigest(self) -> str:
        self._stop()
        self._raise_failure()
        return self._hash.hexdigest()

    def cancel(self) -> None:
        """Stop without finishing (a failed upload or signing); queued pieces are dropped."""
        self._cancelled = True
        self._stop()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        while True:
            data = self._queue.get()
            try:
                if data is None:
                    return
                if self._failure is None and not self._cancelled:
                    self._hash.update(data)
            except BaseException as exc:  # e.g. a full disk: raised in the caller's thread
                self._failure = exc
            finally:
                self._queue.task_done()


class HashingWriter:
    """A file being written that is hashed as it grows and refuses to grow past ``limit``.

    Writes go straight to the file (unbuffered, so the ``FollowingDigest`` sees them at once);
    hashing happens behind them on a helper thread, which ``finish`` hands over to the
    ``SpooledFile``.
    """

    def __init__(self, path: Path, *, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.size = 0
        self._file = path.open("w+b", buffering=0)
        self._digest: FollowingDigest | None = FollowingDigest(path)

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise PayloadTooLarge(f"media files may be at most {self.limit} bytes")
        view = memoryview(data)
        while view:
            view = view[self._file.write(view) :]
        if self._digest is not None:
            self._digest.advance(len(data))
        return len(data)

    def finish(self) -> SpooledFile:
        self._file.close()
        digest, self._digest = self._digest, None
        if digest is None:
            raise RuntimeError("finish() was already called")
        digest.writer_done()
        return SpooledFile(self.path, self.size, digest)

    def close(self) -> None:
        """Give up: stop hashing (unless ``finish`` handed it over) and close the file."""
        if self._digest is not None:
            self._digest.cancel()
            self._digest = None
        self._file.close()

    def __getattr__(self, name: str) -> Any:  # seek, tell, read, flush, ...
        return getattr(self._file, name)


class DigestingSink:
    """A seekable file being written by someone else (c2pa), hashed on the side while it is.

    As long as every write lands at the end of what came before, the bytes are handed to a
    ``BackgroundDigest`` in ``CHUNK``-sized pieces, and the digest is ready when the writer is
    done: the file need not be read again. A write anywhere else (going back to patch a
    header) spoils it; ``digest`` then returns None and the caller hashes the finished file.
    """

    def __init__(self, file: BufferedRandom, *, hashing: bool = True) -> None:
        self._file = file
        self._position = 0
        self._hashed = 0  # bytes 0.._hashed were written in order and queued for hashing
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._digest: BackgroundDigest | None = BackgroundDigest() if hashing else None

    def write(self, data: bytes) -> int:
        count = self._file.write(data)
        if self._digest is not None and self._position == self._hashed:
            self._pending.append(bytes(data))
            self._pending_size += count
            self._hashed += count
            if self._pending_size >= CHUNK:  # few large pieces, not a writer's 8 KiB ones
                self._hand_over()
        elif self._digest is not None:
            self.close()
        self._position += count
        return count

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        count = self._file.readinto(buffer)
        self._position += count
        return count

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = self._file.seek(offset, whence)
        return self._position

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        self._file.flush()

    def digest(self) -> tuple[str, int] | None:
        """SHA-256 and size of what was written, or None unless it was written in order."""
        if self._digest is None:
            return None
        self._hand_over()
        digest, self._digest = self._digest, None
        return digest.hexdigest(), self._hashed

    def close(self) -> None:
        """Stop hashing (the thread ends); the file itself belongs to the caller."""
        if self._digest is not None:
            self._digest.cancel()
            self._digest = None
        self._pending.clear()

    def _hand_over(self) -> None:
        if self._pending and self._digest is not None:
            self._digest.update(b"".join(self._pending))
        self._pending.clear()
        self._pending_size = 0


def spool_stream(stream: IO[bytes], path: Path, *, limit: int) -> SpooledFile:
    """Copy ``stream`` to ``path`` in chunks, hashing as it goes."""
    writer = HashingWriter(path, limit=limit)
    try:
        while chunk := stream.read(CHUNK):
            writer.write(chunk)
        return writer.finish()
    finally:
        writer.close()


_WORKDIR_PREFIX = "media-"


@contextmanager
def workdir(parent: Path) -> Iterator[Path]:
    """A private directory for one request's files, removed on success and on every error.

    Its name carries the process id, so that a directory a killed worker left behind can be
    told from one a live worker is using (``sweep_workdirs``).
    """
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{_WORKDIR_PREFIX}{os.getpid()}-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_workdirs(parent: Path) -> list[Path]:
    """Remove the request directories of processes that no longer run; returns them.

    Every worker calls this when it starts: a worker killed mid-request (OOM, timeout,
    SIGKILL) cannot clean up after itself, and uploads of up to 2 GiB would pile up.
    """
    removed = []
    for path in parent.glob(f"{_WORKDIR_PREFIX}*"):
        owner = _owner(path.name)
        if owner is not None and _alive(owner):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _owner(name: str) -> int | None:
    pid, _, _ = name.removeprefix(_WORKDIR_PREFIX).partition("-")
    return int(pid) if pid.isdigit() else None  # no pid: an older layout, owned by nobody


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
