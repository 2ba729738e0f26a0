"""Provenance work runs in the c2pa helper processes, under the same budget as c2pa.

Marking an image, fingerprinting a file and reading a watermark decode media (Pillow, PyAV's
FFmpeg, OpenCV): the costly, crash-prone part of durable provenance, and for verification it
is done on files anybody may upload. So it runs where c2pa runs (``registry/c2pa/helper.py``,
``registry/c2pa/budget.py``): a file that would take too long or too much memory gets
``MediaOverBudget`` (422), a decoder that crashes ends a helper rather than a worker, and the
helper's CPU seconds are charged to an anonymous caller's c2pa budget like c2pa's own.

Two sides in one module, so that the request and its answer are read and written in one place:

- the worker calls ``mark_and_fingerprint`` (signing: embed the watermark, then fingerprint
  the marked file) and ``probe`` (verification: fingerprint a file and read its watermark);
  each is one helper call, whose answer carries the CPU seconds it used (``cpu_seconds``,
  which ``benchmarks/fingerprint_lookup.py`` compares with c2pa signing);
- the helper calls ``load`` once, before its first provenance call (the libraries reserve
  ~570 MB of address space; the helper then measures its baseline again), and ``run``.
"""

from __future__ import annotations

import base64
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.c2pa import budget
from registry.errors import InternalError, RegistryError
from registry.intake.errors import UnsupportedMedia
from registry.provenance.errors import (
    FingerprinterUnavailable,
    UndecodableMedia,
    WatermarkNotEmbeddable,
)
from registry.provenance.fingerprints import Fingerprint, Kind, Region, Scope

OP = "provenance"
# What a helper may report, by class name (anything else is a 500).
_REPORTED: dict[str, type[RegistryError]] = {
    cls.__name__: cls
    for cls in (
        UndecodableMedia,
        FingerprinterUnavailable,
        WatermarkNotEmbeddable,
        UnsupportedMedia,
    )
}


@dataclass(frozen=True)
class Provenance:
    """What signing embeds and indexes: the file to sign (the marked copy, or the source when
    no mark could be embedded), its fingerprints, and the watermark key if one was embedded."""

    path: Path
    fingerprints: list[Fingerprint]
    watermark_key: bytes | None
    watermark_skipped: str | None  # why not: too_small, not_readable, unsupported; or None
    cpu_seconds: float

    @classmethod
    def absent(cls, path: Path) -> Provenance:
        """Nothing to bind: the file is signed as it is."""
        return cls(path, [], None, "undecodable", 0.0)


@dataclass(frozen=True)
class Probe:
    """A file's fingerprints and, for an image, the watermark key read from it (if any)."""

    fingerprints: list[Fingerprint]
    watermark_key: bytes | None
    cpu_seconds: float


def mark_and_fingerprint(
    *, source: Path, dest: Path, kind: Kind, watermark_key: bytes | None
) -> Provenance:
    """Embed ``watermark_key`` in a copy of the image ``source`` written to ``dest`` (images
    only; a picture that cannot carry the mark is signed without it), then fingerprint what
    will be signed. Raises ``UndecodableMedia`` (422) and the budget's ``MediaOverBudget``."""
    mark = None
    if watermark_key is not None and kind == "image":
        mark = {"key": watermark_key.hex(), "dest": os.fspath(dest.absolute())}
    answer, cpu = _call({"path": os.fspath(source.absolute()), "kind": kind, "mark": mark}, source)
    marked = bool(answer.get("marked"))
    return Provenance(
        path=dest if marked else source,
        fingerprints=[_decode(item) for item in answer["fingerprints"]],
        watermark_key=watermark_key if marked else None,
        watermark_skipped=answer.get("skipped"),
        cpu_seconds=cpu,
    )


def probe(*, path: Path, kind: Kind, mark_suffices: bool = False) -> Probe:
    """The fingerprints of the file at ``path`` and its watermark key, if it carries one
    (``mark_suffices``: a picture whose mark reads gets no fingerprints; they cost ~85 ms
    of CPU for 1 MP and would only find the asset the mark names)."""
    request = {
        "path": os.fspath(path.absolute()),
        "kind": kind,
        "extract": True,
        "mark_suffices": mark_suffices,
    }
    answer, cpu = _call(request, path)
    key = answer.get("watermark")
    return Probe(
        fingerprints=[_decode(item) for item in answer["fingerprints"]],
        watermark_key=bytes.fromhex(key) if key else None,
        cpu_seconds=cpu,
    )


def _call(request: dict[str, Any], path: Path) -> tuple[dict[str, Any], float]:
    try:
        answer = budget.call({"op": OP, **request}, size=path.stat().st_size, provenance=True)
    except budget.HelperFailed as exc:
        if exc.returncode is not None and exc.returncode < 0:  # a decoder crashed on the file
            raise UndecodableMedia("The media content cannot be decoded.") from exc
        raise InternalError("The provenance helper process failed.") from exc
    error = answer.get("error")
    if error == OP:
        cls = _REPORTED.get(str(answer.get("name")), InternalError)
        raise cls(str(answer.get("detail") or ""), **dict(answer.get("extensions") or {}))
    if error is not None:
        raise InternalError(f"Fingerprinting the media failed ({error}).")
    return answer, float(answer.get("cpu", 0.0))


# --- the helper's side ------------------------------------------------------------------------


def load() -> None:
    """Import the decoders and the watermark library (in the helper, before any limit)."""
    import av  # noqa: F401

    from registry.provenance import fingerprints, watermark  # noqa: F401

    with contextlib.suppress(FingerprinterUnavailable):  # reported by the call that needs it
        fingerprints.chromaprint_module()


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Do one provenance request in the helper; errors of the registry's own are answered."""
    from registry.provenance import fingerprints, watermark

    path = Path(request["path"])
    answer: dict[str, Any] = {"kind": "result"}
    try:
        mark = request.get("mark")
        if mark:
            dest = Path(mark["dest"])
            try:
                watermark.embed(path, dest, bytes.fromhex(mark["key"]))
                path, answer["marked"] = dest, True
            except WatermarkNotEmbeddable as exc:
                answer["skipped"] = str(exc.extensions.get("reason", "not_readable"))
            except UnsupportedMedia:
                answer["skipped"] = "unsupported"
        key = None
        if request.get("extract") and request["kind"] == "image":
            key = watermark.extract(path)
            answer["watermark"] = key.hex() if key else None
        if key is not None and request.get("mark_suffices"):
            found = []
        else:
            found = fingerprints.fingerprint(path, request["kind"])
    except RegistryError as exc:
        return {
            "kind": "result",
            "error": OP,
            "name": type(exc).__name__,
            "detail": exc.detail,
            "extensions": exc.extensions,
        }
    answer["fingerprints"] = [_encode(fp) for fp in found]
    return answer


def _encode(fp: Fingerprint) -> dict[str, Any]:
    scope = fp.scope
    return {
        "alg": fp.alg,
        "unit": fp.unit,
        "value": base64.b64encode(fp.value).decode("ascii"),
        "variant": fp.variant,
        "region": None if scope.region is None else list(vars(scope.region).values()),
        "start_ms": scope.start_ms,
        "end_ms": scope.end_ms,
    }


def _decode(item: dict[str, Any]) -> Fingerprint:
    region = item.get("region")
    return Fingerprint(
        alg=item["alg"],
        unit=item["unit"],
        value=base64.b64decode(item["value"]),
        scope=Scope(
            region=Region(*region) if region else None,
            start_ms=item.get("start_ms"),
            end_ms=item.get("end_ms"),
        ),
        variant=item.get("variant"),
    )
