"""Blob storage in a local directory: the embedded default for development and tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from registry.storage.base import BlobInfo, validate_key, validate_prefix
from registry.storage.errors import BlobNotFound, StorageError, StorageUnavailable

_COPY_BUFFER_BYTES = 1024 * 1024
# Temporary files start with a dot: keys may not, so they never show up as blobs.
_TEMP_PREFIX = ".tmp-"


class LocalBlobStorage:
    """Blobs as files under ``root``, one file per key.

    A development backend: a single machine's disk, no presigned URLs, no sharing between
    app servers. Production runs on S3 (``S3BlobStorage``). Writes are atomic (temporary file,
    fsync, rename) so a reader never sees half a blob and a crash leaves no partial file
    under a key.
    """

    def __init__(self, *, root: Path) -> None:
        self._root = Path(root).absolute()
        try:
            self._root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable("The local storage directory cannot be created") from exc

    @property
    def root(self) -> Path:
        """The directory blobs are stored under."""
        return self._root

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Copy the file at ``path`` under ``key`` in fixed-size chunks."""
        target = self._path(key)
        with open(path, "rb") as source, self._atomic_write(target) as sink:
            shutil.copyfileobj(source, sink, _COPY_BUFFER_BYTES)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``."""
        target = self._path(key)
        with self._atomic_write(target) as sink:
            sink.write(data)

    def open(self, key: str) -> BinaryIO:
        """Open the blob for reading."""
        target = self._path(key)
        try:
            return open(target, "rb")  # the caller owns and closes the stream
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise BlobNotFound() from exc
        except OSError as exc:
            raise StorageError("The blob could not be read") from exc

    def download_to(self, key: str, path: Path) -> None:
        """Copy the blob to ``path``, replacing it only once the copy is complete."""
        with self.open(key) as source, self._atomic_write(Path(path).absolute()) as sink:
            shutil.copyfileobj(source, sink, _COPY_BUFFER_BYTES)

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        """The blob's size in bytes."""
        target = self._path(key)
        try:
            if not target.is_file():
                raise BlobNotFound()
            return target.stat().st_size
        except FileNotFoundError as exc:  # deleted between the two calls
            raise BlobNotFound() from exc
        except OSError as exc:
            raise StorageError("The blob size could not be read") from exc

    def delete(self, key: str) -> None:
        """Remove the blob if it exists."""
        target = self._path(key)
        try:
            if target.is_file():
                target.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError("The blob could not be deleted") from exc

    def presigned_url(self, key: str, expires_seconds: int) -> str | None:
        """Local files have no URL of their own; the app streams them instead."""
        self._path(key)
        return None

    def list_keys(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix``, sorted."""
        validate_prefix(prefix)
        # Only walk the deepest directory the prefix names, not the whole tree.
        start = self._root.joinpath(*prefix.split("/")[:-1])
        return sorted(key for key in self._walk(start) if key.startswith(prefix))

    def list_blobs(self, prefix: str) -> list[BlobInfo]:
        """Keys starting with ``prefix``, sorted, with size and modification time."""
        blobs = []
        for key in self.list_keys(prefix):
            with contextlib.suppress(FileNotFoundError):  # deleted since it was listed
                stat = self._path(key).stat()
                modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                blobs.append(BlobInfo(key, stat.st_size, modified))
        return blobs

    def sweep_incomplete(self, older_than: datetime) -> list[str]:
        """Remove temporary files of writes a killed process never finished."""
        removed = []
        for path in self._root.rglob(f"{_TEMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                if datetime.fromtimestamp(path.stat().st_mtime, UTC) < older_than:
                    path.unlink()
                    removed.append(path.relative_to(self._root).as_posix())
        return sorted(removed)

    def check(self) -> None:
        """Raise ``StorageUnavailable`` unless the root is a writable directory."""
        if not self._root.is_dir() or not os.access(self._root, os.W_OK | os.X_OK):
            raise StorageUnavailable("The local storage directory is missing or not writable")

    def _path(self, key: str) -> Path:
        return self._root.joinpath(*validate_key(key).split("/"))

    def _walk(self, start: Path) -> Iterator[str]:
        for directory, subdirectories, files in os.walk(start):
            subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
            relative = Path(directory).relative_to(self._root)
            for name in files:
                if not name.startswith("."):
                    yield (relative / name).as_posix()

    @contextlib.contextmanager
    def _atomic_write(self, target: Path) -> Iterator[BinaryIO]:
        """Yield a temporary file next to ``target`` that replaces it on success."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=target.parent)
        except NotADirectoryError as exc:
            raise StorageError("A blob already exists where a key prefix is needed") from exc
        except OSError as exc:
            raise StorageError("The blob could not be written") from exc
        try:
            with os.fdopen(fd, "wb") as sink:
                yield sink
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(temp_name, target)
            _fsync_directory(target.parent)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            if isinstance(exc, OSError):
                raise StorageError("The blob could not be written") from exc
            raise


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable, not only the file's bytes."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # e.g. platforms that cannot open directories; the data is already synced
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
