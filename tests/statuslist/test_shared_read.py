"""SharedRead: threads arriving during a read share the next one, never an older one."""

from __future__ import annotations

import threading
import time

import pytest

from registry.statuslist.publish import SharedRead


class Source:
    """A value that changes with every read; the first read can be held open."""

    def __init__(self) -> None:
        self.reads = 0
        self.hold = threading.Event()
        self.entered = threading.Event()
        self.fail = False

    def __call__(self) -> int:
        self.reads += 1
        number = self.reads
        self.entered.set()
        if number == 1:
            assert self.hold.wait(10)
        if self.fail:
            raise RuntimeError(f"read {number} failed")
        return number


def test_callers_arriving_during_a_read_share_the_next_read() -> None:
    source = Source()
    shared = SharedRead(source)
    results: dict[str, int] = {}
    first = threading.Thread(target=lambda: results.__setitem__("first", shared()))
    first.start()
    assert source.entered.wait(10)  # read 1 is under way
    late = [
        threading.Thread(target=lambda i=i: results.__setitem__(f"late{i}", shared()))
        for i in range(5)
    ]
    for thread in late:
        thread.start()
    time.sleep(0.2)  # let them all queue behind read 1
    source.hold.set()
    for thread in [first, *late]:
        thread.join(10)
    assert results["first"] == 1
    assert {results[f"late{i}"] for i in range(5)} == {2}  # read after they arrived
    assert source.reads == 2
    assert shared() == 3  # alone: a fresh read


def test_a_failed_read_fails_its_callers_and_the_next_call_reads_again() -> None:
    source = Source()
    source.hold.set()
    source.fail = True
    shared = SharedRead(source)
    with pytest.raises(RuntimeError, match="read 1 failed"):
        shared()
    source.fail = False
    assert shared() == 2
