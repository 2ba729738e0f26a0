"""Subjects: the people whose voice or likeness a studio's grants cover."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.services import record_event
from registry.consent.errors import InvalidSubject, SubjectNotFound
from registry.consent.models import Subject
from registry.consent.schemas import SubjectCreate
from registry.db import utcnow
from registry.ids import is_uuid, new_token
from registry.pagination import Page, keyset_page, uuid_key


def create_subject(session: Session, *, org_id: str, data: SubjectCreate, actor: str) -> Subject:
    """Register a subject for the organization."""
    today = utcnow().date()
    if data.status == "deceased" and data.date_of_death is None:
        raise InvalidSubject("a deceased subject needs date_of_death")
    if data.status == "living" and data.date_of_death is not None:
        raise InvalidSubject("a living subject has no date_of_death")
    if data.date_of_birth and data.date_of_birth > today:
        raise InvalidSubject("date_of_birth is in the future")
    if data.date_of_death and (
        data.date_of_death > today
        or (data.date_of_birth and data.date_of_death < data.date_of_birth)
    ):
        raise InvalidSubject("date_of_death must be in the past and after date_of_birth")
    subject = Subject(
        org_id=org_id,
        pseudonymous_id=new_token("sub", 16),
        display_name=data.display_name,
        status=data.status,
        date_of_birth=data.date_of_birth,
        date_of_death=data.date_of_death,
        jurisdictions=data.jurisdictions,
        external_ref=data.external_ref,
    )
    session.add(subject)
    session.flush()
    record_event(
        session,
        org_id=org_id,
        actor=actor,
        action="subject.created",
        object_type="subject",
        object_id=subject.id,
        payload={"pseudonymous_id": subject.pseudonymous_id, "status": subject.status},
    )
    return subject


def get_subject(session: Session, *, org_id: str, subject_id: str) -> Subject:
    """The organization's subject; another organization's id is simply not found."""
    subject = session.get(Subject, subject_id) if is_uuid(subject_id) else None
    if subject is None or subject.org_id != org_id:
        raise SubjectNotFound(f"no subject {subject_id}")
    return subject


def pseudonyms(session: Session, subject_ids: set[str]) -> dict[str, str]:
    """Pseudonymous ids of these subjects, in one query (for pages of grants)."""
    if not subject_ids:
        return {}
    rows = session.execute(
        sa.select(col(Subject.id), col(Subject.pseudonymous_id)).where(
            col(Subject.id).in_(subject_ids)
        )
    )
    return {subject_id: pseudonym for subject_id, pseudonym in rows}


def list_subjects(
    session: Session, *, org_id: str, cursor: str | None, limit: int
) -> Page[Subject]:
    """A page of the organization's subjects, oldest first."""
    query = sa.select(Subject).where(col(Subject.org_id) == org_id)
    return keyset_page(
        session, query, key=col(Subject.id), cursor=cursor, limit=limit, parse=uuid_key
    )
