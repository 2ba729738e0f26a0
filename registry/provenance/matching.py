"""Which registered assets a file, or one soft-binding value, comes from.

- ``match_content``: the watermark of an image first (exact, cheap to confirm), then the
  fingerprints of its content, each looked up in the index. A watermark that the index
  confirms ends the search: fingerprinting would only find the same asset again.
- ``binding_probes``: a soft-binding value as the Soft Binding Resolution API receives it
  (``alg`` and the bytes behind its base64), as the probes ``index.lookup`` takes.

Signing indexes every asset it signs (media.services.record_signing); verification's recovery,
screening and the Soft Binding Resolution API all look files up here.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import iscc_core as ic
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from registry.provenance import index
from registry.provenance.fingerprints import (
    ALG,
    WATERMARK_ALG,
    Fingerprint,
    Kind,
    Unit,
    watermark_fingerprint,
)
from registry.provenance.jobs import Probe, probe
from registry.provenance.watermark_keys import KEY_BYTES

# The soft-binding algorithms the index can answer, by kind (C2PA list names; the watermark's
# is the registry's own).
FINGERPRINT_ALGS = (ALG,)
WATERMARK_ALGS = (WATERMARK_ALG,)
SUPPORTED_ALGS = frozenset(FINGERPRINT_ALGS + WATERMARK_ALGS)

# ISCC Content-Code subtypes whose units the index holds, and the families they are found in
# (an image code may be a picture or a frame of a video).
_FAMILIES: dict[int, tuple[Unit, ...]] = {
    ic.ST_CC.IMAGE: ("image", "video-frame"),
    ic.ST_CC.AUDIO: ("audio",),
}


class InvalidBindingValue(ValueError):
    """The value is not a soft binding of the algorithm it names (the message says why)."""


def match_content(
    session: Session | Connection,
    path: Path,
    kind: Kind,
    *,
    algs: Collection[str] = SUPPORTED_ALGS,
    limit: int = 10,
) -> list[index.Match]:
    """Registered assets the file at ``path`` (of ``kind``) is close to, best first."""
    return probe_and_match(session, path, kind, algs=algs, limit=limit)[1]


def probe_and_match(
    session: Session | Connection,
    path: Path,
    kind: Kind,
    *,
    algs: Collection[str] = SUPPORTED_ALGS,
    limit: int = 10,
) -> tuple[Probe, list[index.Match]]:
    """The file's probe and its matches (``match_probe``). It is read in a c2pa helper under
    the budget (``jobs.probe``), fingerprinted only when its mark, if any, names no asset."""
    found = probe(path=path, kind=kind, mark_suffices=WATERMARK_ALG in algs)
    hits = match_probe(session, found, algs=algs, limit=limit)
    if not hits and found.watermark_key is not None and not found.fingerprints:
        found = probe(path=path, kind=kind)  # a mark the index does not hold
        hits = match_probe(session, found, algs=algs, limit=limit)
    return found, hits


def match_probe(
    session: Session | Connection,
    found: Probe,
    *,
    algs: Collection[str] = SUPPORTED_ALGS,
    limit: int = 10,
) -> list[index.Match]:
    """The one lookup rule: a watermark the index confirms ends the search (fingerprints
    would only find the same asset again); otherwise the fingerprints, best first."""
    if WATERMARK_ALG in algs and found.watermark_key is not None:
        hits = index.lookup(session, [watermark_fingerprint(found.watermark_key)], limit=limit)
        if hits:
            return hits
    if ALG not in algs or not found.fingerprints:
        return []
    return index.lookup(session, found.fingerprints, limit=limit)


def binding_probes(alg: str, value: bytes) -> list[Fingerprint]:
    """The index probes for one soft-binding value of ``alg`` (one of ``SUPPORTED_ALGS``).

    ``io.iscc.v0``: a binary ISCC Content-Code unit (2-byte header and digest), image (64
    bits: looked up among pictures and video frames) or audio (256 bits). The watermark: its
    8-byte key. Raises ``InvalidBindingValue`` for anything else.
    """
    if alg == WATERMARK_ALG:
        if len(value) != KEY_BYTES:
            raise InvalidBindingValue(f"a {alg} value is {KEY_BYTES} bytes")
        return [watermark_fingerprint(value)]
    if alg != ALG:
        raise InvalidBindingValue(f"{alg} is not an algorithm of this registry")
    try:
        main_type, sub_type, version, length, digest = ic.decode_header(value)
        bits = ic.decode_length(main_type, length)
    except (ValueError, KeyError, IndexError) as exc:
        raise InvalidBindingValue("the value is not a binary ISCC unit") from exc
    families = _FAMILIES.get(sub_type) if main_type == ic.MT.CONTENT else None
    if families is None or version != ic.VS.V0:
        raise InvalidBindingValue("the value is not an ISCC image or audio Content-Code unit")
    if len(digest) * 8 != bits or bits % 64:
        raise InvalidBindingValue(f"the ISCC unit's digest is not {bits} bits long")
    return [Fingerprint(ALG, family, digest) for family in families]
