"""A time and memory budget for every c2pa call: each runs in a pre-started helper process.

c2pa's cost is not bounded by the size of a file: it grows with the square of the number of
MP4 boxes (a 960 KB file of 120,000 boxes took 47 s to read) and with the number of PNG
chunks (100 MB of empty chunks: 41 s, +636 MB), and a native call cannot be interrupted from
Python. So calls run in helper processes (``registry/c2pa/helper.py``), a few per worker
process, started ahead of need and reused: one call at a time each, under ``RLIMIT_AS`` and
``RLIMIT_CPU`` set by the helper, and a wall-clock deadline kept here. A helper that overruns
is killed (SIGKILL) and replaced; the caller gets ``MediaOverBudget`` (422). A helper whose
address space grew by more than the budget's fixed part retires after its answer (freed
memory would be reused by the next call beyond its limit) and another is started at once.
Helpers run at a lower CPU priority (nice 5) than the worker's request threads.

The budget of a call grows with the size of its file (``Budget.for_size``): c2pa hashes every
byte and holds up to ~4x a file while signing it (measured: 115 MB WAV +442 MB address
space, 34 MB JPEG +209 MB), so a flat budget would refuse large real files.

What it costs, measured reading a signed 1 MP JPEG on the 2-vCPU VM (worker and helper CPU
together, medians): 3.10 ms against 2.53 ms in the worker, of which 0.24 ms is the bare
round trip through the pipes and 0.05 ms the structural pre-check; the helper caches its
c2pa Context (0.2 ms to make), which pays for part of the rest. A helper's idle memory is
~11 MB of its own (python and c2pa; their code pages are shared).

``metered`` adds up the c2pa CPU seconds a block of code used (the helper's own count; wall
time for a call that was killed): the anonymous verification budget charges them.
"""

from __future__ import annotations

import atexit
import base64
import json
import logging
import math
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.c2pa.errors import MediaOverBudget

log = logging.getLogger(__name__)

HELPER = Path(__file__).resolve().with_name("helper.py")
_HEADER = struct.Struct(">II")  # as registry/c2pa/helper.py: header and payload lengths
_GIB = 1024**3
_MIB = 1024**2


@dataclass(frozen=True)
class Budget:
    """What one c2pa call may use: ``seconds`` + ``seconds_per_gib`` per GiB of its file, wall
    clock; its address space may grow by ``memory_bytes`` + ``memory_per_byte`` per byte.

    The defaults, measured on the 2-vCPU VM (loaded, so with room): signing a 115 MB WAV, the
    slowest per byte, took 1.8-2.0 s and +442 MB; reading it back 0.2-0.3 s, +110 MB; a 34 MB
    JPEG took +209 MB to sign, the most per byte (6.2x); a 1 MP JPEG a few ms and +10 MB. So:
    5 s for the call's fixed part (~1000x a small file's time, ~25x the costliest small file
    the structural limits let through: an MP4 of 4,096 boxes, 0.2 s to sign), 60 s per GiB
    (~3x the slowest measured rate), 512 MB of fixed memory, 8x the file on top (~1.3x the
    most measured). ``workers`` helpers run at most that many calls of one worker process at
    once.
    """

    seconds: float = 5.0
    seconds_per_gib: float = 60.0
    # Watermarking and fingerprinting (registry/provenance/jobs.py) decode the media: a 1 MP
    # PNG takes ~0.5 s of CPU, 20-100x c2pa's own work on it, so a worker at load 10+ could
    # overrun c2pa's 5 s with a file that is not hostile. Their calls get this fixed part.
    provenance_seconds: float = 30.0
    memory_bytes: int = 512 * _MIB
    memory_per_byte: float = 8.0
    workers: int = 4

    def for_size(self, size: int, *, provenance: bool = False) -> tuple[float, int]:
        """The wall-clock seconds and the bytes of address space a call on ``size`` bytes gets
        (``provenance``: a watermarking or fingerprinting call)."""
        fixed = self.provenance_seconds if provenance else self.seconds
        return (
            fixed + self.seconds_per_gib * size / _GIB,
            int(self.memory_bytes + self.memory_per_byte * size),
        )


class HelperFailed(Exception):
    """The helper process ended during a call (``returncode``: how, when known; negative for
    a signal)."""

    def __init__(self, message: str, *, returncode: int | None) -> None:
        super().__init__(message)
        self.returncode = returncode


class _Deadline(Exception):
    pass


class _Stale(Exception):
    """The helper had ended before it was given the request."""


