"""``Intake``: where one app spools the files it receives, how large they may be, and from
which store it fetches bucket objects. Views reach it through ``registry.state``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import request
from pydantic import BaseModel

from registry.errors import PayloadTooLarge
from registry.intake.errors import InvalidObjectKey, ObjectOutsidePrefix
from registry.intake.multipart import receive_upload
from registry.intake.spool import SpooledFile, spool_stream, sweep_workdirs, workdir
from registry.storage import BlobStorage
from registry.storage.base import validate_key

# Bodies sent as the file itself rather than as multipart/form-data.
RAW_MIME_TYPES = ("application/octet-stream",)
RAW_MIME_PREFIXES = ("image/", "audio/", "video/")


def object_prefix(org_id: str) -> str:
    """Where an organization puts objects it wants signed or verified by key."""
    return f"orgs/{org_id}/"


def is_raw_body(mimetype: str) -> bool:
    """Whether a request body of this type is the file itself."""
    return mimetype in RAW_MIME_TYPES or mimetype.startswith(RAW_MIME_PREFIXES)


@dataclass(frozen=True)
class Intake:
    """Receiving files for one app: into ``spool_dir``, at most ``max_bytes`` each."""

    spool_dir: Path
    max_bytes: int
    storage: BlobStorage

    def sweep(self) -> list[Path]:
        """Remove what killed workers left in the spool directory (see ``sweep_workdirs``)."""
        return sweep_workdirs(self.spool_dir) if self.spool_dir.is_dir() else []

    @contextmanager
    def workdir(self) -> Iterator[Path]:
        """A private directory for one request's files, removed on success and on every error."""
        with workdir(self.spool_dir) as directory:
            yield directory

    def receive_upload(
        self, directory: Path, *, metadata_model: type[BaseModel] | None
    ) -> tuple[SpooledFile, Any]:
        """The multipart ``file`` part (spooled, hashed) and the validated ``metadata`` part."""
        return receive_upload(directory, limit=self.max_bytes, metadata_model=metadata_model)

    def receive_body(self, directory: Path) -> SpooledFile:
        """The request body as the file itself (a raw upload), spooled and hashed."""
        length = request.content_length
        if length is not None and length > self.max_bytes:
            raise PayloadTooLarge(f"files may be at most {self.max_bytes} bytes")
        return spool_stream(request.stream, directory / "upload", limit=self.max_bytes)

    def fetch_object(self, *, org_id: str, key: str, directory: Path) -> SpooledFile:
        """Copy an object of the organization's prefix into ``directory``, hashing it."""
        prefix = object_prefix(org_id)
        if not key.startswith(prefix) or ".." in key.split("/"):
            raise ObjectOutsidePrefix(f"objects are taken from under {prefix}", prefix=prefix)
        try:
            validate_key(key)
        except ValueError as exc:
            raise InvalidObjectKey(str(exc)) from exc
        if self.storage.size(key) > self.max_bytes:
            raise PayloadTooLarge(f"media files may be at most {self.max_bytes} bytes")
        with self.storage.open(key) as stream:
            return spool_stream(stream, directory / "source", limit=self.max_bytes)
