"""The c2pa helper process: reads and signs files for ``registry.c2pa.budget``, one call at a time.

Started by ``budget.Helper`` as ``python -I registry/c2pa/helper.py`` (a script, so that the
``registry`` package's ``__init__`` and its settings, ORM and web stack are not imported:
this process holds c2pa and little else, ~11 MB of private memory when idle). It reads
requests from fd 0 and answers on fd 1; c2pa's own output cannot reach the channel (fd 1 is
moved away at start).

Each call runs under the limits the request carries, set with ``setrlimit`` just before it:
``RLIMIT_AS`` (the address space c2pa may grow by) and ``RLIMIT_CPU`` (CPU seconds). An
allocation past the first makes c2pa abort; CPU past the second is SIGXCPU; either ends this
process, and the parent, which also keeps the wall-clock deadline, reports the budget as
exceeded and starts another helper. No core files are written.

Messages (``Channel``), parent to helper: ``{"op": "read" | "sign", ...}`` (see ``_read`` and
``_sign``), ``{"op": "provenance", ...}`` (marking and fingerprinting media:
``registry.provenance.jobs``, whose libraries are loaded on the first such call, outside any
limit, and counted in the baseline), and ``{"op": "signature", ...}`` answering a
``callback`` (a KMS credential signs in the parent: the helper never sees that key). Helper
to parent: ``{"kind": "result", ...}`` (a manifest store as the raw payload),
``{"kind": "error", "error": "c2pa" | "signer" | "os" | "memory" | "internal", ...}`` and
``{"kind": "callback", "data": ...}``. Every answer carries ``cpu``: the CPU seconds the call
used.
"""

from __future__ import annotations

import base64
import io
import json
import os
import resource
import signal
import struct
import sys
import types
from pathlib import Path
from typing import Any

_HEADER = struct.Struct(">II")
_REGISTRY_DIR = Path(__file__).resolve().parent.parent

_NICENESS = 5


