"""Issuing consent grants and changing their lifecycle."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.services import record_event
from registry.canonical import canonical_json
from registry.consent import declarations, status_entries
from registry.consent.errors import GrantNotFound, InvalidTransition
from registry.consent.models import ConsentGrant, Subject
from registry.consent.policy import check_policy
from registry.consent.schemas import GrantCreate, GrantRevoke, GrantSupersede, GrantTerms
from registry.consent.scope import effective_status
from registry.consent.subjects import get_subject
from registry.consent.tokens import ConsentTokenSigner, token_sha256
from registry.consent.vocabulary import PENDING_CONFIRMATION
from registry.db import Database, utcnow
from registry.ids import is_uuid
from registry.pagination import Page, keyset_page, uuid_key
from registry.watches import announce, takedowns


def _new_grant(
    session: Session,
    *,
    org_id: str,
    subject: Subject,
    terms: GrantTerms,
    signer: ConsentTokenSigner,
    now: datetime,
    version: int = 1,
    supersedes: str | None = None,
) -> ConsentGrant:
    check_policy(terms, subject)
    declarations.check_new_grant(declarations.in_force(session, [subject.id])[subject.id], terms)
    data = terms.model_dump(mode="json", exclude={"subject_id", "reason"})
    grant = ConsentGrant(
        org_id=org_id,
        subject_id=subject.id,
        grantee_org_id=org_id,
        granted_by=data["granted_by"],
        representation=data["representation"],
        modalities=sorted(set(terms.modalities)),
        operations=sorted(set(terms.operations)),
        purposes=data["purposes"],
        prohibited_uses=sorted(set(terms.prohibited_uses)),
        media_types=sorted(set(terms.media_types)),
        territories=sorted(set(terms.territories)),
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        consent_timestamp=terms.consent_timestamp or now,
        compensation=data["compensation"],
        training=terms.training or "not_allowed",
        evidence=data["evidence"],
        version=version,
        supersedes=supersedes,
        status=PENDING_CONFIRMATION if terms.requires_confirmation else "active",
        created_at=now.replace(microsecond=0),
        token="",
        token_sha256="",
    )
    session.add(grant)
    entry = status_entries.allocate(session, grant, size=signer.status_lists.size, now=now)
    grant.token = signer.sign(
        grant, pseudonym=subject.pseudonymous_id, list_id=entry.list_id, idx=entry.idx
    )
    grant.token_sha256 = token_sha256(grant.token)
    session.flush()
    return grant


def _audit(session: Session, grant: ConsentGrant, action: str, actor: str, **payload: Any) -> None:
    record_event(
        session,
        org_id=grant.org_id,
        actor=actor,
        action=action,
        object_type="consent_grant",
        object_id=grant.id,
        payload={"version": grant.version, "token_sha256": grant.token_sha256, **payload},
    )


def issue_grant(
    session: Session,
    *,
    org_id: str,
    data: GrantCreate,
    signer: ConsentTokenSigner,
    actor: str,
    now: datetime | None = None,
) -> ConsentGrant:
    """Check policy, sign the consent token and store a new grant."""
    now = now or utcnow()
    subject = get_subject(session, org_id=org_id, subject_id=data.subject_id)
    grant = _new_grant(session, org_id=org_id, subject=subject, terms=data, signer=signer, now=now)
    _audit(session, grant, "grant.issued", actor, subject_id=subject.id)
    announce.grant_changed(session, grant, "grant.issued", now=now)
    return grant


def get_grant(session: Session, *, org_id: str, grant_id: str, lock: bool = False) -> ConsentGrant:
    """The organization's grant; another organization's id is simply not found."""
    grant = None
    if is_uuid(grant_id):
        grant = session.get(ConsentGrant, grant_id, with_for_update=lock or None)
    if grant is None or grant.org_id != org_id:
        raise GrantNotFound(f"no grant {grant_id}")
    return grant


def list_grants(
    session: Session,
    *,
    org_id: str,
    subject_id: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
    now: datetime | None = None,
) -> Page[ConsentGrant]:
    """A page of the organization's grants, oldest first, filtered by subject and status."""
    now = now or utcnow()
    query = sa.select(ConsentGrant).where(col(ConsentGrant.org_id) == org_id)
    if subject_id:
        query = query.where(col(ConsentGrant.subject_id) == subject_id)
    if status == "expired":
        query = query.where(
            col(ConsentGrant.status) == "active", col(ConsentGrant.valid_until) <= now
        )
    elif status == "active":
        query = query.where(
            col(ConsentGrant.status) == "active", col(ConsentGrant.valid_until) > now
        )
    elif status:
        query = query.where(col(ConsentGrant.status) == status)
    return keyset_page(
        session, query, key=col(ConsentGrant.id), cursor=cursor, limit=limit, parse=uuid_key
    )


