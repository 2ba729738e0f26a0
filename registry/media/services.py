"""Signing media: authorize the cited grants, embed and sign the manifest, store, record.

Three steps, so that no database lock is held while c2pa and storage work: ``plan_signing``
reads (its transaction ends before the next step), ``sign_and_store`` touches no database
(an image gets its invisible watermark first, then every file its fingerprints, which the
manifest records as soft bindings), and ``record_signing`` checks the grants again under a
lock and writes the asset and its provenance codes (``provenance.index``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.services import record_event
from registry.auth.models import Organization
from registry.c2pa.adapter import SignResult, sign_file
from registry.db import utcnow
from registry.generators.services import public_facts
from registry.ids import is_uuid, new_id
from registry.intake.sniff import MediaFormat, sniff
from registry.intake.spool import SpooledFile
from registry.intake.structure import check_structure
from registry.keys.c2pa_credential import C2paCredential
from registry.media.authorization import AuthorizedUse, authorize_generator, authorize_uses
from registry.media.citations import cites
from registry.media.errors import MediaNotFound
from registry.media.manifest import ManifestFacts, build_manifest
from registry.media.models import ManifestStore, MediaAsset
from registry.media.schemas import MediaMetadata
from registry.metrics import SIGNING_BYTES, SIGNING_SECONDS, work_done
from registry.pagination import Page, keyset_page, uuid_key
from registry.provenance import index
from registry.provenance.errors import UndecodableMedia
from registry.provenance.fingerprints import Fingerprint, watermark_fingerprint
from registry.provenance.jobs import Provenance, mark_and_fingerprint
from registry.provenance.watermark_keys import watermark_key
from registry.records.services import PreparedRecord, add_record, prepare
from registry.storage import BlobStorage, StorageError, media_key
from registry.webhooks.events import emit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Signing:
    """The collaborators of a signing: where files go, who signs, what the manifest names."""

    storage: BlobStorage
    credential: C2paCredential
    registry_url: str
    thumbnails: bool
    presign_seconds: int  # how long a download URL of the store stays valid
    watermark_secret: bytes  # keys the images' invisible watermarks (watermark_key)
    prompt_key: bytes  # encrypts prompt text a studio asks to keep (records.prompts)


@dataclass(frozen=True)
class SigningPlan:
    """An authorized signing: what the manifest will say, decided before any byte is signed."""

    org_id: str
    actor: str
    metadata: MediaMetadata
    media_format: MediaFormat
    uses: list[AuthorizedUse]
    facts: ManifestFacts
    record: PreparedRecord  # the creation record (records.services), its generator's id


@dataclass(frozen=True)
class StoredMedia:
    """A signed file, stored under ``key``, and the provenance its manifest binds."""

    key: str
    signed: SignResult
    provenance: Provenance


def plan_signing(
    session: Session,
    *,
    signing: Signing,
    org_id: str,
    actor: str,
    source: SpooledFile,
    metadata: MediaMetadata,
    now: datetime | None = None,
) -> SigningPlan:
    """Identify the file and check the cited grants (only reads the database)."""
    return plan_for_format(
        session,
        signing=signing,
        org_id=org_id,
        actor=actor,
        media_format=sniff(source.path),
        metadata=metadata,
        now=now,
    )


def plan_for_format(
    session: Session,
    *,
    signing: Signing,
    org_id: str,
    actor: str,
    media_format: MediaFormat,
    metadata: MediaMetadata,
    now: datetime | None = None,
) -> SigningPlan:
    """Check the cited grants for media of ``media_format`` and decide what the manifest
    says (only reads the database): every signing, uploaded or local (``local_signing``)."""
    now = now or utcnow()
    # The precise moment: a grant that became valid earlier in this second is valid now.
    uses = authorize_uses(
        session, org_id=org_id, uses=metadata.grants, media_kind=media_format.kind, now=now
    )
    generator = authorize_generator(
        session, org_id=org_id, metadata=metadata, media_kind=media_format.kind
    )
    org = session.get(Organization, org_id)
    asset_id = new_id()
    record = prepare(generator, metadata.creation, asset_id=asset_id, prompt_key=signing.prompt_key)
    facts = ManifestFacts(
        asset_id=asset_id,
        title=metadata.title or f"{asset_id}.{media_format.extension}",
        generator_name=generator.name,
        generator_version=generator.version,
        digital_source_type=metadata.digital_source_type,
        provider=org.name if org else org_id,
        provider_id=org_id,
        registry_url=signing.registry_url,
        created_at=now.replace(microsecond=0),  # what the manifest and the record say
        generator_provider=generator.provider,
        generator_facts=public_facts(generator).model_dump(exclude_none=True),
        human=tuple(record.human),
    )
    return SigningPlan(org_id, actor, metadata, media_format, uses, facts, record)


def sign_and_store(
    plan: SigningPlan, *, signing: Signing, source: SpooledFile, workdir: Path
) -> StoredMedia:
    """Watermark (images) and fingerprint the content, embed and sign the manifest into a
    copy of it, and store that (no database). The manifest's hash covers the marked pixels."""
    started = time.perf_counter()
    media_format = plan.media_format
    # Files built to keep a decoder busy are refused before any is given them (sign_file
    # checks its own input again: the marked copy).
    check_structure(source.path, mime_type=media_format.mime_type)
    try:
        provenance = mark_and_fingerprint(
            source=source.path,
            dest=workdir / f"marked.{media_format.extension}",
            kind=media_format.kind,
            watermark_key=watermark_key(plan.facts.asset_id, signing.watermark_secret),
        )
    except UndecodableMedia:
        # c2pa decides whether such a file can be signed, and refuses it as it always has
        # (malformed-media); one it signs goes without soft bindings.
        log.warning("signing a %s whose content cannot be decoded", media_format.mime_type)
        provenance = Provenance.absent(source.path)
    dest = workdir / f"signed.{media_format.extension}"
    signed = sign_file(
        source=provenance.path,
        dest=dest,
        mime_type=media_format.mime_type,
        manifest=build_manifest(
            plan.uses,
            plan.facts,
            fingerprints=provenance.fingerprints,
            watermark_key=provenance.watermark_key,
        ),
        credential=signing.credential,
        thumbnails=signing.thumbnails,
    )
    if provenance.path != source.path:
        provenance.path.unlink(missing_ok=True)
    key = media_key(signed.sha256, media_format.extension)
    signing.storage.put_file(key, dest, media_format.mime_type)
    dest.unlink(missing_ok=True)
    work_done(
        SIGNING_SECONDS,
        SIGNING_BYTES,
        mime_type=media_format.mime_type,
        size=source.size,
        started=started,
    )
    return StoredMedia(key, signed, provenance)


