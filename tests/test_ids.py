"""Ids are UUIDv7 that sort by creation, also within one millisecond."""

from __future__ import annotations

import uuid

from registry.ids import new_id


def test_ids_made_one_after_another_sort_in_that_order() -> None:
    ids = [new_id() for _ in range(20_000)]  # many per millisecond
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_an_id_is_a_version_7_rfc_9562_uuid_of_now() -> None:
    import time

    before = time.time_ns() // 1_000_000
    value = uuid.UUID(new_id())
    after = time.time_ns() // 1_000_000
    assert (value.version, value.variant) == (7, uuid.RFC_4122)
    assert before <= value.int >> 80 <= after
