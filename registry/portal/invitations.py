"""Invitations: a studio's single-use, expiring link that brings a person to their profile.

Only the SHA-256 of the link's secret is stored. Redeeming links the subject to the person's
account (a new one, made with a passkey, or the one they are signed in to): one person may
hold the profiles of several studios. A subject belongs to one account; a later invitation
redeemed by another account moves it there (a person who lost their passkeys).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.services import record_event
from registry.consent.models import Subject
from registry.consent.subjects import get_subject
from registry.db import utcnow
from registry.ids import new_token
from registry.portal import errors
from registry.portal.models import PersonProfile, SubjectInvitation

INVITATION_PATH = "/portal/invitations/"


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_invitation(
    session: Session,
    *,
    org_id: str,
    subject_id: str,
    actor: str,
    base_url: str,
    ttl_hours: int,
    emailed: bool,
    now: datetime | None = None,
) -> tuple[SubjectInvitation, str]:
    """A new invitation for the organization's subject, and its link (shown once)."""
    now = (now or utcnow()).replace(microsecond=0)
    subject = get_subject(session, org_id=org_id, subject_id=subject_id)
    secret = new_token("inv", 32)
    invitation = SubjectInvitation(
        org_id=org_id,
        subject_id=subject.id,
        token_sha256=secret_sha256(secret),
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(hours=ttl_hours),
        delivery={"emailed": emailed},
    )
    session.add(invitation)
    session.flush()
    record_event(
        session,
        org_id=org_id,
        actor=actor,
        action="subject.invited",
        object_type="subject",
        object_id=subject.id,
        payload={
            "invitation_id": invitation.id,
            "expires_at": invitation.expires_at.isoformat(),
            "emailed": emailed,
        },
        at=now,
    )
    return invitation, f"{base_url.rstrip('/')}{INVITATION_PATH}{secret}"


def open_invitation(
    session: Session, secret: str, *, now: datetime | None = None, lock: bool = False
) -> SubjectInvitation:
    """The invitation this secret opens, still unused and unexpired; otherwise its problem."""
    now = now or utcnow()
    query = sa.select(SubjectInvitation).where(
        col(SubjectInvitation.token_sha256) == secret_sha256(secret)
    )
    if lock:  # redeeming: a second redemption at the same time waits, then finds it used
        query = query.with_for_update().execution_options(populate_existing=True)
    invitation = session.scalars(query).first()
    if invitation is None:
        raise errors.InvitationNotFound("this invitation link is not valid")
    if invitation.redeemed_at is not None:
        raise errors.InvitationUsed("this invitation link has been used already")
    if now >= invitation.expires_at:
        raise errors.InvitationExpired(
            f"this invitation link expired at {invitation.expires_at:%Y-%m-%d %H:%M} UTC"
        )
    return invitation


def redeem(
    session: Session, invitation: SubjectInvitation, *, person_id: str, now: datetime | None = None
) -> Subject:
    """Use the invitation up and link its subject to the person's account."""
    now = now or utcnow()
    invitation.redeemed_at = now
    invitation.redeemed_by = person_id
    subject = session.get(Subject, invitation.subject_id)
    assert subject is not None  # noqa: S101 - a foreign key
    profile = session.scalars(
        sa.select(PersonProfile).where(col(PersonProfile.subject_id) == subject.id)
    ).first()
    moved_from = None
    if profile is None:
        session.add(PersonProfile(person_id=person_id, subject_id=subject.id, linked_at=now))
    elif profile.person_id != person_id:
        moved_from, profile.person_id, profile.linked_at = profile.person_id, person_id, now
    session.flush()
    record_event(
        session,
        org_id=subject.org_id,
        actor=f"subject:{subject.id}",
        action="subject.invitation_redeemed",
        object_type="subject",
        object_id=subject.id,
        payload={"invitation_id": invitation.id, "moved_account": moved_from is not None},
        at=now,
    )
    return subject
