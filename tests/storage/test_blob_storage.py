"""BlobStorage behaviour, specified once and run against both backends (local dir, real S3)."""

from __future__ import annotations

import hashlib
import os
import random
import re
import socket
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from registry.settings import Settings
from registry.storage import (
    BlobNotFound,
    BlobStorage,
    LocalBlobStorage,
    S3BlobStorage,
    StorageError,
    StorageUnavailable,
    build_storage,
    media_key,
)
from tests.s3server import S3Server, empty_and_delete_bucket

MIB = 1024 * 1024
SMALL_MULTIPART_THRESHOLD = 5 * MIB
DIGEST = hashlib.sha256(b"a signed clip").hexdigest()
BAD_KEYS = ["../x", "/abs", "a\\b", "a/../b", "", "a\x00b", "media/./x", "a//b", "a/"]


def _use_dummy_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # The backend builds its own client from boto3's usual environment, as in production.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "any")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "any")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStorage:
    """Each backend in turn, empty, with a multipart threshold low enough to exercise it."""
    if request.param == "local":
        return LocalBlobStorage(root=tmp_path / "blobs")
    return request.getfixturevalue("s3_storage")


@pytest.fixture
def s3_storage(
    s3_server: S3Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> S3BlobStorage:
    _use_dummy_aws_credentials(monkeypatch)
    return S3BlobStorage(
        bucket=s3_bucket,
        endpoint_url=s3_server.endpoint_url,
        multipart_threshold_bytes=SMALL_MULTIPART_THRESHOLD,
    )


@pytest.fixture
def closed_port_storage(monkeypatch: pytest.MonkeyPatch) -> S3BlobStorage:
    """An S3 backend whose endpoint is a loopback port nobody listens on."""
    _use_dummy_aws_credentials(monkeypatch)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return S3BlobStorage(bucket="unreachable", endpoint_url=f"http://127.0.0.1:{port}")


def _write_random_file(path: Path, size: int) -> str:
    """Write ``size`` pseudo-random bytes in 1 MiB chunks; return their SHA-256."""
    rng = random.Random(size)  # noqa: S311 - test data, not secrets
    digest = hashlib.sha256()
    with open(path, "wb") as sink:
        for _ in range(size // MIB):
            chunk = rng.randbytes(MIB)
            digest.update(chunk)
            sink.write(chunk)
    return digest.hexdigest()


def _sha256_of_stream(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(MIB):
        digest.update(chunk)
    return digest.hexdigest()


def test_put_file_then_open_returns_the_same_bytes(storage: BlobStorage, tmp_path: Path) -> None:
    source = tmp_path / "clip.wav"
    source.write_bytes(b"RIFF" + bytes(range(256)) * 40)
    storage.put_file("media/ab/clip.wav", source, "audio/wav")
    with storage.open("media/ab/clip.wav") as stream:
        assert stream.read(4) == b"RIFF"
        assert stream.read() == bytes(range(256)) * 40


def test_put_bytes_then_download_to_writes_the_same_bytes(
    storage: BlobStorage, tmp_path: Path
) -> None:
    storage.put_bytes("evidence/rider.pdf", b"%PDF-1.7 signed rider", "application/pdf")
    target = tmp_path / "out" / "rider.pdf"
    storage.download_to("evidence/rider.pdf", target)
    assert target.read_bytes() == b"%PDF-1.7 signed rider"


def test_large_file_round_trips_intact(
    storage: BlobStorage, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    source = tmp_path / "large.bin"
    expected = _write_random_file(source, 40 * MIB)
    storage.put_file("media/la/large.bin", source, "application/octet-stream")
    downloaded = tmp_path / "downloaded.bin"
    storage.download_to("media/la/large.bin", downloaded)
    with open(downloaded, "rb") as local_copy:
        assert _sha256_of_stream(local_copy) == expected
    with storage.open("media/la/large.bin") as stream:
        assert _sha256_of_stream(stream) == expected
    assert storage.size("media/la/large.bin") == 40 * MIB
    if isinstance(storage, S3BlobStorage):
        # A multipart upload's ETag is "<md5 of part md5s>-<number of parts>".
        client = request.getfixturevalue("s3_server").client()
        etag = client.head_object(Bucket=storage.bucket, Key="media/la/large.bin")["ETag"]
        assert re.fullmatch(r'"[0-9a-f]{32}-8"', etag), etag


def test_overwriting_a_key_replaces_its_content(storage: BlobStorage) -> None:
    storage.put_bytes("media/ow/x.bin", b"first version", "application/octet-stream")
    storage.put_bytes("media/ow/x.bin", b"second", "application/octet-stream")
    with storage.open("media/ow/x.bin") as stream:
        assert stream.read() == b"second"
    assert storage.size("media/ow/x.bin") == len(b"second")


def test_exists_size_and_delete_follow_the_blob(storage: BlobStorage) -> None:
    assert not storage.exists("media/ex/x.bin")
    storage.put_bytes("media/ex/x.bin", b"12345", "application/octet-stream")
    assert storage.exists("media/ex/x.bin")
    assert storage.size("media/ex/x.bin") == 5
    storage.delete("media/ex/x.bin")
    assert not storage.exists("media/ex/x.bin")
    assert storage.list_keys("") == []


def test_deleting_a_missing_key_is_not_an_error(storage: BlobStorage) -> None:
    storage.delete("media/no/such.bin")
    assert storage.list_keys("") == []


def test_a_key_prefix_is_not_itself_a_blob(storage: BlobStorage) -> None:
    storage.put_bytes("media/aa/x.bin", b"x", "application/octet-stream")
    assert not storage.exists("media/aa")
    assert not storage.exists("media")
    with pytest.raises(BlobNotFound):
        storage.open("media/aa")


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda storage, path: storage.open("media/no/such.bin"), id="open"),
        pytest.param(lambda storage, path: storage.size("media/no/such.bin"), id="size"),
        pytest.param(
            lambda storage, path: storage.download_to("media/no/such.bin", path),
            id="download_to",
        ),
    ],
)
def test_missing_key_raises_blob_not_found(
    storage: BlobStorage, tmp_path: Path, operation: Callable[[BlobStorage, Path], Any]
) -> None:
    target = tmp_path / "target.bin"
    with pytest.raises(BlobNotFound) as raised:
        operation(storage, target)
    assert raised.value.status == 404
    assert raised.value.slug == "blob-not-found"
    assert not target.exists()


def test_presigned_url_serves_the_blob_on_s3_and_is_none_locally(storage: BlobStorage) -> None:
    storage.put_bytes("media/ps/x.bin", b"presigned bytes", "application/octet-stream")
    url = storage.presigned_url("media/ps/x.bin", 60)
    if isinstance(storage, LocalBlobStorage):
        assert url is None
        return
    assert url is not None
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback URL we signed
        assert response.read() == b"presigned bytes"


def test_list_keys_returns_keys_under_the_prefix_only(storage: BlobStorage) -> None:
    for key in ["media/aa/1.bin", "media/ab/2.bin", "media/b0/3.bin", "evidence/4.pdf"]:
        storage.put_bytes(key, b"x", "application/octet-stream")
    assert storage.list_keys("media/a") == ["media/aa/1.bin", "media/ab/2.bin"]
    assert storage.list_keys("media/") == ["media/aa/1.bin", "media/ab/2.bin", "media/b0/3.bin"]
    assert storage.list_keys("evidence/4.pdf") == ["evidence/4.pdf"]
    assert storage.list_keys("nothing/") == []
    assert len(storage.list_keys("")) == 4


def test_a_media_key_is_a_valid_storage_key(storage: BlobStorage) -> None:
    key = media_key(DIGEST, "mp4")
    storage.put_bytes(key, b"clip", "video/mp4")
    assert storage.list_keys("media/") == [key]


@pytest.mark.parametrize("bad_key", BAD_KEYS)
def test_bad_key_is_rejected_and_nothing_is_written(storage: BlobStorage, bad_key: str) -> None:
    with pytest.raises(ValueError):
        storage.put_bytes(bad_key, b"x", "application/octet-stream")
    assert storage.list_keys("") == []


@pytest.mark.parametrize("bad_key", ["../x", "/abs", "a\\b"])
def test_bad_key_is_rejected_by_reads_and_deletes(
    storage: BlobStorage, bad_key: str, tmp_path: Path
) -> None:
    for operation in (storage.open, storage.exists, storage.size, storage.delete):
        with pytest.raises(ValueError):
            operation(bad_key)
    with pytest.raises(ValueError):
        storage.download_to(bad_key, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_check_passes_on_a_live_backend(storage: BlobStorage) -> None:
    storage.check()


def test_media_key_is_content_addressed() -> None:
    assert media_key(DIGEST, "mp4") == f"media/{DIGEST[:2]}/{DIGEST}.mp4"
    assert media_key(DIGEST.upper(), "JPG") == f"media/{DIGEST[:2]}/{DIGEST}.jpg"


@pytest.mark.parametrize(
    ("digest", "ext"),
    [("abc", "mp4"), ("g" * 64, "mp4"), (DIGEST, ".mp4"), (DIGEST, "mp4/../x"), (DIGEST, "")],
)
def test_media_key_rejects_bad_digest_or_extension(digest: str, ext: str) -> None:
    with pytest.raises(ValueError):
        media_key(digest, ext)


def test_local_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    storage = LocalBlobStorage(root=tmp_path / "blobs")
    source = tmp_path / "clip.bin"
    source.write_bytes(b"x" * 1000)
    storage.put_file("media/tm/clip.bin", source, "application/octet-stream")
    storage.put_bytes("media/tm/other.bin", b"y", "application/octet-stream")
    names = sorted(name for _, _, files in os.walk(tmp_path / "blobs") for name in files)
    assert names == ["clip.bin", "other.bin"]


def test_local_check_fails_when_the_directory_is_gone(tmp_path: Path) -> None:
    storage = LocalBlobStorage(root=tmp_path / "blobs")
    (tmp_path / "blobs").rmdir()
    with pytest.raises(StorageUnavailable):
        storage.check()


def test_s3_stores_the_content_type(s3_storage: S3BlobStorage, s3_server: S3Server) -> None:
    s3_storage.put_bytes("media/ct/x.mp4", b"clip", "video/mp4")
    head = s3_server.client().head_object(Bucket=s3_storage.bucket, Key="media/ct/x.mp4")
    assert head["ContentType"] == "video/mp4"


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda s: s.put_bytes("media/x.bin", b"x", "text/plain"), id="put_bytes"),
        pytest.param(lambda s: s.open("media/x.bin"), id="open"),
        pytest.param(lambda s: s.size("media/x.bin"), id="size"),
        pytest.param(lambda s: s.exists("media/x.bin"), id="exists"),
        pytest.param(lambda s: s.list_keys("media/"), id="list_keys"),
        pytest.param(lambda s: s.check(), id="check"),
    ],
)
def test_unreachable_s3_raises_storage_unavailable_quickly(
    closed_port_storage: S3BlobStorage, operation: Callable[[S3BlobStorage], Any]
) -> None:
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as raised:
        operation(closed_port_storage)
    # Refused connections and botocore's few retries take about 1 s on a quiet machine; the
    # bound is loose because two shared vCPUs at load 10+ stretch it (5.8 s seen), yet it
    # still tells apart botocore's default retrying, which takes minutes.
    assert time.monotonic() - started < 15
    assert raised.value.status == 503
    assert "127.0.0.1" not in raised.value.detail  # no internals in what a client may see
    assert raised.value.__cause__ is not None


