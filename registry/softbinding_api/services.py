"""Soft-binding resolution: values and files to the manifests of registered assets.

Public by design, like verification: the manifests found are those embedded in files the
registry signed and that their organizations publish, so every organization's assets are
searched and no organization's other data is returned. Nothing is stored.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.intake.sniff import sniff
from registry.intake.spool import SpooledFile
from registry.media.models import ManifestStore, MediaAsset
from registry.provenance.index import Match, best_per_asset, lookup
from registry.provenance.matching import (
    FINGERPRINT_ALGS,
    SUPPORTED_ALGS,
    WATERMARK_ALGS,
    InvalidBindingValue,
    binding_probes,
    match_content,
)
from registry.softbinding_api.errors import (
    ManifestNotFound,
    SoftBindingAlgUnsupported,
    SoftBindingValueInvalid,
)
from registry.softbinding_api.schemas import (
    SoftBindingAlg,
    SoftBindingMatch,
    SoftBindingQueryResult,
    SupportedAlgorithms,
)

# index.lookup answers per family; an asset found in several (image and watermark, frames and
# soundtrack) is one match, so more rows are asked for than matches are returned.
_ROWS_PER_MATCH = 4


def supported_algorithms() -> SupportedAlgorithms:
    return SupportedAlgorithms(
        watermarks=[SoftBindingAlg(alg=alg) for alg in WATERMARK_ALGS],
        fingerprints=[SoftBindingAlg(alg=alg) for alg in FINGERPRINT_ALGS],
    )


def require_supported(alg: str) -> None:
    """``SoftBindingAlgUnsupported`` (422) unless the registry answers ``alg``."""
    if alg not in SUPPORTED_ALGS:
        raise SoftBindingAlgUnsupported(
            f"{alg!r} is not a soft-binding algorithm of this registry",
            supported=sorted(SUPPORTED_ALGS),
        )


def matches_by_binding(
    session: Session, *, alg: str, value: str, max_results: int
) -> SoftBindingQueryResult:
    """The registered manifests whose soft binding of ``alg`` is close to ``value`` (base64)."""
    require_supported(alg)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SoftBindingValueInvalid("the value is not base64 (standard alphabet)") from exc
    try:
        probes = binding_probes(alg, raw)
    except InvalidBindingValue as exc:
        raise SoftBindingValueInvalid(str(exc)) from exc
    found = lookup(session, probes, limit=max_results * _ROWS_PER_MATCH)
    return _result(session, found, max_results)


def matches_by_content(
    session: Session, *, source: SpooledFile, alg: str | None, max_results: int
) -> SoftBindingQueryResult:
    """The registered manifests whose soft bindings the content of ``source`` matches
    (``alg``'s only, when given)."""
    if alg is not None:
        require_supported(alg)
    media_format = sniff(source.path)
    found = match_content(
        session,
        source.path,
        media_format.kind,
        algs=SUPPORTED_ALGS if alg is None else (alg,),
        limit=max_results * _ROWS_PER_MATCH,
    )
    return _result(session, found, max_results)


def manifest_store(session: Session, manifest_id: str) -> bytes:
    """The manifest store (``application/c2pa``) embedded in the asset of ``manifest_id``."""
    data = session.scalars(
        sa.select(col(ManifestStore.data))
        .join(MediaAsset, col(MediaAsset.id) == col(ManifestStore.asset_id))
        .where(col(MediaAsset.manifest_id) == manifest_id)
        .limit(1)
    ).first()
    if data is None:
        raise ManifestNotFound(f"no manifest store {manifest_id}")
    return bytes(data)


def _result(session: Session, found: Iterable[Match], max_results: int) -> SoftBindingQueryResult:
    """One match per asset (its best similarity), as manifest ids, best first."""
    best = {match.asset_id: match.similarity for match in best_per_asset(found)}
    if not best:
        return SoftBindingQueryResult(matches=[])
    rows = session.execute(
        sa.select(col(MediaAsset.id), col(MediaAsset.manifest_id)).where(
            col(MediaAsset.id).in_(best)
        )
    )
    labels = {str(asset_id): str(label) for asset_id, label in rows}
    matches = sorted(
        (
            SoftBindingMatch(manifestId=labels[asset_id], similarityScore=round(score * 100))
            for asset_id, score in best.items()
            if asset_id in labels
        ),
        key=lambda m: (-m.similarityScore, m.manifestId),
    )
    return SoftBindingQueryResult(matches=matches[:max_results])
