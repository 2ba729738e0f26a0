"""The consent check: do the grants a file cites exist here, match, and remain in force?"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.consent.models import ConsentGrant
from registry.consent.scope import Use, scope_gap, status_at
from registry.ids import is_uuid
from registry.media.models import MediaAsset
from registry.verification.schemas import Check, GrantVerdict

# Worst first: the consent check reports the most serious finding.
_SEVERITY = [
    "consent.unknown_grant",
    "consent.token_mismatch",
    "consent.revoked",
    "consent.declined",
    "consent.pending_confirmation",
    "consent.suspended",
    "consent.expired",
    "consent.out_of_scope",
    "consent.superseded",
]
# Statuses that are findings of their own (a grant the person declined or has not confirmed
# never covered a use).
_NOT_IN_FORCE = (
    "revoked",
    "suspended",
    "expired",
    "superseded",
    "declined",
    "pending_confirmation",
)
_MESSAGES = {
    "consent.unknown_grant": "A grant the file cites does not exist in this registry.",
    "consent.token_mismatch": "A cited grant's token does not match the registry's record.",
    "consent.revoked": "The consent this file cites has been revoked.",
    "consent.declined": "The person declined the consent this file cites.",
    "consent.pending_confirmation": "The consent this file cites waits for the person's "
    "confirmation.",
    "consent.suspended": "The consent this file cites is suspended.",
    "consent.expired": "The consent this file cites has expired.",
    "consent.out_of_scope": "The file claims a use that the cited grant does not cover.",
    "consent.superseded": "A cited grant was replaced by a newer version.",
}


@dataclass(frozen=True)
class ConsentFinding:
    verdict: GrantVerdict
    code: str | None


def _claimed_use(claim: dict[str, Any], media_kind: str) -> Use:
    """The use a consent citation claims; a file the registry labels was generated."""
    modalities = claim.get("modalities")
    purpose, territory = claim.get("purpose"), claim.get("territory")
    return Use(
        modalities=[str(m) for m in modalities] if isinstance(modalities, list) else [],
        purpose=purpose if isinstance(purpose, str) else None,
        territory=territory if isinstance(territory, str) else None,
        media_kind=media_kind,
    )


def recorded_claims(asset: MediaAsset) -> list[dict[str, Any]]:
    """The consent citations signing recorded for an asset, in the form a manifest's consent
    assertion gives them: they stand in for the label when it is gone."""
    return [{**use, "sha256": use.get("token_sha256")} for use in asset.grant_uses]


def cited_grants(session: Session, claims: Iterable[dict[str, Any]]) -> dict[str, ConsentGrant]:
    """The grants these claims cite that exist here, by id: one query for all of them."""
    ids = {str(claim.get("grant_id", "")) for claim in claims}
    ids = {grant_id for grant_id in ids if is_uuid(grant_id)}
    if not ids:
        return {}
    query = sa.select(ConsentGrant).where(col(ConsentGrant.id).in_(ids))
    return {grant.id: grant for grant in session.scalars(query)}


def grant_finding(
    claim: dict[str, Any],
    *,
    grants: Mapping[str, ConsentGrant],
    media_kind: str,
    now: datetime,
    signed_at: datetime | None,
    asset: MediaAsset | None,
) -> ConsentFinding:
    """What one cited grant (looked up in ``grants``, see ``cited_grants``) is worth now.

    The use the file claims must lie inside the grant's scope (``consent.scope``) at the
    time it was signed, when that time is known.
    """
    grant_id = str(claim.get("grant_id", ""))
    grant = grants.get(grant_id)
    if grant is None:
        unknown = GrantVerdict(
            grant_id=grant_id,
            status_now="unknown",
            status_at_signing=None,
            in_scope=False,
            token_matches=False,
        )
        return ConsentFinding(unknown, "consent.unknown_grant")
    status_now = grant.effective_status(now)
    recorded = next(
        (u for u in (asset.grant_uses if asset else []) if u.get("grant_id") == grant_id), None
    )
    used_at: datetime | None = None
    if recorded:
        # Signing checked the grant at the precise moment and recorded what it found.
        at_signing = recorded.get("status")
    elif signed_at is not None:
        at_signing, used_at = status_at(grant, signed_at), signed_at
    else:
        at_signing = None
    gap = scope_gap(grant, _claimed_use(claim, media_kind), at=used_at)
    verdict = GrantVerdict(
        grant_id=grant_id,
        status_now=status_now,
        status_at_signing=at_signing,
        in_scope=gap is None,
        scope_gap=gap.reason if gap else None,
        token_matches=claim.get("sha256") == grant.token_sha256,
        status_url=f"/v1/grants/{grant_id}/status",
    )
    code = None
    if not verdict.token_matches:
        code = "consent.token_mismatch"
    elif status_now in _NOT_IN_FORCE:
        code = f"consent.{status_now}"
    elif not verdict.in_scope:
        code = "consent.out_of_scope"
    return ConsentFinding(verdict, code)


def consent_check(findings: list[ConsentFinding], *, claimed: bool, ai_generated: bool) -> Check:
    """Summarize every cited grant into the one consent check."""
    if not claimed:
        if ai_generated:
            return Check(
                check="consent",
                status="warn",
                code="consent.not_claimed",
                message="The file is labelled AI-generated but cites no consent.",
            )
        return Check(
            check="consent",
            status="not_applicable",
            code="consent.not_claimed",
            message="The file cites no consent grant.",
        )
    codes = [f.code for f in findings if f.code]
    if not findings:
        return Check(
            check="consent",
            status="fail",
            code="consent.unknown_grant",
            message="The consent assertion names no grant.",
        )
    if not codes:
        count = len(findings)
        return Check(
            check="consent",
            status="pass",
            code="consent.in_force",
            message=f"The consent the file cites is in force ({count} grant"
            f"{'s' if count > 1 else ''}).",
        )
    worst = min(codes, key=_SEVERITY.index)
    status = "warn" if worst == "consent.superseded" else "fail"
    return Check(check="consent", status=status, code=worst, message=_MESSAGES[worst])


def recorded_consent(
    session: Session, asset: MediaAsset, *, now: datetime
) -> tuple[Check, list[ConsentFinding]]:
    """The consent check of a registered asset now, from what signing recorded for it (its
    grants, each judged by ``grant_finding``), and the finding of each grant."""
    claims = recorded_claims(asset)
    grants = cited_grants(session, claims)
    findings = [
        grant_finding(
            claim,
            grants=grants,
            media_kind=asset.mime_type.split("/")[0],
            now=now,
            signed_at=asset.created_at,
            asset=asset,
        )
        for claim in claims
    ]
    return consent_check(findings, claimed=bool(claims), ai_generated=True), findings


def declaration_check(
    declared: Mapping[str, set[str]], grants: Mapping[str, ConsentGrant], *, training_code: str
) -> Check | None:
    """What the cited people declare now that the file contradicts (None: nothing declared).

    ``do_not_train`` is contradicted by a file that does not state ``notAllowed`` for
    training and mining; ``do_not_synthesize`` by any file citing the person (it may predate
    the declaration: a warning, as for a superseded grant).
    """
    kinds: set[str] = set()
    for grant in grants.values():
        kinds |= declared.get(grant.subject_id, set())
    if not kinds:
        return None
    if "do_not_train" in kinds and training_code != "training.notAllowed":
        return Check(
            check="declarations",
            status="warn",
            code="declarations.do_not_train",
            message="A person this file cites has declared that no AI may be trained on their "
            "voice or likeness, but the file does not forbid AI training and data mining.",
        )
    if "do_not_synthesize" in kinds:
        return Check(
            check="declarations",
            status="warn",
            code="declarations.do_not_synthesize",
            message="A person this file cites has declared that their voice and likeness may "
            "not be synthesized.",
        )
    return Check(
        check="declarations",
        status="pass",
        code="declarations.respected",
        message="The file respects what the people it cites have declared.",
    )
