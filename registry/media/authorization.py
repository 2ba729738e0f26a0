"""Authorization before signing: do the cited grants cover this exact use, now?

The rule itself is ``consent.scope``; this module looks the grants up for the organization
and turns the rule's answer into signing's problem types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from registry.consent import declarations
from registry.consent.models import ConsentGrant
from registry.consent.scope import NOT_YET_VALID, Use, scope_gap, status_now
from registry.consent.vocabulary import PENDING_CONFIRMATION
from registry.generators.models import GeneratorEntry
from registry.generators.services import cited_generator
from registry.ids import is_uuid
from registry.media import errors
from registry.media.schemas import GrantUse, MediaMetadata


@dataclass(frozen=True)
class AuthorizedUse:
    """A cited grant that covers the use, and the use it covers."""

    grant: ConsentGrant
    use: GrantUse
    # The person has declared do_not_train: the manifest says notAllowed (media.manifest).
    do_not_train: bool = False


def _refuse_status(grant: ConsentGrant, status: str) -> None:
    gid = grant.id
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
    if status == PENDING_CONFIRMATION:
        raise errors.GrantPendingConfirmation(
            f"grant {gid} waits for the person's confirmation in the portal", grant_id=gid
        )
    if status == "declined":
        raise errors.GrantDeclined(f"grant {gid} was declined by the person", grant_id=gid)
    if status == NOT_YET_VALID:
        raise errors.GrantNotYetValid(f"grant {gid} is valid from {grant.valid_from}", grant_id=gid)


def _cited_grant(
    session: Session, *, org_id: str, grant_id: str, lock: bool
) -> ConsentGrant | None:
    """The organization's grant ``grant_id``; None for a missing grant or another
    organization's, which are reported alike."""
    if not is_uuid(grant_id):
        return None
    grant = session.get(
        ConsentGrant,
        grant_id,
        with_for_update={"read": True} if lock else None,
        populate_existing=lock,
    )
    return grant if grant is not None and grant.grantee_org_id == org_id else None


def authorize_uses(
    session: Session,
    *,
    org_id: str,
    uses: list[GrantUse],
    media_kind: str,
    now: datetime,
    lock: bool = False,
) -> list[AuthorizedUse]:
    """Every cited grant, checked; the first refusal is raised as a 422 problem.

    With ``lock`` the grants are read afresh (not from the session) and held with a shared
    lock until the transaction ends: a revocation waits for it (PostgreSQL; SQLite's write
    transaction holds the whole database).
    """
    grants = [
        _cited_grant(session, org_id=org_id, grant_id=use.grant_id, lock=lock) for use in uses
    ]
    # The people's declarations, for every cited grant at once.
    declared_by = declarations.in_force(session, {g.subject_id for g in grants if g is not None})
    authorized = []
    for use, grant in zip(uses, grants, strict=True):
        if grant is None:
            raise errors.CitedGrantNotFound(
                f"grant {use.grant_id} does not exist for this organization",
                grant_id=use.grant_id,
            )
        _refuse_status(grant, status_now(grant, now))
        wanted = Use(
            modalities=use.modalities,
            purpose=use.purpose,
            territory=use.territory,
            media_kind=media_kind,
        )
        gap = scope_gap(grant, wanted)
        if gap is not None:
            raise errors.GrantOutOfScope(
                f"grant {grant.id}: {gap.detail}", grant_id=grant.id, scope=gap.reason
            )
        declared = declared_by[grant.subject_id]
        if declarations.refuses_signing(declared, grant):
            raise errors.SubjectDeclaredDoNotSynthesize(
                f"grant {grant.id}: the person has declared do_not_synthesize and has not "
                "confirmed this grant themselves",
                grant_id=grant.id,
            )
        do_not_train = declarations.DO_NOT_TRAIN in declared
        authorized.append(AuthorizedUse(grant=grant, use=use, do_not_train=do_not_train))
    return authorized


def authorize_generator(
    session: Session, *, org_id: str, metadata: MediaMetadata, media_kind: str, lock: bool = False
) -> GeneratorEntry:
    """The cited generator, if the organization may sign with it: an approved, unretired
    entry of its inventory that produces ``media_kind`` (``generators.services``); otherwise
    a 422 problem. Every signing path calls this beside ``authorize_uses``."""
    return cited_generator(
        session,
        org_id=org_id,
        generator_id=metadata.generator_id,
        name=metadata.generator.name if metadata.generator else None,
        version=metadata.generator.version if metadata.generator else None,
        media_kind=media_kind,
        lock=lock,
    )