class Helper:
    """One helper process and the pipes to it; used by one thread at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter and our script
            [sys.executable, "-I", str(HELPER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None  # noqa: S101
        self._write_fd = self.process.stdin.fileno()
        self._read_fd = self.process.stdout.fileno()
        self._buffer = bytearray()
        self._poller = select.poll()
        self._poller.register(self._read_fd, select.POLLIN)

    def alive(self) -> bool:
        return self.process.poll() is None

    def call(
        self,
        request: dict[str, Any],
        *,
        deadline: float,
        on_callback: Callable[[bytes], bytes] | None = None,
    ) -> dict[str, Any]:
        """Send ``request``; the helper's answer. Callbacks (KMS signing) are answered here.

        Raises ``_Deadline`` at ``deadline`` (monotonic) and ``HelperFailed`` when the helper
        ends; the helper is of no further use after either.
        """
        try:
            self._send(request)
        except HelperFailed as exc:
            raise _Stale() from exc
        while True:
            message = self._receive(deadline)
            if message.get("kind") != "callback":
                return message
            reply = None  # the helper's signer then fails, and c2pa reports a signing error
            try:
                if on_callback is None:
                    raise RuntimeError("the helper asked for a signature nobody can give")
                reply = base64.b64encode(on_callback(base64.b64decode(message["data"]))).decode()
            except Exception:
                log.exception("signing for the c2pa helper failed")
            self._send({"op": "signature", "signature": reply})

    def kill(self) -> None:
        """End the helper now (SIGKILL) and collect it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._close_pipes()

    def forget(self) -> None:
        """In a forked child: drop the parent's pipes without touching its helper."""
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with suppress(OSError):
                    os.close(stream.fileno())
        self.process.returncode = 0  # so that Popen.__del__ leaves the parent's process alone

    def _close_pipes(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with suppress(OSError):
                    stream.close()

    def _send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message, separators=(",", ":")).encode()
        view = memoryview(_HEADER.pack(len(data), 0) + data)
        try:
            while view:
                view = view[os.write(self._write_fd, view) :]
        except OSError as exc:  # EPIPE: it has ended
            raise self._failed("the c2pa helper is gone") from exc

    def _receive(self, deadline: float) -> dict[str, Any]:
        """The next message; a raw payload is under ``"payload"`` (bytes)."""
        while True:
            if len(self._buffer) >= _HEADER.size:
                length, payload_length = _HEADER.unpack_from(self._buffer)
                end = _HEADER.size + length + payload_length
                if len(self._buffer) >= end:
                    message: dict[str, Any] = json.loads(
                        self._buffer[_HEADER.size : _HEADER.size + length]
                    )
                    if payload_length:
                        message["payload"] = bytes(self._buffer[end - payload_length : end])
                    del self._buffer[:end]
                    return message
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Deadline()
            if not self._poller.poll(max(1, math.ceil(left * 1000))):
                continue  # the deadline is checked above
            chunk = os.read(self._read_fd, 1 << 20)
            if not chunk:
                raise self._failed("the c2pa helper ended during the call")
            self._buffer += chunk

    def _failed(self, message: str) -> HelperFailed:
        try:
            returncode = self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            returncode = None
        self.kill()
        return HelperFailed(message, returncode=returncode)


class HelperPool:
    """Up to ``size`` helpers of this process: started ahead, lent to one call at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pid = os.getpid()
        self._idle: list[Helper] = []
        self._count = 0  # helpers that exist: idle or lent
        self._changed = threading.Condition()
        self._closed = False

    def start(self) -> None:
        """Start the helpers now (they load c2pa while the worker goes on)."""
        with self._changed:
            while self._count < self.size:
                self._idle.append(Helper())
                self._count += 1

    @contextmanager
    def helper(self) -> Iterator[Helper]:
        """A helper for one call. One that ends up dead is replaced by the next caller."""
        helper = self._acquire()
        try:
            yield helper
        finally:
            self._release(helper)

    def close(self) -> None:
        """Stop the idle helpers (at once: they hold nothing); lent ones stop when returned."""
        with self._changed:
            self._closed = True
            helpers, self._idle = self._idle, []
            self._count -= len(helpers)
            self._changed.notify_all()
        for helper in helpers:
            helper.kill()

    def forget(self) -> None:
        """In a forked child: the helpers are the parent's; close only our copies of the pipes."""
        for helper in self._idle:
            helper.forget()
        self._idle = []

    def _acquire(self) -> Helper:
        with self._changed:
            while True:
                if self._closed:
                    raise RuntimeError("the c2pa helper pool is closed")
                while self._idle:
                    helper = self._idle.pop()
                    if helper.alive():
                        return helper
                    helper.kill()  # it died idle (killed from outside): collect it
                    self._count -= 1
                if self._count < self.size:
                    self._count += 1
                    break
                self._changed.wait()
        try:
            return Helper()
        except BaseException:
            with self._changed:
                self._count -= 1
                self._changed.notify()
            raise

    def _release(self, helper: Helper) -> None:
        with self._changed:
            if helper.alive() and not self._closed:
                self._idle.append(helper)
                self._changed.notify()
                return
            self._count -= 1
        helper.kill()
        self._replace()

    def _replace(self) -> None:
        """Start a helper in place of one that ended, so that the next call finds it ready."""
        with self._changed:
            if self._closed or self._count >= self.size:
                self._changed.notify()
                return
            self._count += 1
        try:
            helper = Helper()
        except BaseException:
            with self._changed:
                self._count -= 1
                self._changed.notify()
            raise
        with self._changed:
            self._idle.append(helper)
            self._changed.notify()


