"""A person's account: passkeys, the profiles (subjects) linked to it, and what it may see.

Everything a person reads goes through ``person_grant`` or ``person_grants`` (given the
person's ``profiles``): a grant whose subject is not one of their profiles is "not found",
exactly like one that does not exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.auth.models import Organization
from registry.consent import declarations
from registry.consent.models import ConsentGrant, Subject
from registry.db import utcnow
from registry.ids import is_uuid
from registry.media.citations import citing_media
from registry.media.models import MediaAsset
from registry.portal.errors import PortalGrantNotFound
from registry.portal.models import Passkey, Person, PersonProfile
from registry.portal.passkeys import NewPasskey


@dataclass(frozen=True)
class PersonGrant:
    """A grant as its person sees it: with their profile and the studio's name."""

    grant: ConsentGrant
    subject: Subject
    studio: str


def new_user_handle() -> str:
    """A random WebAuthn user handle (32 bytes, hex): nothing about the person."""
    return secrets.token_hex(32)


def create_person(session: Session, *, user_handle: str, now: datetime | None = None) -> Person:
    person = Person(user_handle=user_handle, created_at=now or utcnow())
    session.add(person)
    session.flush()
    return person


def add_passkey(session: Session, person: Person, passkey: NewPasskey) -> Passkey:
    row = Passkey(
        person_id=person.id,
        credential_id=passkey.credential_id,
        public_key=passkey.public_key,
        sign_count=passkey.sign_count,
    )
    session.add(row)
    session.flush()
    return row


def find_passkey(session: Session, credential_id: str) -> Passkey | None:
    return session.scalars(
        sa.select(Passkey).where(col(Passkey.credential_id) == credential_id)
    ).first()


def profiles(session: Session, person_id: str) -> list[Subject]:
    """The person's profiles (one per studio that invited them), oldest link first."""
    return list(
        session.scalars(
            sa.select(Subject)
            .join(PersonProfile, col(PersonProfile.subject_id) == col(Subject.id))
            .where(col(PersonProfile.person_id) == person_id)
            .order_by(col(PersonProfile.linked_at), col(Subject.id))
        )
    )


def studio_name(session: Session, org_id: str) -> str:
    return _studios(session, {org_id}).get(org_id, "")


def _studios(session: Session, org_ids: set[str]) -> dict[str, str]:
    if not org_ids:
        return {}
    rows = session.execute(
        sa.select(col(Organization.id), col(Organization.name)).where(
            col(Organization.id).in_(org_ids)
        )
    )
    return {org_id: name for org_id, name in rows}


def person_grants(session: Session, mine: Sequence[Subject]) -> list[PersonGrant]:
    """Every grant naming one of the person's profiles (``mine``, from ``profiles``), across
    studios, newest first."""
    subjects = {s.id: s for s in mine}
    if not subjects:
        return []
    grants = list(
        session.scalars(
            sa.select(ConsentGrant)
            .where(col(ConsentGrant.subject_id).in_(subjects))
            .order_by(col(ConsentGrant.created_at).desc(), col(ConsentGrant.id))
        )
    )
    names = _studios(session, {g.org_id for g in grants})
    return [PersonGrant(g, subjects[g.subject_id], names.get(g.org_id, "")) for g in grants]


def person_grant(session: Session, person_id: str, grant_id: str) -> PersonGrant:
    """One of the person's grants; anyone else's (or none) is :class:`PortalGrantNotFound`."""
    grant = session.get(ConsentGrant, grant_id) if is_uuid(grant_id) else None
    if grant is not None:
        linked = session.scalars(
            sa.select(PersonProfile).where(
                col(PersonProfile.subject_id) == grant.subject_id,
                col(PersonProfile.person_id) == person_id,
            )
        ).first()
        subject = session.get(Subject, grant.subject_id) if linked else None
        if subject is not None:
            return PersonGrant(grant, subject, studio_name(session, grant.org_id))
    raise PortalGrantNotFound(f"no grant {grant_id} among yours")


def person_media(
    session: Session, person_id: str, media_id: str
) -> tuple[MediaAsset, list[PersonGrant]]:
    """A media asset citing one of the person's grants, with those grants; else not found."""
    asset = session.get(MediaAsset, media_id) if is_uuid(media_id) else None
    mine = {pg.grant.id: pg for pg in person_grants(session, profiles(session, person_id))}
    cited = [mine[g] for g in (asset.grant_ids if asset else []) if g in mine]
    if asset is None or not cited:
        raise PortalGrantNotFound(f"no media {media_id} citing your grants")
    return asset, cited


def media_of(session: Session, grant: ConsentGrant) -> list[MediaAsset]:
    """The media signed citing this grant."""
    return citing_media(session, org_id=grant.org_id, grant_id=grant.id)


def declared(session: Session, mine: Sequence[Subject]) -> set[str]:
    """The declarations in force for the person (the same on all their profiles, ``mine``)."""
    found = declarations.in_force(session, (s.id for s in mine))
    return set().union(*found.values()) if found else set()


def export(session: Session, person_id: str) -> dict[str, Any]:
    """Everything the registry holds about the person, as JSON-ready data."""
    person = session.get(Person, person_id)
    subjects = profiles(session, person_id)
    grants = person_grants(session, subjects)
    names = _studios(session, {s.org_id for s in subjects})
    keys = session.scalars(sa.select(Passkey).where(col(Passkey.person_id) == person_id)).all()
    now = utcnow()
    return {
        "account": {
            "id": person_id,
            "created_at": person.created_at.isoformat() if person else None,
            "passkeys": [
                {"credential_id": k.credential_id, "created_at": k.created_at.isoformat()}
                for k in keys
            ],
            "declarations": sorted(declared(session, subjects)),
        },
        "profiles": [
            {
                "subject_id": s.id,
                "studio": names.get(s.org_id, ""),
                "pseudonymous_id": s.pseudonymous_id,
                "display_name": s.display_name,
                "status": s.status,
                "date_of_birth": s.date_of_birth.isoformat() if s.date_of_birth else None,
                "jurisdictions": s.jurisdictions,
            }
            for s in subjects
        ],
        "grants": [
            {
                **pg.grant.model_dump(mode="json", exclude={"token"}),
                "status": pg.grant.effective_status(now),
                "studio": pg.studio,
                "media": [
                    {
                        "id": a.id,
                        "manifest_id": a.manifest_id,
                        "sha256": a.sha256,
                        "created_at": a.created_at.isoformat(),
                    }
                    for a in media_of(session, pg.grant)
                ],
            }
            for pg in grants
        ],
    }