class Channel:
    """Messages over two file descriptors: the lengths of a JSON header and of a raw payload
    (4 bytes each, big-endian), then both. The payload carries bulk bytes (a manifest store's
    JSON) that would cost more to escape into the header than to send as they are."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd

    def send(self, message: dict[str, Any], payload: bytes = b"") -> None:
        data = json.dumps(message, separators=(",", ":")).encode()
        view = memoryview(_HEADER.pack(len(data), len(payload)) + data + payload)
        while view:
            view = view[os.write(self.write_fd, view) :]

    def receive(self) -> dict[str, Any] | None:
        """The next message (its payload, if any, under ``"payload"``); None when the parent
        has gone."""
        header = self._exactly(_HEADER.size)
        if header is None:
            return None
        length, payload_length = _HEADER.unpack(header)
        data = self._exactly(length + payload_length)
        if data is None:
            return None
        message: dict[str, Any] = json.loads(data[:length])
        if payload_length:
            message["payload"] = data[length:]
        return message

    def _exactly(self, size: int) -> bytes | None:
        parts, left = [], size
        while left:
            part = os.read(self.read_fd, left)
            if not part:
                return None
            parts.append(part)
            left -= len(part)
        return b"".join(parts)


def main() -> None:
    # fd 0 and 1 are the channel; anything c2pa or Python prints goes to stderr instead.
    channel = Channel(os.dup(0), os.dup(1))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Ctrl-C in a terminal reaches the whole process group; this process ends when its
    # parent does (its input closes), not before.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # c2pa's work is the bulk work of a request; the worker's threads answer the rest
    # (/healthz, status reads, receiving uploads) and come first when the cores are busy.
    os.nice(_NICENESS)
    _import_registry_modules()
    from registry import malloc  # as the workers' heap (registry/malloc.py)

    heap = malloc.tune()
    import c2pa  # after the malloc tuning: its allocations come from the tuned heap

    # One call at a time: NumPy's BLAS needs no thread (nor the address space of its buffers).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    baseline = _address_space()
    provenance_loaded = False
    while (request := channel.receive()) is not None:
        if request.get("op") == "provenance" and not provenance_loaded:
            from registry.provenance import jobs

            jobs.load()
            provenance_loaded, baseline = True, _address_space()
        started = _cpu_seconds()
        try:
            _apply_limits(request.get("limits", {}))
            answer = _handle(c2pa, channel, request)
        except MemoryError:
            answer = {"kind": "error", "error": "memory", "message": "out of memory"}
        except RuntimeError as exc:
            # A thread's stack (the digest thread) is address space too.
            kind = "memory" if "can't start new thread" in str(exc) else "internal"
            answer = {"kind": "error", "error": kind, "message": repr(exc)}
        except c2pa.C2paError as exc:
            answer = {"kind": "error", "error": "c2pa", "name": _c2pa_name(c2pa, exc)}
            answer["message"] = str(exc)
        except _SignerError as exc:
            answer = {"kind": "error", "error": "signer", "message": str(exc)}
        except OSError as exc:
            answer = {"kind": "error", "error": "os", "message": str(exc)}
        except Exception as exc:  # a bug here: the parent answers 500
            answer = {"kind": "error", "error": "internal", "message": repr(exc)}
        answer["cpu"] = _cpu_seconds() - started
        # After a MemoryError nothing here is to be trusted. A helper whose address space grew
        # by more than ``retain`` would give the next call that much on top of its budget
        # (freed memory is reused before the limit is reached): it makes way for a fresh one.
        retain = request.get("limits", {}).get("retain")
        answer["retire"] = answer.get("error") == "memory" or bool(
            retain and _address_space() > baseline + int(retain)
        )
        payload = answer.pop("payload", b"")
        channel.send(answer, payload)
        if answer["retire"]:
            return
        if heap is not None:
            heap.release()  # once the answer has been sent


def _import_registry_modules() -> None:
    """Make ``registry.intake.spool`` importable without running ``registry/__init__.py``."""
    package = types.ModuleType("registry")
    package.__path__ = [str(_REGISTRY_DIR)]
    sys.modules.setdefault("registry", package)


class _SignerError(Exception):
    """The credential could not be made into a c2pa signer."""


def _handle(c2pa: Any, channel: Channel, request: dict[str, Any]) -> dict[str, Any]:
    if request["op"] == "read":
        store = _read(c2pa, request)
        if store is None:
            return {"kind": "result", "store": False}
        return {"kind": "result", "store": True, "payload": store.encode()}
    if request["op"] == "sign":
        digest, manifest_store = _sign(c2pa, channel, request)
        return {"kind": "result", "digest": digest, "payload": manifest_store}
    if request["op"] == "provenance":
        from registry.provenance import jobs

        return jobs.run(request)
    raise ValueError(f"unknown operation {request['op']!r}")


def _read(c2pa: Any, request: dict[str, Any]) -> str | None:
    """The manifest store's JSON, or None when the file has no C2PA data."""
    try:
        with (
            open(request["path"], "rb") as stream,
            c2pa.Reader(
                request["mime_type"], stream, context=_context(c2pa, request["settings"])
            ) as reader,
        ):
            manifest_store: str = reader.json()
            return manifest_store
    except c2pa.C2paError.ManifestNotFound:
        return None


def _sign(c2pa: Any, channel: Channel, request: dict[str, Any]) -> tuple[list[Any] | None, bytes]:
    """Sign ``source`` into ``dest``; the SHA-256 and size of what was written, if known, and
    the manifest store c2pa embedded (its JUMBF bytes, ``application/c2pa``)."""
    from registry.intake.spool import CHUNK, DigestingSink

    with (
        c2pa.Builder(request["definition"], context=_context(c2pa, request["settings"])) as builder,
        _signer(c2pa, channel, request["signer"]) as signer,
        open(request["source"], "rb", buffering=CHUNK) as source,
        # c2pa writes BMFF (MP4, MOV, M4A) 8 KiB at a time, each write a ctypes callback:
        # with Python's default 8 KiB buffer every one of them is also a system call.
        io.BufferedRandom(io.FileIO(request["dest"], "w+"), CHUNK) as dest,
    ):
        sink = DigestingSink(dest, hashing=request["hashing"])
        try:
            manifest_store = bytes(builder.sign(signer, request["mime_type"], source, sink))
            digest = sink.digest()
        finally:
            sink.close()
    return (list(digest) if digest is not None else None), manifest_store


