"""Errors of the blob storage layer; vendor errors (botocore, OSError) become these."""

from __future__ import annotations

from registry.errors import NotFound, RegistryError, ServiceUnavailable


class BlobNotFound(NotFound):
    """No blob is stored under the requested key."""

    slug = "blob-not-found"
    title = "The stored content does not exist"


class StorageUnavailable(ServiceUnavailable):
    """The blob store cannot be reached or answered with a server error; retrying may help."""

    slug = "storage-unavailable"
    title = "Media storage is unavailable"


class StorageError(RegistryError):
    """The blob store refused the operation (configuration, permissions, bad request)."""

    status = 500
    slug = "storage-error"
    title = "Media storage failed"