def _transition(
    session: Session,
    *,
    org_id: str,
    grant_id: str,
    allowed_from: tuple[str, ...],
    verb: str,
    now: datetime,
) -> ConsentGrant:
    grant = get_grant(session, org_id=org_id, grant_id=grant_id, lock=True)
    current = grant.effective_status(now)
    if current not in allowed_from:
        raise InvalidTransition(
            f"a grant that is {current} cannot be {verb}", current_status=current
        )
    grant.status_changed_at = now
    return grant


def revoke_grant(
    session: Session, *, org_id: str, grant_id: str, data: GrantRevoke, actor: str
) -> ConsentGrant:
    """Revoke a grant: no new use from now on."""
    now = utcnow()
    grant = _transition(
        session,
        org_id=org_id,
        grant_id=grant_id,
        allowed_from=("active", "suspended", PENDING_CONFIRMATION),
        verb="revoked",
        now=now,
    )
    grant.status = "revoked"
    grant.revoked_at = now
    grant.revocation = {"at": now.isoformat(), "reason": data.reason, "effect": data.effect}
    status_entries.mark(session, grant, now)
    _audit(session, grant, "grant.revoked", actor, reason=data.reason, effect=data.effect)
    announce.grant_changed(session, grant, "grant.revoked", now=now, effect=data.effect)
    if data.effect == "unpublish":
        takedowns.request_takedowns(session, grant, now=now)
    return grant


def suspend_grant(
    session: Session, *, org_id: str, grant_id: str, reason: str, actor: str
) -> ConsentGrant:
    """Pause an active grant (e.g. while a dispute is looked at): no new use until resumed."""
    return _set_status(
        session, org_id, grant_id, ("active",), "suspended", "suspended", reason, actor
    )


def resume_grant(
    session: Session, *, org_id: str, grant_id: str, reason: str, actor: str
) -> ConsentGrant:
    """Lift a suspension: the grant is active again."""
    return _set_status(
        session, org_id, grant_id, ("suspended",), "active", "resumed", reason, actor
    )


def _set_status(
    session: Session,
    org_id: str,
    grant_id: str,
    allowed_from: tuple[str, ...],
    status: str,
    verb: str,
    reason: str,
    actor: str,
) -> ConsentGrant:
    """Move a grant from one of ``allowed_from`` to ``status`` (suspend, resume, decline):
    its status-list entry follows, ``grant.<verb>`` is audited and announced."""
    now = utcnow()
    grant = _transition(
        session,
        org_id=org_id,
        grant_id=grant_id,
        allowed_from=allowed_from,
        verb=verb,
        now=now,
    )
    grant.status = status
    status_entries.mark(session, grant)
    _audit(session, grant, f"grant.{verb}", actor, reason=reason)
    announce.grant_changed(session, grant, f"grant.{verb}", now=now)
    return grant


