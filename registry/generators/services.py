"""The generator inventory: create, read, list, update, approve, retire; and the rule that
signing cites only an approved, unretired generator of its own organization.

Every change is an audit event and a webhook event (``generator.*``), in its transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.services import record_event
from registry.db import utcnow
from registry.generators import errors
from registry.generators.models import GeneratorEntry
from registry.generators.schemas import (
    GeneratorCreate,
    GeneratorFacts,
    GeneratorPublic,
    GeneratorUpdate,
)
from registry.ids import is_uuid
from registry.pagination import Page, keyset_page, uuid_key
from registry.webhooks.events import emit


def _announce(
    session: Session, entry: GeneratorEntry, action: str, actor: str, **extra: Any
) -> None:
    """The audit event and the webhook event of a change (ids and public facts only)."""
    data = {
        "generator_id": entry.id,
        "name": entry.name,
        "version": entry.version,
        "state": entry.state,
        **extra,
    }
    record_event(
        session,
        org_id=entry.org_id,
        actor=actor,
        action=action,
        object_type="generator",
        object_id=entry.id,
        payload=data,
    )
    emit(session, entry.org_id, action, data)


def _named(
    org_id: str, name: str | None, version: str | None
) -> tuple[sa.ColumnElement[bool], ...]:
    """The conditions of the organization's entry ``name`` ``version``."""
    return (
        col(GeneratorEntry.org_id) == org_id,
        col(GeneratorEntry.name) == name,
        col(GeneratorEntry.version) == version,
    )


def _entry_by_id(
    session: Session,
    *,
    org_id: str,
    generator_id: str,
    for_update: bool | dict[str, bool] | None,
) -> GeneratorEntry | None:
    """The organization's entry ``generator_id``; None when there is none (a malformed id, or
    another organization's entry). Read afresh when ``for_update`` locks it."""
    if not is_uuid(generator_id):
        return None
    entry = session.get(
        GeneratorEntry,
        generator_id,
        with_for_update=for_update,
        populate_existing=bool(for_update),
    )
    return entry if entry is not None and entry.org_id == org_id else None


def _refuse_duplicate(
    session: Session, *, org_id: str, name: str, version: str, other_than: str | None = None
) -> None:
    query = sa.select(col(GeneratorEntry.id)).where(*_named(org_id, name, version))
    existing = session.scalars(query).first()
    if existing is not None and existing != other_than:
        raise errors.GeneratorExists(
            f"the inventory already holds {name} {version}", generator_id=existing
        )


