"""Verifying a file: read its manifest, check it, and look up what the registry knows.

A file without a manifest whose bytes the registry does not know, or one whose manifest is
broken, is looked up by its watermark and fingerprints (``provenance.recovery``): a match is
reported in ``recovered`` and the ``provenance`` check warns (never passes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.c2pa.adapter import ManifestReport, read_manifest
from registry.consent import declarations
from registry.db import utcnow
from registry.intake.sniff import sniff
from registry.intake.spool import SpooledFile
from registry.media.citations import by_hash
from registry.media.models import MediaAsset
from registry.metrics import VERIFICATION_BYTES, VERIFICATION_SECONDS, work_done
from registry.provenance.recovery import Recovery, recover_file
from registry.records.public import creation_disclosure
from registry.verification import checks
from registry.verification.consent_checks import (
    ConsentFinding,
    cited_grants,
    consent_check,
    declaration_check,
    grant_finding,
    recorded_claims,
)
from registry.verification.schemas import (
    Check,
    KnownAsset,
    ManifestSummary,
    Recovered,
    RecoveredAsset,
    RecoveredGrant,
    Takedown,
    VerifyResult,
)
from registry.verification.summary import summarize


@dataclass(frozen=True)
class Verifier:
    """Whom the verifier trusts and whether it may use the network."""

    trust_anchors_pem: str
    allow_network: bool = False


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _known_asset(
    session: Session, report: ManifestReport, sha256: str
) -> tuple[MediaAsset | None, str | None]:
    """The registry's record of this content, and how it was found when the label is gone."""
    if report.has_manifest:
        query = sa.select(MediaAsset).where(
            sa.or_(
                col(MediaAsset.sha256) == sha256,
                col(MediaAsset.manifest_id) == report.active_manifest_label,
            )
        )
        return session.scalars(query.limit(1)).first(), None
    # A match on the source bytes is preferred.
    by_signed, by_source = by_hash(session, sha256)
    if by_source is not None:
        return by_source, "source_hash"
    return by_signed, ("signed_hash" if by_signed else None)


def _manifest_summary(report: ManifestReport) -> ManifestSummary | None:
    if not report.has_manifest:
        return None
    action = checks.creating_action(report) or {}
    agent = action.get("softwareAgent")
    generator = None
    if isinstance(agent, dict):
        generator = " ".join(str(agent[k]) for k in ("name", "version") if agent.get(k)) or None
    elif isinstance(agent, str):
        generator = agent
    active = (
        (report.manifest_store or {}).get("manifests", {}).get(report.active_manifest_label, {})
    )
    return ManifestSummary(
        active_manifest=report.active_manifest_label,
        signer=report.signer.common_name if report.signer else None,
        signer_issuer=report.signer.issuer if report.signer else None,
        signed_at=report.signed_at or action.get("when"),
        generator=generator,
        digital_source_type=checks.source_type(report),
        claim_generator=report.claim_generator,
        title=active.get("title"),
    )


def _claims(
    report: ManifestReport, asset: MediaAsset | None, recovered: bool
) -> list[dict[str, Any]] | None:
    if recovered and asset is not None:
        # The label is gone: what the registry recorded at signing stands in for it.
        return recorded_claims(asset)
    return checks.grant_citations(report)


def _recovered(recovery: Recovery, viewer_org_id: str | None) -> Recovered | None:
    """The ``recovered`` block: nothing personal; the signed file's link for its owner only."""
    if recovery.method is None:
        return None
    return Recovered(
        method=recovery.method,
        matches=[
            RecoveredAsset(
                asset_id=found.asset.id,
                manifest_id=found.asset.manifest_id,
                similarity=found.match.similarity,
                alg=found.match.alg,
                unit=found.match.unit,
                distance=found.match.distance,
                at_ms=found.match.at_ms,
                ai_generated=True,  # every manifest the registry signs discloses it
                digital_source_type=found.asset.digital_source_type,
                generator=found.asset.generator,
                created_at=found.asset.created_at,
                manifest_url=f"/manifests/{found.asset.manifest_id}",
                media_url=f"/v1/media/{found.asset.id}"
                if viewer_org_id is not None and viewer_org_id == found.asset.org_id
                else None,
                consent_in_force=found.consent_in_force,
                grants=[
                    RecoveredGrant(
                        grant_id=g.grant_id, status_now=g.status_now, status_url=g.status_url
                    )
                    for g in found.grants
                ],
            )
            for found in recovery.matches
        ],
    )


