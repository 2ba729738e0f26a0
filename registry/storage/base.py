"""The ``BlobStorage`` interface shared by the S3 and local-directory backends, and key rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

# S3 allows 1024 bytes of UTF-8 per key; staying inside it keeps both backends interchangeable.
MAX_KEY_BYTES = 1024

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_EXTENSION = re.compile(r"[a-z0-9]{1,10}")


@dataclass(frozen=True)
class BlobInfo:
    """A stored blob as a listing shows it."""

    key: str
    size: int
    modified: datetime


@runtime_checkable
class BlobStorage(Protocol):
    """Where media and evidence blobs live. Keys are ``/``-separated relative names."""

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at ``path`` under ``key``, streaming it (never read whole)."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing any previous blob."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable stream of the blob; the caller closes it. Raises ``BlobNotFound``."""
        ...

    def download_to(self, key: str, path: Path) -> None:
        """Write the blob to ``path`` (replaced only when complete). Raises ``BlobNotFound``."""
        ...

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""
        ...

    def size(self, key: str) -> int:
        """The blob's size in bytes. Raises ``BlobNotFound``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing key is not an error."""
        ...

    def presigned_url(self, key: str, expires_seconds: int) -> str | None:
        """A time-limited URL that reads the blob without credentials, or None if unsupported."""
        ...

    def list_keys(self, prefix: str) -> list[str]:
        """All keys starting with ``prefix`` (a plain string prefix), sorted."""
        ...

    def list_blobs(self, prefix: str) -> list[BlobInfo]:
        """Like ``list_keys``, with each blob's size and last modification."""
        ...

    def sweep_incomplete(self, older_than: datetime) -> list[str]:
        """Remove writes that never finished and began before ``older_than`` (a killed worker's
        temporary file, an S3 multipart upload never completed); returns what was removed."""
        ...

    def check(self) -> None:
        """Raise ``StorageUnavailable`` unless the store can serve requests (for /readyz)."""
        ...


def media_key(sha256_hex: str, ext: str) -> str:
    """The content-addressed key of a media file: ``media/<sha256[:2]>/<sha256>.<ext>``."""
    digest = sha256_hex.lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise ValueError("sha256_hex must be 64 hexadecimal characters")
    extension = ext.lower()
    if not _EXTENSION.fullmatch(extension):
        raise ValueError("ext must be 1-10 letters or digits, without a dot")
    return f"media/{digest[:2]}/{digest}.{extension}"


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative name, else raise ``ValueError``.

    Both backends enforce the same rules so that a key valid on S3 can never escape the local
    root, and a key written locally can move to S3 unchanged. Segments starting with a dot are
    refused (this covers ``.`` and ``..``) which also keeps the local backend's temporary files
    out of the key space.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("a storage key must be a non-empty string")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ValueError(f"a storage key must be at most {MAX_KEY_BYTES} bytes")
    if key.startswith("/"):
        raise ValueError("a storage key must be relative (no leading '/')")
    if "\\" in key:
        raise ValueError("a storage key must not contain a backslash")
    if any(ord(char) < 0x20 or char == "\x7f" for char in key):
        raise ValueError("a storage key must not contain NUL or control characters")
    for segment in key.split("/"):
        if not segment:
            raise ValueError("a storage key must not contain empty segments ('//' or trailing '/')")
        if segment.startswith("."):
            raise ValueError("a storage key segment must not start with '.' (no '.' or '..')")
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it could begin a valid key (empty lists everything)."""
    if prefix == "":
        return prefix
    # A prefix may end in "/" or mid-segment; validate it as the key it would begin.
    validate_key(prefix.rstrip("/") or "/")
    return prefix
