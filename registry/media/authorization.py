"""Authorization before generation: do the cited grants cover this exact use, now?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from registry.consent.models import ConsentGrant
from registry.consent.vocabulary import ANY_TERRITORY
from registry.ids import is_uuid
from registry.media import errors
from registry.media.schemas import GrantUse

GENERATE = "generate"


@dataclass(frozen=True)
class AuthorizedUse:
    """A cited grant that covers the use, and the use it covers."""

    grant: ConsentGrant
    use: GrantUse


def _check_status(grant: ConsentGrant, now: datetime) -> None:
    gid = grant.id
    status = grant.effective_status(now)  # the one rule for "expired", as /status says it
    if status == "revoked":
        raise errors.GrantRevoked(f"grant {gid} was revoked", grant_id=gid)
    if status == "suspended":
        raise errors.GrantSuspended(f"grant {gid} is suspended", grant_id=gid)
    if status == "superseded":
        raise errors.GrantSuperseded(
            f"grant {gid} was superseded by {grant.superseded_by}; cite the new version",
            grant_id=gid,
            superseded_by=grant.superseded_by,
        )
    if status == "expired":
        raise errors.GrantExpired(f"grant {gid} expired at {grant.valid_until}", grant_id=gid)
    if now < grant.valid_from:
        raise errors.GrantNotYetValid(f"grant {gid} is valid from {grant.valid_from}", grant_id=gid)


def _scope_gap(grant: ConsentGrant, use: GrantUse, media_kind: str) -> str | None:
    """Why the use is outside the grant's scope, or None when it is inside."""
    missing = sorted(set(use.modalities) - set(grant.modalities))
    if missing:
        return f"modalities {', '.join(missing)} are not granted"
    if GENERATE not in grant.operations:
        return "the grant does not allow generation"
    purposes = {p["category"] for p in grant.purposes} | {
        p["project_ref"] for p in grant.purposes if p.get("project_ref")
    }
    if use.purpose not in purposes:
        return f"purpose {use.purpose!r} is not one of the grant's purposes"
    if ANY_TERRITORY not in grant.territories and use.territory not in grant.territories:
        return f"territory {use.territory} is not granted"
    if media_kind not in grant.media_types:
        return f"{media_kind} media is not granted"
    return None


def authorize_uses(
    session: Session, *, org_id: str, uses: list[GrantUse], media_kind: str, now: datetime
) -> list[AuthorizedUse]:
    """Every cited grant, checked; the first refusal is raised as a 422 problem."""
    authorized = []
    for use in uses:
        grant = session.get(ConsentGrant, use.grant_id) if is_uuid(use.grant_id) else None
        # Another organization's grant is reported exactly like a missing one.
        if grant is None or grant.grantee_org_id != org_id:
            raise errors.CitedGrantNotFound(
                f"grant {use.grant_id} does not exist for this organization",
                grant_id=use.grant_id,
            )
        _check_status(grant, now)
        gap = _scope_gap(grant, use, media_kind)
        if gap:
            raise errors.GrantOutOfScope(f"grant {grant.id}: {gap}", grant_id=grant.id)
        authorized.append(AuthorizedUse(grant=grant, use=use))
    return authorized
