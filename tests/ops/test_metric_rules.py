"""The edges of what the metrics count (registry/metrics.py and its hooks)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError
from prometheus_client import REGISTRY

from registry.db import create_db_engine
from registry.errors import ServiceUnavailable, TooManyRequests
from registry.metrics import media_type_label
from registry.ratelimit import AddressRateLimit
from registry.storage.s3 import _convert
from registry.webhooks.sender import Outcome
from registry.webhooks.worker import outcome_label


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (200, "delivered"),
        (299, "delivered"),
        (300, "refused"),
        (199, "refused"),
        (410, "gone"),
        (500, "refused"),
        (None, "unreachable"),
    ],
)
def test_each_delivery_outcome_has_one_label(status: int | None, label: str) -> None:
    assert outcome_label(Outcome(status, None if status else "refused", 5)) == label


@pytest.mark.parametrize(
    ("mime", "label"),
    [
        ("image/png", "image/png"),
        ("Audio/MPEG; x=1", "audio/mpeg"),
        (None, "unknown"),
        ("", "unknown"),
        ("png", "unknown"),
        ("a/" + "b" * 62, "a/" + "b" * 62),
        ("a/" + "b" * 63, "unknown"),
    ],
)
def test_media_type_labels_are_bounded(mime: str | None, label: str) -> None:
    assert media_type_label(mime) == label


def test_a_rate_limit_refusal_is_counted_once() -> None:
    limit = AddressRateLimit(
        "1/minute", storage="memory://", key_prefix="metric-rules", scope="anonymous-verify"
    )
    before = value("registry_rate_limit_rejections_total", limit="anonymous-verify")
    limit.hit("192.0.2.1")  # within the limit: not counted
    assert value("registry_rate_limit_rejections_total", limit="anonymous-verify") == before
    with pytest.raises(TooManyRequests):
        limit.hit("192.0.2.1")
    assert value("registry_rate_limit_rejections_total", limit="anonymous-verify") == before + 1


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject"
    )


def test_storage_failures_are_counted_and_a_missing_object_is_not() -> None:
    unavailable = value("registry_storage_errors_total", kind="storage-unavailable")
    _convert(_client_error("NoSuchKey", 404))
    assert value("registry_storage_errors_total", kind="storage-unavailable") == unavailable
    _convert(_client_error("InternalError", 500))
    assert value("registry_storage_errors_total", kind="storage-unavailable") == unavailable + 1


def test_an_unreachable_database_is_counted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_db_engine(f"sqlite:///{tmp_path}/missing/dir/x.db", pool_size=1)
    before = value("registry_database_errors_total", kind="OperationalError")
    with pytest.raises(ServiceUnavailable), engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    assert value("registry_database_errors_total", kind="OperationalError") == before + 1
    engine.dispose()