def supersede_grant(
    session: Session,
    *,
    org_id: str,
    grant_id: str,
    data: GrantSupersede,
    signer: ConsentTokenSigner,
    actor: str,
) -> ConsentGrant:
    """Amend a grant: issue the next version and end the old one as superseded."""
    now = utcnow()
    old = _transition(
        session,
        org_id=org_id,
        grant_id=grant_id,
        allowed_from=("active", "suspended"),
        verb="superseded",
        now=now,
    )
    subject = get_subject(session, org_id=org_id, subject_id=old.subject_id)
    new = _new_grant(
        session,
        org_id=org_id,
        subject=subject,
        terms=data,
        signer=signer,
        now=now,
        version=old.version + 1,
        supersedes=old.id,
    )
    old.status = "superseded"
    old.superseded_by = new.id
    status_entries.mark(session, old, now)
    _audit(session, old, "grant.superseded", actor, reason=data.reason, superseded_by=new.id)
    _audit(session, new, "grant.issued", actor, subject_id=subject.id, supersedes=old.id)
    announce.grant_changed(session, old, "grant.superseded", now=now, superseded_by=new.id)
    announce.grant_changed(session, new, "grant.issued", now=now, supersedes=old.id)
    return new


def confirm_grant(
    session: Session,
    *,
    org_id: str,
    grant_id: str,
    signer: ConsentTokenSigner,
    actor: str,
    statement: dict[str, Any],
) -> ConsentGrant:
    """The person confirms a pending grant: it becomes active, its evidence records the
    confirmation (the SHA-256 of ``statement``, what the person saw and who they were signed
    in as), and its token is signed again saying it was confirmed by the subject."""
    now = utcnow()
    grant = _transition(
        session,
        org_id=org_id,
        grant_id=grant_id,
        allowed_from=(PENDING_CONFIRMATION,),
        verb="confirmed",
        now=now,
    )
    subject = get_subject(session, org_id=org_id, subject_id=grant.subject_id)
    unconfirmed_sha256 = grant.token_sha256
    digest = hashlib.sha256(canonical_json({**statement, "at": now.isoformat()})).hexdigest()
    grant.status = "active"
    grant.confirmed_at = now.replace(microsecond=0)
    grant.evidence = [
        *grant.evidence,
        {
            "kind": "subject_confirmation",
            "sha256": digest,
            "description": f"confirmed by the subject in the portal at {grant.confirmed_at}",
        },
    ]
    entry = status_entries.mark(session, grant, now)
    if entry is not None:
        grant.token = signer.sign(
            grant, pseudonym=subject.pseudonymous_id, list_id=entry.list_id, idx=entry.idx
        )
        grant.token_sha256 = token_sha256(grant.token)
    _audit(
        session,
        grant,
        "grant.confirmed",
        actor,
        evidence_sha256=digest,
        unconfirmed_token_sha256=unconfirmed_sha256,
    )
    announce.grant_changed(session, grant, "grant.confirmed", now=now)
    return grant


def decline_grant(
    session: Session, *, org_id: str, grant_id: str, reason: str, actor: str
) -> ConsentGrant:
    """The person declines a pending grant: it never covers a use (final)."""
    return _set_status(
        session, org_id, grant_id, (PENDING_CONFIRMATION,), "declined", "declined", reason, actor
    )


STATUS_QUERY = sa.select(
    col(ConsentGrant.id),
    col(ConsentGrant.status),
    col(ConsentGrant.valid_from),
    col(ConsentGrant.valid_until),
    col(ConsentGrant.revoked_at),
    col(ConsentGrant.version),
).where(col(ConsentGrant.id) == sa.bindparam("grant_id"))


def grant_status(database: Database, *, grant_id: str) -> dict[str, Any]:
    """The public status of any grant (no personal data): one indexed read, one round trip."""
    row = database.read(STATUS_QUERY, {"grant_id": grant_id}) if is_uuid(grant_id) else None
    if row is None:
        raise GrantNotFound(f"no grant {grant_id}")
    row["status"] = effective_status(row["status"], row["valid_until"], utcnow())
    return row