_contexts: dict[str, Any] = {}
_MAX_CONTEXTS = 8


def _context(c2pa: Any, settings: dict[str, Any]) -> Any:
    """A c2pa Context for ``settings``, kept for the next call with the same ones.

    Making one costs ~0.2 ms, a tenth of reading a 1 MP JPEG; the settings rarely change
    (trust anchors, thumbnails). This process has one thread and made them itself, so the
    reasons the worker made them per call (threads, fork) do not apply here.
    """
    key = json.dumps(settings, sort_keys=True)
    context = _contexts.get(key)
    if context is None:
        if len(_contexts) >= _MAX_CONTEXTS:
            for old in _contexts.values():
                old.close()
            _contexts.clear()
        context = _contexts[key] = c2pa.Context.from_dict(settings)
    return context


def _signer(c2pa: Any, channel: Channel, spec: dict[str, Any]) -> Any:
    """A native signer: from a PEM key, or one that asks the parent to sign (KMS)."""
    try:
        chain = base64.b64decode(spec["chain"])
        if spec["kind"] == "callback":
            return c2pa.Signer.from_callback(
                _callback(channel),
                c2pa.C2paSigningAlg.ES256,
                chain.decode("ascii"),
                spec.get("tsa_url"),
            )
        info = c2pa.C2paSignerInfo(
            spec["alg"].encode(),
            chain,
            base64.b64decode(spec["key"]),
            spec["tsa_url"].encode() if spec.get("tsa_url") else None,
        )
        return c2pa.Signer.from_info(info)
    except (c2pa.C2paError, ValueError, TypeError) as exc:
        raise _SignerError(f"c2pa rejected the signing credential: {exc}") from exc


def _callback(channel: Channel) -> Any:
    def sign(data: bytes) -> bytes:
        channel.send({"kind": "callback", "data": base64.b64encode(data).decode()})
        answer = channel.receive()
        if answer is None:
            raise SystemExit(0)  # the parent has gone
        if answer.get("op") != "signature" or answer.get("signature") is None:
            raise RuntimeError("the parent could not sign")  # c2pa reports a signing failure
        return base64.b64decode(answer["signature"])

    return sign


def _apply_limits(limits: dict[str, Any]) -> None:
    """``RLIMIT_AS`` and ``RLIMIT_CPU`` for the coming call: its address space may grow by
    ``memory`` bytes, it may use ``cpu`` seconds. They stay in place after the call (the idle
    helper allocates nothing) until the next call sets its own."""
    memory, cpu = limits.get("memory"), limits.get("cpu")
    _set_soft(resource.RLIMIT_AS, _address_space() + int(memory) if memory else None)
    _set_soft(resource.RLIMIT_CPU, int(_cpu_seconds() + float(cpu)) + 1 if cpu else None)


def _set_soft(which: int, value: int | None) -> None:
    """Set the soft limit (None: as high as the hard limit)."""
    _, hard = resource.getrlimit(which)
    if value is None or (hard != resource.RLIM_INFINITY and value > hard):
        value = hard
    resource.setrlimit(which, (value, hard))


_statm: list[int] = []  # /proc/self/statm, opened once: one pread per call


def _address_space() -> int:
    """The process's address space in bytes (the first field of statm, in pages)."""
    if not _statm:
        _statm.append(os.open("/proc/self/statm", os.O_RDONLY))
    return int(os.pread(_statm[0], 128, 0).split()[0]) * resource.getpagesize()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _c2pa_name(c2pa: Any, exc: Exception) -> str:
    """The ``c2pa.C2paError`` attribute naming the exception's class (``"Io"``, ...)."""
    for name in dir(c2pa.C2paError):
        if type(exc) is getattr(c2pa.C2paError, name, None):
            return name
    return ""


if __name__ == "__main__":
    main()