def create_generator(
    session: Session,
    *,
    org_id: str,
    body: GeneratorCreate,
    actor: str,
    approved_by: str | None = None,
) -> GeneratorEntry:
    """A new inventory entry, ``pending`` until approved (``approved_by``: approved at once,
    as ``registry demo`` does for its demo generator)."""
    _refuse_duplicate(session, org_id=org_id, name=body.name, version=body.version)
    now = utcnow()
    entry = GeneratorEntry(
        org_id=org_id,
        **body.model_dump(),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    session.flush()
    _announce(session, entry, "generator.created", actor)
    if approved_by is not None:
        approve_generator(
            session, org_id=org_id, generator_id=entry.id, actor=actor, approver=approved_by
        )
    return entry


def get_generator(
    session: Session, *, org_id: str, generator_id: str, lock: bool = False
) -> GeneratorEntry:
    """The organization's generator; another organization's id is simply not found. With
    ``lock`` (a change) the row is read afresh and held until the transaction ends."""
    entry = _entry_by_id(session, org_id=org_id, generator_id=generator_id, for_update=lock)
    if entry is None:
        raise errors.GeneratorNotFound(f"no generator {generator_id}")
    return entry


def list_generators(
    session: Session, *, org_id: str, state: str | None, cursor: str | None, limit: int
) -> Page[GeneratorEntry]:
    query = sa.select(GeneratorEntry).where(col(GeneratorEntry.org_id) == org_id)
    if state is not None:
        query = query.where(col(GeneratorEntry.state) == state)
    return keyset_page(
        session, query, key=col(GeneratorEntry.id), cursor=cursor, limit=limit, parse=uuid_key
    )


def _refuse_retired(entry: GeneratorEntry) -> None:
    if entry.state == "retired":
        raise errors.GeneratorRetired(f"generator {entry.id} is retired", generator_id=entry.id)


def update_generator(
    session: Session, *, org_id: str, generator_id: str, body: GeneratorUpdate, actor: str
) -> GeneratorEntry:
    """Change an entry's facts. The approval was of the facts as they were: a change to an
    approved entry returns it to ``pending`` (an unchanged value changes nothing)."""
    entry = get_generator(session, org_id=org_id, generator_id=generator_id, lock=True)
    _refuse_retired(entry)
    changes = {
        name: value
        for name, value in body.model_dump(exclude_unset=True).items()
        if getattr(entry, name) != value
    }
    if not changes:
        return entry
    if "name" in changes or "version" in changes:
        _refuse_duplicate(
            session,
            org_id=org_id,
            name=changes.get("name", entry.name),
            version=changes.get("version", entry.version),
            other_than=entry.id,
        )
    for name, value in changes.items():
        setattr(entry, name, value)
    reapproval = entry.state == "approved"
    if reapproval:
        entry.state, entry.approved_by, entry.approved_at = "pending", None, None
    entry.updated_at = utcnow()
    session.flush()
    _announce(
        session,
        entry,
        "generator.updated",
        actor,
        changed=sorted(changes),
        approval_withdrawn=reapproval,
    )
    return entry


def approve_generator(
    session: Session, *, org_id: str, generator_id: str, actor: str, approver: str | None
) -> GeneratorEntry:
    entry = get_generator(session, org_id=org_id, generator_id=generator_id, lock=True)
    _refuse_retired(entry)
    if entry.state == "approved":
        raise errors.GeneratorAlreadyApproved(
            f"generator {entry.id} is approved already", generator_id=entry.id
        )
    now = utcnow()
    entry.state, entry.approved_by, entry.approved_at = "approved", approver or actor, now
    entry.updated_at = now
    session.flush()
    # Who approved stays in the inventory (it may name a person): not in the events.
    _announce(session, entry, "generator.approved", actor)
    return entry


def retire_generator(
    session: Session, *, org_id: str, generator_id: str, actor: str, reason: str | None
) -> GeneratorEntry:
    """Retire an entry for good: signing refuses it from now on; records keep citing it."""
    entry = get_generator(session, org_id=org_id, generator_id=generator_id, lock=True)
    _refuse_retired(entry)
    now = utcnow()
    entry.state, entry.retired_at, entry.retired_reason = "retired", now, reason
    entry.updated_at = now
    session.flush()
    _announce(session, entry, "generator.retired", actor)
    return entry


def cited_generator(
    session: Session,
    *,
    org_id: str,
    generator_id: str | None,
    name: str | None,
    version: str | None,
    media_kind: str,
    lock: bool = False,
) -> GeneratorEntry:
    """The generator a signing cites (by id, or by name and version), if the organization
    may use it for this kind of media: in its inventory, approved, not retired, producing
    ``media_kind``. Otherwise a 422 problem; another organization's entry is unknown.

    With ``lock`` the entry is read afresh and held (shared) until the transaction ends, so
    a retirement that commits while a file is signed is seen when the asset is recorded.
    """
    label = generator_id or f"{name}@{version}"
    if generator_id is not None:
        entry = _entry_by_id(
            session,
            org_id=org_id,
            generator_id=generator_id,
            for_update={"read": True} if lock else None,
        )
    else:
        query = sa.select(GeneratorEntry).where(*_named(org_id, name, version))
        if lock:
            query = query.with_for_update(read=True).execution_options(populate_existing=True)
        entry = session.scalars(query).first()
    if entry is None:
        raise errors.CitedGeneratorUnknown(
            f"generator {label} is not in this organization's inventory", generator=label
        )
    if entry.state == "retired":
        raise errors.CitedGeneratorRetired(
            f"generator {label} was retired at {entry.retired_at}", generator=entry.id
        )
    if entry.state != "approved":
        raise errors.CitedGeneratorNotApproved(
            f"generator {label} is {entry.state}: approve it before signing with it",
            generator=entry.id,
        )
    if media_kind not in entry.modalities:
        raise errors.CitedGeneratorWrongKind(
            f"generator {label} produces {', '.join(entry.modalities)}, not {media_kind}",
            generator=entry.id,
            media_kind=media_kind,
        )
    return entry


def public_entry(entry: GeneratorEntry) -> GeneratorPublic:
    """An entry as the API shows it to its organization (and a creation record keeps it)."""
    return GeneratorPublic.model_validate(entry.model_dump())


def public_facts(entry: GeneratorEntry) -> GeneratorFacts:
    """What may be published of an entry (manifests, the verify page)."""
    return GeneratorFacts(
        name=entry.name,
        version=entry.version,
        provider=entry.provider,
        documentation_url=entry.documentation_url,
        license=entry.license,
        training_data=entry.training_data,
        modalities=list(entry.modalities),
    )