def test_unreachable_s3_upload_raises_storage_unavailable(
    closed_port_storage: S3BlobStorage, tmp_path: Path
) -> None:
    source = tmp_path / "large.bin"
    _write_random_file(source, 6 * MIB)
    with pytest.raises(StorageUnavailable):
        closed_port_storage.put_file("media/x.bin", source, "application/octet-stream")


def test_missing_bucket_is_a_storage_error_and_not_ready(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_dummy_aws_credentials(monkeypatch)
    storage = S3BlobStorage(
        bucket=f"missing-{uuid.uuid4().hex[:12]}", endpoint_url=s3_server.endpoint_url
    )
    with pytest.raises(StorageError) as raised:
        storage.put_bytes("media/x.bin", b"x", "text/plain")
    assert raised.value.status == 500
    assert raised.value.detail == "The storage bucket does not exist"
    source = tmp_path / "large.bin"
    _write_random_file(source, 20 * MIB)  # above the 16 MiB default: a multipart upload
    with pytest.raises(StorageError):
        storage.put_file("media/large.bin", source, "application/octet-stream")
    with pytest.raises(StorageUnavailable):
        storage.check()


def test_build_storage_creates_the_configured_s3_bucket(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_dummy_aws_credentials(monkeypatch)
    bucket = f"built-{uuid.uuid4().hex[:12]}"
    settings = Settings(storage="s3", s3_bucket=bucket, s3_endpoint_url=s3_server.endpoint_url)
    try:
        storage = build_storage(settings)
        build_storage(settings)  # a second worker finds the bucket already there
        assert isinstance(storage, S3BlobStorage)
        storage.check()
    finally:
        empty_and_delete_bucket(s3_server.client(), bucket)


def test_build_storage_defaults_to_a_local_directory(tmp_path: Path) -> None:
    storage = build_storage(Settings(data_dir=tmp_path))
    assert isinstance(storage, LocalBlobStorage)
    assert storage.root == tmp_path.absolute() / "blobs"


def test_build_storage_refuses_s3_without_a_bucket() -> None:
    with pytest.raises(ValueError, match="REGISTRY_S3_BUCKET"):
        build_storage(Settings(storage="s3", s3_bucket=None))


def test_an_s3_outage_is_unavailable_even_mid_read_and_blobs_survive_it(
    s3_storage: S3BlobStorage, s3_server: S3Server, tmp_path: Path
) -> None:
    s3_storage.put_bytes("media/rs/small.bin", b"durable", "application/octet-stream")
    source = tmp_path / "large.bin"
    _write_random_file(source, 32 * MIB)  # more than socket buffers hold
    s3_storage.put_file("media/rs/large.bin", source, "application/octet-stream")
    stream = s3_storage.open("media/rs/large.bin")
    stream.read(MIB)
    s3_server.kill()
    try:
        with pytest.raises(StorageUnavailable), stream:
            while stream.read(MIB):
                pass
        with pytest.raises(StorageUnavailable):
            s3_storage.open("media/rs/small.bin")
        with pytest.raises(StorageUnavailable):
            s3_storage.check()
    finally:
        s3_server.start()
    with s3_storage.open("media/rs/small.bin") as small:
        assert small.read() == b"durable"