def verify_file(
    session: Session,
    *,
    verifier: Verifier,
    source: SpooledFile,
    now: datetime | None = None,
    viewer_org_id: str | None = None,
) -> VerifyResult:
    """The verdict on one file (only read: nothing is stored). ``viewer_org_id`` is the
    caller's organization (None: anonymous), which alone sees links to its own media."""
    started = time.perf_counter()
    now = now or utcnow()
    media_format = sniff(source.path)
    report = read_manifest(
        path=source.path,
        mime_type=media_format.mime_type,
        trust_anchors_pem=verifier.trust_anchors_pem,
        allow_network=verifier.allow_network,
    )
    asset, recovered_from = _known_asset(session, report, source.sha256)
    recovery: Recovery | None = None
    integrity = checks.integrity(report)  # not_applicable without a manifest
    broken = integrity.status == "fail"
    if broken or (not report.has_manifest and recovered_from is None):
        recovery = recover_file(session, path=source.path, kind=media_format.kind, now=now)
        if recovery.matches and not report.has_manifest:
            asset, recovered_from = recovery.matches[0].asset, recovery.method
    recovered = recovered_from is not None
    labelled = checks.is_ai_generated(report)  # a recovered file has no manifest, no label
    ai = labelled or recovered
    summary = _manifest_summary(report)
    claims = _claims(report, asset, recovered)
    signed_at = _parse_time(summary.signed_at if summary else None) or (
        asset.created_at if asset else None
    )
    grants = cited_grants(session, claims or [])
    findings: list[ConsentFinding] = [
        grant_finding(
            claim,
            grants=grants,
            media_kind=media_format.kind,
            now=now,
            signed_at=signed_at,
            asset=asset,
        )
        for claim in claims or []
    ]
    training = checks.training_mining(report)
    declared = declaration_check(
        declarations.in_force(session, {g.subject_id for g in grants.values()}),
        grants,
        training_code=training.code,
    )
    results: list[Check] = [
        checks.manifest_present(report, recovered=recovered),
        integrity,
        checks.signer_trusted(report),
        checks.ai_label(report, known_generated=asset is not None, recovered=recovered),
        training,
        consent_check(findings, claimed=claims is not None, ai_generated=ai),
        *([declared] if declared is not None else []),
        checks.regulatory_eu(ai=labelled),
        checks.regulatory_cn(report, ai=labelled),
        checks.regulatory_ca_sb942(report, ai=labelled),
        checks.provenance(
            report, tried=recovery is not None, method=recovery.method if recovery else None
        ),
    ]
    statuses = {c.status for c in results}
    verdict = "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"
    sentence = summarize(verdict, results, summary, ai=ai)
    if asset is not None and asset.takedown_requested_at is not None:
        sentence += " A takedown of this file was requested when a grant it cites was revoked."
    result = VerifyResult(
        verdict=verdict,
        summary=sentence,
        labelled_ai_generated=labelled,
        checks=results,
        manifest=summary,
        grants=[f.verdict for f in findings],
        recovered_from=recovered_from,  # type: ignore[arg-type]
        recovered=_recovered(recovery, viewer_org_id) if recovery else None,
        known_asset=KnownAsset(
            id=asset.id,
            sha256=asset.sha256,
            source_sha256=asset.source_sha256,
            mime_type=asset.mime_type,
            created_at=asset.created_at.isoformat(),
            generator=asset.generator,
        )
        if asset
        else None,
        takedown=Takedown(requested_at=asset.takedown_requested_at)
        if asset is not None and asset.takedown_requested_at is not None
        else None,
        sha256=source.sha256,
        mime_type=media_format.mime_type,
        creation=creation_disclosure(
            session, report, asset.id if asset else None, recovered=recovered
        ),
    )
    work_done(
        VERIFICATION_SECONDS,
        VERIFICATION_BYTES,
        mime_type=media_format.mime_type,
        size=source.size,
        started=started,
    )
    return result
