"""The ``c2pa.soft-binding`` assertions (and ``c2pa.watermarked`` action) of a signing.

C2PA 2.x, "Soft Binding" (``soft-binding-map``): ``alg`` (a name from the C2PA soft-binding
algorithm list), ``blocks`` (each a ``scope`` and a ``value``: a byte string, base64 in the
JSON manifest definition c2pa-python takes), ``pad`` (c2pa adds it). One assertion per
algorithm; c2pa numbers repeated labels itself (``c2pa.soft-binding__1``). A region's
``role`` is left out: c2pa 0.38 refuses ``c2pa.areaOfInterest`` in a soft binding.

- Fingerprints: ``alg`` ``io.iscc.v0`` (list entry 3, ISO 24138). A block's value is the ISCC
  unit in binary form (2-byte header + 8-byte digest; the header says Image or Audio), its
  scope is ``{}`` (the whole asset), a ``region`` (a crop, in percent) or a ``timespan``
  (a video frame's second, in milliseconds).
- The watermark: blind-watermark is not on the list (only its maintainers can add it), so
  its assertion uses the registry's own name ``WATERMARK_ALG``. Validators that know only
  listed algorithms ignore it; the registry's lookup uses it. The manifest should also state
  the ``c2pa.watermarked`` action (``watermarked_action``), as C2PA asks when a watermark
  is embedded for a soft binding.

The labels are in ``registry/c2pa/labels.py`` with every other label of the manifest.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from registry.c2pa.labels import SOFT_BINDING_LABEL, WATERMARKED_ACTION
from registry.provenance.fingerprints import (
    ALG,
    WATERMARK_ALG,
    Fingerprint,
    Scope,
    watermark_fingerprint,
)

LISTED_ALGS = frozenset({ALG})  # the algorithms used here that the list names

_NAMES = {
    ALG: "ISCC Content-Code units (image, audio; video frames by timespan)",
    WATERMARK_ALG: "Invisible image watermark (blind-watermark DWT-DCT-SVD), 64-bit key",
}


def soft_binding_assertions(
    fingerprints: Iterable[Fingerprint], *, watermark_key: bytes | None = None
) -> list[dict[str, Any]]:
    """Manifest-definition assertions (``{"label", "data"}``), one per algorithm used."""
    every = list(fingerprints)
    if watermark_key is not None:
        every.append(watermark_fingerprint(watermark_key))
    by_alg: dict[str, list[dict[str, Any]]] = {}
    for fp in every:
        if fp.variant is not None and fp.scope == Scope():
            continue  # a shifted rendition (audio): for the index, not a part of the asset
        by_alg.setdefault(fp.alg, []).append({"scope": scope_map(fp.scope), "value": fp.to_b64()})
    return [
        {
            "label": SOFT_BINDING_LABEL,
            "data": {"alg": alg, "blocks": blocks, "name": _NAMES.get(alg, alg)},
        }
        for alg, blocks in by_alg.items()
    ]


def scope_map(scope: Scope) -> dict[str, Any]:
    """A ``soft-binding-scope-map``: empty for the whole asset."""
    result: dict[str, Any] = {}
    if scope.start_ms is not None and scope.end_ms is not None:
        result["timespan"] = {"start": scope.start_ms, "end": scope.end_ms}
    if scope.region is not None:
        r = scope.region
        result["region"] = {
            "region": [
                {
                    "type": "spatial",
                    "shape": {
                        "type": "rectangle",
                        "unit": "percent",
                        "origin": {"x": r.x, "y": r.y},
                        "width": r.width,
                        "height": r.height,
                    },
                }
            ]
        }
    return result


def watermarked_action(*, software_agent: dict[str, str] | None = None) -> dict[str, Any]:
    """The ``c2pa.actions`` entry stating that an invisible watermark was embedded."""
    action: dict[str, Any] = {
        "action": WATERMARKED_ACTION,
        "description": "An invisible watermark carrying a registry lookup key was embedded.",
    }
    if software_agent:
        action["softwareAgent"] = software_agent
    return action


def values_of(assertion_data: dict[str, Any]) -> list[bytes]:
    """The block values of a soft-binding assertion read back from a manifest (base64 or
    byte list, as c2pa reports them)."""
    values = []
    for block in assertion_data.get("blocks", []):
        value = block.get("value")
        if isinstance(value, str):
            values.append(base64.b64decode(value))
        elif isinstance(value, list):
            values.append(bytes(value))
    return values
