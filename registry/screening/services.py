"""Screening a file: find the registered asset it comes from, cheapest way first, and say
whether the consent behind it is in force now.

1. The file's SHA-256 against the registered assets' signed and source hashes: an untouched
   signed file (its manifest intact) costs one indexed query and no c2pa work at all.
2. Otherwise c2pa reads the file's manifest store: a registry manifest in it (active, or an
   ingredient of a later edit) whose store passes the integrity check names the asset.
3. Otherwise the soft bindings: the image's watermark, then the content's fingerprints
   (``registry.provenance.matching``).

The consent is that of the grants signing recorded for the asset, judged now by the rule
verification uses (``verification.consent_checks``: status now, token, scope). Nothing is
stored. The owner of the asset (a token of its organization) also gets the asset's id and its
grants; everyone else gets only what the file's own manifest would tell them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.c2pa.adapter import ManifestReport, read_manifest
from registry.db import utcnow
from registry.intake.sniff import sniff
from registry.intake.spool import SpooledFile
from registry.media.citations import by_hash
from registry.media.models import MediaAsset
from registry.provenance.fingerprints import Kind
from registry.provenance.matching import match_content
from registry.screening.schemas import (
    ConsentNow,
    MatchMethod,
    ScreenAsset,
    ScreenGrant,
    ScreenMatch,
    ScreenResult,
)
from registry.verification import checks
from registry.verification.consent_checks import recorded_consent
from registry.verification.services import Verifier

# The consent check's codes (verification.consent_checks) as the one word screening answers.
_CONSENT_BY_CODE: dict[str, ConsentNow] = {
    "consent.in_force": "in_force",
    "consent.revoked": "revoked",
    "consent.suspended": "suspended",
    "consent.expired": "expired",
    "consent.superseded": "superseded",
    "consent.out_of_scope": "out_of_scope",
}


@dataclass(frozen=True)
class Found:
    asset: MediaAsset
    match: ScreenMatch


def screen_file(
    session: Session,
    *,
    verifier: Verifier,
    source: SpooledFile,
    viewer_org_id: str | None,
    now: datetime | None = None,
) -> ScreenResult:
    """Is ``source`` registered synthetic media, and is its consent in force now?"""
    now = now or utcnow()
    media_format = sniff(source.path)
    labelled_ai = False
    found = _by_hash(session, source.sha256)
    if found is None:
        report = read_manifest(
            path=source.path,
            mime_type=media_format.mime_type,
            trust_anchors_pem=verifier.trust_anchors_pem,
            allow_network=verifier.allow_network,
        )
        if report.has_manifest and checks.integrity(report).status == "pass":
            labelled_ai = checks.is_ai_generated(report)
            found = _by_manifest(session, report)
    if found is None:
        found = _by_content(session, source.path, media_format.kind)
    if found is None:
        return ScreenResult(
            registered=False,
            ai_generated=labelled_ai,
            consent="unknown",
            manifest_id=None,
            match=None,
            sha256=source.sha256,
            mime_type=media_format.mime_type,
        )
    asset = found.asset
    consent, grants = _consent_now(session, asset, now)
    return ScreenResult(
        registered=True,
        ai_generated=True,  # the registry labels only AI-generated media
        consent=consent,
        manifest_id=asset.manifest_id,
        match=found.match,
        asset=ScreenAsset(id=asset.id, created_at=asset.created_at.isoformat(), grants=grants)
        if viewer_org_id == asset.org_id
        else None,
        sha256=source.sha256,
        mime_type=media_format.mime_type,
    )


def _by_hash(session: Session, sha256: str) -> Found | None:
    """The asset whose signed bytes (preferred) or source bytes these are."""
    signed, source = by_hash(session, sha256)
    if signed is not None:
        return Found(signed, ScreenMatch(method="signed_hash", alg=None, similarity=1.0))
    if source is not None:
        return Found(source, ScreenMatch(method="source_hash", alg=None, similarity=1.0))
    return None


def _by_manifest(session: Session, report: ManifestReport) -> Found | None:
    """The asset of a registry manifest in the store: the active one first, then ingredients."""
    labels = list((report.manifest_store or {}).get("manifests", {}))
    if report.active_manifest_label in labels:
        labels.remove(report.active_manifest_label)
        labels.insert(0, report.active_manifest_label)
    if not labels:
        return None
    assets = {
        asset.manifest_id: asset
        for asset in session.scalars(
            sa.select(MediaAsset).where(col(MediaAsset.manifest_id).in_(labels))
        )
    }
    asset = next((assets[label] for label in labels if label in assets), None)
    if asset is None:
        return None
    return Found(asset, ScreenMatch(method="manifest", alg=None, similarity=1.0))


def _by_content(session: Session, path: Path, kind: Kind) -> Found | None:
    """The registered asset the content's watermark or fingerprints match best."""
    matches = match_content(session, path, kind, limit=1)
    if not matches:
        return None
    best = matches[0]
    asset = session.get(MediaAsset, best.asset_id)
    if asset is None:
        return None
    method: MatchMethod = "watermark" if best.unit == "watermark" else "fingerprint"
    return Found(asset, ScreenMatch(method=method, alg=best.alg, similarity=best.similarity))


def _consent_now(
    session: Session, asset: MediaAsset, now: datetime
) -> tuple[ConsentNow, list[ScreenGrant]]:
    """The worst finding over the grants signing recorded for the asset, and each grant's
    status now."""
    check, findings = recorded_consent(session, asset, now=now)
    statuses = [
        ScreenGrant(grant_id=f.verdict.grant_id, status_now=f.verdict.status_now) for f in findings
    ]
    return _CONSENT_BY_CODE.get(check.code, "unknown"), statuses
