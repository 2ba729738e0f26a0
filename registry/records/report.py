"""The report of a work (``GET /v1/media/{id}/record``): which tools, which grants, which
people did what, when — what a copyright registration or an audit asks for."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.consent.models import ConsentGrant
from registry.consent.scope import status_now
from registry.db import utcnow
from registry.generators.models import GeneratorEntry
from registry.generators.services import public_entry
from registry.media.services import get_media
from registry.records.models import CreationRecord
from registry.records.schemas import CreationReport, RecordGrant, RecordMedia, RecordPrompts


def creation_report(
    session: Session, *, org_id: str, media_id: str, now: datetime | None = None
) -> CreationReport:
    """The report of one of the organization's works (another's id: media not found)."""
    now = now or utcnow()
    asset = get_media(session, org_id=org_id, media_id=media_id)
    record = session.get(CreationRecord, asset.id)
    ids = {use["grant_id"] for use in asset.grant_uses}
    query = sa.select(ConsentGrant).where(col(ConsentGrant.id).in_(ids))
    cited = {grant.id: grant for grant in session.scalars(query)} if ids else {}
    grants = []
    for use in asset.grant_uses:
        grant = cited.get(use["grant_id"])
        grants.append(
            RecordGrant(
                grant_id=use["grant_id"],
                version=grant.version if grant else None,
                subject_id=grant.subject_id if grant else None,
                modalities=list(use.get("modalities", [])),
                purpose=use.get("purpose", ""),
                territory=use.get("territory", ""),
                token_sha256=use.get("token_sha256", ""),
                status_at_signing=use.get("status", "active"),
                status_now=status_now(grant, now) if grant else "unknown",
            )
        )
    generator_now = None
    if record is not None:
        entry = session.get(GeneratorEntry, record.generator_id)
        generator_now = public_entry(entry) if entry else None
    return CreationReport(
        media=RecordMedia.model_validate(asset.model_dump()),
        generator=record.generator if record else dict(asset.generator),
        generator_now=generator_now,
        grants=grants,
        prompts=RecordPrompts(
            count=len(record.prompt_sha256) if record else 0,
            sha256=list(record.prompt_sha256) if record else [],
            text_kept=bool(record and record.prompt_ciphertext),
        ),
        inputs=list(record.inputs) if record else [],
        human=list(record.human) if record else [],
        signed_at=asset.created_at,
    )