def record_signing(
    session: Session,
    plan: SigningPlan,
    stored: StoredMedia,
    *,
    source: SpooledFile,
    now: datetime | None = None,
) -> MediaAsset:
    """Check the grants again, holding them, and record the asset, its provenance codes (the
    fingerprints and watermark key, in the same transaction) and its audit event.

    A revocation (or suspension, ...) that committed while the file was signed wins: its
    refusal is raised (the caller discards the stored file). The grants stay locked (shared)
    until the request commits, so a revocation that comes later waits and is recorded after
    the asset.
    """
    uses = authorize_again(session, plan, now=now)
    asset = new_asset(
        plan,
        uses,
        sha256=stored.signed.sha256,
        source_sha256=source.sha256,
        manifest_id=stored.signed.manifest_label,
        size=stored.signed.size,
        source_size=source.size,
        storage_key=stored.key,
    )
    marks = stored.provenance.watermark_key
    return register_asset(
        session,
        plan,
        asset,
        fingerprints=[
            *stored.provenance.fingerprints,
            *([watermark_fingerprint(marks)] if marks else []),
        ],
        manifest_store=stored.signed.manifest_store,
    )


def new_asset(plan: SigningPlan, uses: list[AuthorizedUse], **file_facts: Any) -> MediaAsset:
    """The asset row of a signing: what the plan decided, the grants as authorized now, and
    the facts of the file (hashes, sizes, manifest id, where it is stored)."""
    metadata = plan.metadata
    return MediaAsset(
        id=plan.facts.asset_id,
        org_id=plan.org_id,
        mime_type=plan.media_format.mime_type,
        grant_ids=[u.grant.id for u in uses],
        grant_uses=[
            {**u.use.model_dump(), "token_sha256": u.grant.token_sha256, "status": "active"}
            for u in uses
        ],
        generator={"name": plan.facts.generator_name, "version": plan.facts.generator_version},
        digital_source_type=metadata.digital_source_type,
        title=metadata.title,
        created_by=plan.actor,
        created_at=plan.facts.created_at,
        **file_facts,
    )


