"""What a person declares about themselves: ``do_not_train`` and ``do_not_synthesize``.

A declaration is made in the portal by the person signed in, and holds for every profile
(subject) in their account. It is one row per subject and kind while in force; withdrawing it
deletes the row (the audit chain keeps the history).

- ``do_not_train``: no new grant (or new version) may include a training operation, and every
  manifest signed from now on citing the subject states ``notAllowed`` for AI training and
  mining (``media.manifest.training_use``).
- ``do_not_synthesize``: no new grant may be issued for the subject, and signing refuses their
  grants that the person has not confirmed themselves; grants they confirmed stay until they
  revoke them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col

from registry.audit.services import record_event
from registry.consent import errors
from registry.consent.models import ConsentGrant, Subject
from registry.consent.schemas import GrantTerms
from registry.consent.vocabulary import (
    DECLARATIONS,
    DO_NOT_SYNTHESIZE,
    DO_NOT_TRAIN,
    TRAINING_OPERATIONS,
)
from registry.db import UTCDateTime, utcnow
from registry.ids import new_id
from registry.webhooks.events import emit


class SubjectDeclaration(SQLModel, table=True):
    __tablename__ = "subject_declarations"
    __table_args__ = (sa.UniqueConstraint("subject_id", "kind", name="uq_subject_declarations"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    subject_id: str = Field(foreign_key="subjects.id", index=True, max_length=36)
    kind: str = Field(max_length=32)
    declared_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def in_force(session: Session, subject_ids: Iterable[str]) -> dict[str, set[str]]:
    """The declarations in force, by subject (one query)."""
    ids = set(subject_ids)
    found: dict[str, set[str]] = defaultdict(set)
    if not ids:
        return found
    rows = session.execute(
        sa.select(col(SubjectDeclaration.subject_id), col(SubjectDeclaration.kind)).where(
            col(SubjectDeclaration.subject_id).in_(ids)
        )
    )
    for subject_id, kind in rows:
        found[subject_id].add(kind)
    return found


def check_new_grant(declared: Collection[str], terms: GrantTerms) -> None:
    """Refuse terms a declaration in force forbids (a new grant or a new version)."""
    if DO_NOT_SYNTHESIZE in declared:
        raise errors.SubjectDeclaredDoNotSynthesize(
            "the person has declared do_not_synthesize: no new grant can be issued for them"
        )
    wanted = sorted(TRAINING_OPERATIONS & set(terms.operations))
    if DO_NOT_TRAIN in declared and wanted:
        raise errors.SubjectDeclaredDoNotTrain(
            f"the person has declared do_not_train: operations {', '.join(wanted)} are refused"
        )


def refuses_signing(declared: Collection[str], grant: ConsentGrant) -> bool:
    """Whether a declaration in force refuses signing with ``grant``: do_not_synthesize, for a
    grant the person has not confirmed themselves."""
    return DO_NOT_SYNTHESIZE in declared and grant.confirmed_at is None


def declare(session: Session, subjects: Collection[Subject], wanted: Collection[str]) -> None:
    """Make ``wanted`` the declarations in force for each of ``subjects`` (one person's
    profiles). Each subject whose declarations change gets an audit event in its studio's
    chain (actor ``subject:<id>``: only the person declares) and a
    ``subject.declarations_changed`` event."""
    unknown = set(wanted) - set(DECLARATIONS)
    if unknown:
        raise ValueError(f"unknown declarations {sorted(unknown)}")
    now = utcnow()
    current = in_force(session, (s.id for s in subjects))
    for subject in subjects:
        have = current.get(subject.id, set())
        added, removed = sorted(set(wanted) - have), sorted(have - set(wanted))
        if not added and not removed:
            continue
        for kind in added:
            session.add(SubjectDeclaration(subject_id=subject.id, kind=kind, declared_at=now))
        if removed:
            session.execute(
                sa.delete(SubjectDeclaration).where(
                    col(SubjectDeclaration.subject_id) == subject.id,
                    col(SubjectDeclaration.kind).in_(removed),
                )
            )
        payload = {"declared": added, "withdrawn": removed, "in_force": sorted(wanted)}
        record_event(
            session,
            org_id=subject.org_id,
            actor=f"subject:{subject.id}",
            action="subject.declarations_changed",
            object_type="subject",
            object_id=subject.id,
            payload={"pseudonymous_id": subject.pseudonymous_id, **payload},
            at=now,
        )
        emit(
            session,
            subject.org_id,
            "subject.declarations_changed",
            {"subject_id": subject.id, "pseudonymous_id": subject.pseudonymous_id, **payload},
            now=now,
        )
    session.flush()