_lock = threading.Lock()
_budget = Budget()
_pool: HelperPool | None = None


def configure(budget: Budget, *, start: bool = True) -> None:
    """Use ``budget`` for this process's calls from now on (``create_app`` calls this).

    A pool of another size replaces the old one; ``start`` starts the helpers now.
    """
    global _budget, _pool
    with _lock:
        _budget = budget
        if _pool is not None and (_pool.size != budget.workers or _pool.pid != os.getpid()):
            old, _pool = _pool, None
            if old.pid == os.getpid():
                old.close()
        if _pool is None:
            _pool = HelperPool(budget.workers)
        pool = _pool
    if start:
        pool.start()


def current_budget() -> Budget:
    return _budget


def _current_pool() -> HelperPool:
    global _pool
    with _lock:
        if _pool is None or _pool.pid != os.getpid():
            _pool = HelperPool(_budget.workers)
        return _pool


def call(
    request: dict[str, Any],
    *,
    size: int,
    provenance: bool = False,
    on_callback: Callable[[bytes], bytes] | None = None,
) -> dict[str, Any]:
    """Run one request in a helper under the budget for a file of ``size`` bytes
    (``provenance``: with the fixed part of a watermarking or fingerprinting call).

    Returns the helper's answer (a result or an error it reported). Raises
    ``MediaOverBudget`` when the call ran out of time or memory, and ``HelperFailed`` when the
    helper ended for another reason (a crash in c2pa).
    """
    budget = _budget
    seconds, memory = budget.for_size(size, provenance=provenance)
    # RLIMIT_CPU only backs up the deadline (which this process keeps), so it is lax: the
    # helper's hashing thread may use a second core beside c2pa.
    limits = {"memory": memory, "cpu": 2 * seconds + 1, "retain": budget.memory_bytes}
    request = {**request, "limits": limits}
    meter = _meter.get()
    for attempt in (1, 2):
        with _current_pool().helper() as helper:
            started = time.monotonic()
            try:
                answer = helper.call(request, deadline=started + seconds, on_callback=on_callback)
            except _Stale:
                if attempt == 1:
                    continue  # it died while idle (the OOM killer, an operator): take another
                raise HelperFailed("no c2pa helper could be started", returncode=None) from None
            except _Deadline:
                helper.kill()
                _charge(meter, time.monotonic() - started)
                raise MediaOverBudget(
                    f"Processing the file took longer than its budget of {seconds:.1f} s.",
                    limit="time",
                    seconds=round(seconds, 1),
                ) from None
            except HelperFailed as exc:
                _charge(meter, time.monotonic() - started)
                cause = _over_budget(exc.returncode, seconds=seconds, memory=memory)
                if cause is not None:
                    raise cause from exc
                log.error("the c2pa helper ended with status %s during a call", exc.returncode)
                raise
            _charge(meter, float(answer.get("cpu", 0.0)))
            if answer.get("retire"):
                helper.kill()  # it ends after this answer: never lend it again
            if answer.get("error") == "memory":
                raise _memory_exceeded(memory)
            return answer
    raise AssertionError("unreachable")


def _over_budget(returncode: int | None, *, seconds: float, memory: int) -> MediaOverBudget | None:
    if returncode == -signal.SIGXCPU:
        return MediaOverBudget(
            f"Processing the file used more CPU time than its budget of {seconds:.1f} s.",
            limit="time",
            seconds=round(seconds, 1),
        )
    # An allocation past RLIMIT_AS aborts c2pa (Rust's allocation-failure handler); SIGKILL
    # from anyone but us is the kernel's OOM killer.
    if returncode in (-signal.SIGABRT, -signal.SIGKILL):
        return _memory_exceeded(memory)
    return None


def _memory_exceeded(memory: int) -> MediaOverBudget:
    return MediaOverBudget(
        f"Processing the file needed more memory than its budget of {memory // _MIB} MB.",
        limit="memory",
        memory_mb=memory // _MIB,
    )


# --- Metering: the c2pa seconds a block of code used ----------------------------------------

_meter: ContextVar[list[float] | None] = ContextVar("c2pa_meter", default=None)


class Meter:
    """The c2pa seconds used inside a ``metered`` block, so far."""

    def __init__(self, cell: list[float]) -> None:
        self._cell = cell

    @property
    def seconds(self) -> float:
        return self._cell[0]


@contextmanager
def metered() -> Iterator[Meter]:
    """Count the c2pa seconds of the calls made inside the block (in this thread)."""
    cell = [0.0]
    token = _meter.set(cell)
    try:
        yield Meter(cell)
    finally:
        _meter.reset(token)


def _charge(meter: list[float] | None, seconds: float) -> None:
    if meter is not None:
        meter[0] += seconds


# --- Process lifetime ------------------------------------------------------------------------


def _after_fork_in_child() -> None:
    global _pool, _lock
    _lock = threading.Lock()  # another thread may have held it at the fork
    if _pool is not None:
        _pool.forget()
        _pool = None


def _at_exit() -> None:
    pool = _pool
    if pool is not None and pool.pid == os.getpid():
        pool.close()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)
