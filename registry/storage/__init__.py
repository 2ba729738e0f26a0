"""Blob storage: the ``BlobStorage`` protocol, its S3 and local-directory backends, and errors.

This package imports nothing from the domain; the app picks a backend with ``build_storage``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry.storage.base import BlobStorage, media_key
from registry.storage.errors import BlobNotFound, StorageError, StorageUnavailable
from registry.storage.local import LocalBlobStorage
from registry.storage.s3 import S3BlobStorage

__all__ = [
    "BlobNotFound",
    "BlobStorage",
    "LocalBlobStorage",
    "S3BlobStorage",
    "StorageError",
    "StorageUnavailable",
    "build_storage",
    "media_key",
]


def build_storage(settings: Any) -> BlobStorage:
    """The backend the settings ask for (``storage`` is ``"local"`` or ``"s3"``)."""
    kind = settings.storage
    if kind == "local":
        if settings.storage_dir is None:
            raise ValueError(
                "REGISTRY_STORAGE_DIR (or REGISTRY_DATA_DIR) is required for local storage"
            )
        return LocalBlobStorage(root=Path(settings.storage_dir))
    if kind == "s3":
        if not settings.s3_bucket:
            raise ValueError("REGISTRY_S3_BUCKET is required when REGISTRY_STORAGE=s3")
        return S3BlobStorage(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            create_bucket=settings.s3_create_bucket,
            multipart_threshold_bytes=settings.s3_multipart_threshold_bytes,
            connect_timeout=settings.s3_connect_timeout,
            read_timeout=settings.s3_read_timeout,
            max_attempts=settings.s3_max_attempts,
            probe_timeout=settings.readiness_timeout,
        )
    raise ValueError(f"unknown storage backend {kind!r}; expected 'local' or 's3'")