def authorize_again(
    session: Session, plan: SigningPlan, *, now: datetime | None = None
) -> list[AuthorizedUse]:
    """The plan's grants and generator checked again, held (shared lock) until the request
    commits: a revocation, or a generator retired or unapproved, while the file was signed
    is refused."""
    uses = authorize_uses(
        session,
        org_id=plan.org_id,
        uses=plan.metadata.grants,
        media_kind=plan.media_format.kind,
        now=now or utcnow(),
        lock=True,
    )
    authorize_generator(
        session,
        org_id=plan.org_id,
        metadata=plan.metadata,
        media_kind=plan.media_format.kind,
        lock=True,
    )
    return uses


def register_asset(
    session: Session,
    plan: SigningPlan,
    asset: MediaAsset,
    *,
    fingerprints: list[Fingerprint],
    manifest_store: bytes = b"",
) -> MediaAsset:
    """Record a signed asset, its provenance codes, creation record and manifest store, its
    audit event and its ``media.signed`` event (every signing, stored or not)."""
    session.add(asset)
    session.flush()
    index.add(session, asset.id, fingerprints)
    add_record(
        session,
        asset_id=asset.id,
        org_id=plan.org_id,
        prepared=plan.record,
        at=plan.facts.created_at,
    )
    if manifest_store:
        session.add(ManifestStore(asset_id=asset.id, data=manifest_store))
    record_event(
        session,
        org_id=plan.org_id,
        actor=plan.actor,
        action="media.signed",
        object_type="media_asset",
        object_id=asset.id,
        payload={
            "sha256": asset.sha256,
            "source_sha256": asset.source_sha256,
            "manifest_id": asset.manifest_id,
            "grant_ids": asset.grant_ids,
            "generator_id": plan.record.generator_id,
        },
    )
    emit(
        session,
        plan.org_id,
        "media.signed",
        {
            "media_id": asset.id,
            "manifest_id": asset.manifest_id,
            "sha256": asset.sha256,
            "source_sha256": asset.source_sha256,
            "grant_ids": asset.grant_ids,
        },
    )
    return asset


def discard(stored: StoredMedia, *, signing: Signing) -> None:
    """Delete a stored file whose asset will not be recorded (best effort).

    When the store itself is failing, the file stays behind until ``registry storage
    reconcile`` finds it: an object without a row, never a row without an object.
    """
    try:
        signing.storage.delete(stored.key)
    except StorageError:
        log.warning("could not delete %s after a failed signing; reconcile will", stored.key)


def get_media(session: Session, *, org_id: str, media_id: str) -> MediaAsset:
    """The organization's media asset; another organization's id is simply not found."""
    asset = session.get(MediaAsset, media_id) if is_uuid(media_id) else None
    if asset is None or asset.org_id != org_id:
        raise MediaNotFound(f"no media asset {media_id}")
    return asset


def list_media(
    session: Session,
    *,
    org_id: str,
    cursor: str | None,
    limit: int,
    grant_id: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> Page[MediaAsset]:
    """The organization's media, oldest first, stored or not; by cited grant and by date."""
    query = sa.select(MediaAsset).where(col(MediaAsset.org_id) == org_id)
    if grant_id is not None:
        query = query.where(cites(session, grant_id))
    if created_after is not None:
        query = query.where(col(MediaAsset.created_at) >= created_after)
    if created_before is not None:
        query = query.where(col(MediaAsset.created_at) < created_before)
    return keyset_page(
        session, query, key=col(MediaAsset.id), cursor=cursor, limit=limit, parse=uuid_key
    )
