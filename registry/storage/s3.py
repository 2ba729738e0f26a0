"""Blob storage on any S3-compatible store (AWS S3, SeaweedFS, MinIO, Ceph RGW) through boto3.

Every botocore/boto3 exception is converted here; callers only see ``registry.storage.errors``.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from boto3.exceptions import Boto3Error, RetriesExceededError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from urllib3.exceptions import HTTPError as URLLib3Error

from registry.errors import RegistryError
from registry.metrics import STORAGE_ERRORS
from registry.storage.base import BlobInfo, validate_key, validate_prefix
from registry.storage.errors import BlobNotFound, StorageError, StorageUnavailable

MIB = 1024 * 1024
# S3 refuses parts smaller than 5 MiB (except the last one).
_MIN_PART_BYTES = 5 * MIB
# Each transfer thread buffers one part in memory; a few threads keep an upload's memory bounded.
_TRANSFER_THREADS = 4
# SigV4 presigned URLs cannot outlive a week.
_MAX_PRESIGN_SECONDS = 7 * 24 * 3600
_READ_BUFFER_BYTES = MIB

_VENDOR_ERRORS = (ClientError, BotoCoreError, Boto3Error)
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_TRANSIENT_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling"}
)
_BUCKET_TAKEN_CODES = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})


class S3BlobStorage:
    """Blobs as objects in one bucket of an S3-compatible store."""

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        create_bucket: bool = False,
        multipart_threshold_bytes: int = 16 * MIB,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        max_attempts: int = 2,
        probe_timeout: float = 1.0,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 bucket name is required")
        self._bucket = bucket
        self._region = region
        self._endpoint_url = endpoint_url
        self._client = (
            client
            if client is not None
            else _build_client(
                endpoint_url,
                region,
                client_options(
                    connect_timeout=connect_timeout,
                    read_timeout=read_timeout,
                    max_attempts=max_attempts,
                ),
            )
        )
        # check() (for /readyz) has a client of its own: one short try, whatever the above.
        self._probe_timeout = probe_timeout
        self._probe_client: Any = client
        self._probe_lock = threading.Lock()
        self._transfer = TransferConfig(**transfer_options(multipart_threshold_bytes))
        if create_bucket:
            self._ensure_bucket()

    @property
    def bucket(self) -> str:
        """The bucket every key lives in."""
        return self._bucket

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Upload the file at ``path``; multipart above the configured threshold."""
        validate_key(key)
        with _converted_errors():
            self._client.upload_file(
                str(path),
                self._bucket,
                key,
                ExtraArgs={"ContentType": content_type},
                Config=self._transfer,
            )

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` in a single request."""
        validate_key(key)
        with _converted_errors():
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=data, ContentType=content_type
            )

    def open(self, key: str) -> BinaryIO:
        """A buffered stream of the object; read errors surface as storage errors."""
        validate_key(key)
        with _converted_errors():
            response = self._client.get_object(Bucket=self._bucket, Key=key)
        return io.BufferedReader(_ObjectStream(response["Body"]), _READ_BUFFER_BYTES)

    def download_to(self, key: str, path: Path) -> None:
        """Download the object to ``path``; boto3 writes a temporary file and renames it."""
        validate_key(key)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with _converted_errors():
            self._client.download_file(self._bucket, key, str(target), Config=self._transfer)

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        try:
            self.size(key)
        except BlobNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        """The object's size in bytes."""
        validate_key(key)
        with _converted_errors():
            response = self._client.head_object(Bucket=self._bucket, Key=key)
        return int(response["ContentLength"])

    def delete(self, key: str) -> None:
        """Delete the object; S3 treats a missing key as success."""
        validate_key(key)
        with _converted_errors():
            self._client.delete_object(Bucket=self._bucket, Key=key)

    def presigned_url(self, key: str, expires_seconds: int) -> str | None:
        """A SigV4 GET URL valid for ``expires_seconds`` (signed locally, no request)."""
        validate_key(key)
        if not 1 <= expires_seconds <= _MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires_seconds must be between 1 and {_MAX_PRESIGN_SECONDS}")
        with _converted_errors():
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket, "Key": key},
                ExpiresIn=expires_seconds,
            )
        return url

    def list_keys(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix``, sorted."""
        validate_prefix(prefix)
        keys: list[str] = []
        with _converted_errors():
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", ()))
        # Some S3-compatible stores list directory placeholders; they are not blobs.
        return sorted(key for key in keys if not key.endswith("/"))

    def list_blobs(self, prefix: str) -> list[BlobInfo]:
        """Keys starting with ``prefix``, sorted, with size and last modification."""
        validate_prefix(prefix)
        blobs: list[BlobInfo] = []
        with _converted_errors():
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                blobs.extend(
                    BlobInfo(item["Key"], item["Size"], item["LastModified"])
                    for item in page.get("Contents", ())
                    if not item["Key"].endswith("/")
                )
        return sorted(blobs, key=lambda blob: blob.key)

    def sweep_incomplete(self, older_than: datetime) -> list[str]:
        """Abort multipart uploads begun before ``older_than`` and never completed."""
        aborted: list[str] = []
        with _converted_errors():
            paginator = self._client.get_paginator("list_multipart_uploads")
            for page in paginator.paginate(Bucket=self._bucket):
                for upload in page.get("Uploads", ()):
                    if upload["Initiated"] < older_than:
                        self._client.abort_multipart_upload(
                            Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted.append(upload["Key"])
        return sorted(aborted)

    def check(self) -> None:
        """Raise ``StorageUnavailable`` unless the bucket answers within the probe timeout."""
        try:
            self._probe().head_bucket(Bucket=self._bucket)
        except _VENDOR_ERRORS as exc:
            error = _convert(exc)
            if isinstance(error, StorageUnavailable):
                raise error from exc
            raise StorageUnavailable("The storage bucket is missing or not accessible") from exc

    def _probe(self) -> Any:
        with self._probe_lock:
            if self._probe_client is None:
                options = client_options(
                    connect_timeout=self._probe_timeout,
                    read_timeout=self._probe_timeout,
                    max_attempts=1,
                )
                self._probe_client = _build_client(self._endpoint_url, self._region, options)
            return self._probe_client

    def _ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self._bucket)
            return
        except ClientError as exc:
            # head_bucket has no body, so a missing bucket is a bare 404.
            if _error_code(exc) not in _NOT_FOUND_CODES | {"NoSuchBucket"}:
                raise _convert(exc) from exc
        except _VENDOR_ERRORS as exc:
            raise _convert(exc) from exc
        arguments: dict[str, Any] = {"Bucket": self._bucket}
        if self._region != "us-east-1":
            # us-east-1 is the one region that refuses an explicit location constraint.
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        try:
            self._client.create_bucket(**arguments)
        except ClientError as exc:
            if _error_code(exc) in _BUCKET_TAKEN_CODES:
                return  # another worker created it first
            raise _convert(exc) from exc
        except _VENDOR_ERRORS as exc:
            raise _convert(exc) from exc


class _ObjectStream(io.RawIOBase):
    """A raw stream over a botocore ``StreamingBody`` that converts read errors."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._body.read(len(buffer))
        except _VENDOR_ERRORS as exc:
            raise _convert(exc) from exc
        except (OSError, URLLib3Error) as exc:
            raise StorageUnavailable("The connection to media storage broke") from exc
        count = len(data)
        memoryview(buffer).cast("B")[:count] = data
        return count

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._body.close()
        super().close()


def transfer_options(multipart_threshold_bytes: int) -> dict[str, Any]:
    """Keyword arguments of the boto3 ``TransferConfig`` for uploads and downloads.

    Plain data, so benchmarks/sign_throughput.py can upload exactly as the service does.
    """
    return {
        "multipart_threshold": multipart_threshold_bytes,
        "multipart_chunksize": max(multipart_threshold_bytes, _MIN_PART_BYTES),
        "max_concurrency": _TRANSFER_THREADS,
    }


def client_options(
    *, connect_timeout: float = 3.0, read_timeout: float = 10.0, max_attempts: int = 2
) -> dict[str, Any]:
    """Keyword arguments of the botocore ``Config`` of every client (plain data, as above).

    ``read_timeout`` bounds each socket read or write, not a transfer: an upload of any size
    goes on while bytes move, and a store that stops answering fails a call after
    ``max_attempts`` (the first try included) times ``read_timeout`` seconds, plus a second
    per try of an upload (botocore's wait for "100 Continue").
    """
    return {
        # total_max_attempts counts the first try; botocore's max_attempts would not.
        "retries": {"total_max_attempts": max_attempts, "mode": "standard"},
        "connect_timeout": connect_timeout,
        "read_timeout": read_timeout,
        # SigV4 everywhere: SigV2 presigned URLs are refused by newer AWS regions.
        "signature_version": "s3v4",
        "s3": {"addressing_style": "path"},
    }


def _build_client(endpoint_url: str | None, region: str, options: dict[str, Any]) -> Any:
    config = Config(**options)
    # A private session: creating clients from the shared default session is not thread-safe.
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


@contextlib.contextmanager
def _converted_errors() -> Iterator[None]:
    try:
        yield
    except _VENDOR_ERRORS as exc:
        raise _convert(exc) from exc


def _convert(exc: BaseException) -> RegistryError:
    """Map a vendor exception to a storage error whose detail says nothing internal."""
    error = _classify(exc)
    if not isinstance(error, BlobNotFound):  # an answer, not a failure
        STORAGE_ERRORS.labels(error.slug).inc()
    return error


def _classify(exc: BaseException) -> RegistryError:
    if isinstance(exc, RetriesExceededError):
        return StorageUnavailable("Media storage did not answer in time")
    # upload_file wraps client errors in S3UploadFailedError; the original is its context.
    original = exc
    if isinstance(exc, Boto3Error) and isinstance(exc.__context__, _VENDOR_ERRORS):
        original = exc.__context__
    if isinstance(original, ClientError):
        return _convert_client_error(original)
    if isinstance(original, BotocoreConnectionError | HTTPClientError | IncompleteReadError):
        return StorageUnavailable("Media storage could not be reached")
    return StorageError("Media storage failed")


def _convert_client_error(exc: ClientError) -> RegistryError:
    code = _error_code(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in _NOT_FOUND_CODES:
        return BlobNotFound()
    if code == "NoSuchBucket":
        return StorageError("The storage bucket does not exist")
    if status >= 500 or code in _TRANSIENT_CODES:
        return StorageUnavailable("Media storage answered with a server error")
    return StorageError("Media storage refused the request")


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
