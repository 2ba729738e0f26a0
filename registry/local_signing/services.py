"""Signing sessions: authorize like ``POST /v1/media``, then sign the claim of the manifest the
pipeline's c2pa built, once, and record the asset without its bytes.

``open_session`` runs the same plan as an upload (``media.services.plan_for_format``: the
cited grants, their scope, the manifest ``media.manifest`` builds) and keeps it.
``sign_manifest`` checks the manifest against the session (``claim``), checks the grants again
holding them (``media.services.authorize_again``), signs with the registry's C2PA credential
in this process, and records the asset (``media.services.register_asset``: provenance codes,
audit event, ``media.signed``) in the same transaction.
"""

from __future__ import annotations

import base64
import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import Any

import iscc_core as ic
from sqlalchemy.orm import Session

from registry.db import utcnow
from registry.ids import is_uuid
from registry.intake.sniff import BY_MIME_TYPE
from registry.keys.claim_signer import chain_der, sign_es256
from registry.local_signing import claim as claims
from registry.local_signing.errors import (
    FingerprintInvalid,
    SigningSessionExpired,
    SigningSessionNotFound,
    SigningSessionUsed,
    SourceHashMismatch,
    SourceHashRequired,
)
from registry.local_signing.models import SigningSession
from registry.local_signing.schemas import SigningSessionRequest
from registry.media.manifest import ManifestFacts, build_manifest
from registry.media.models import MediaAsset
from registry.media.schemas import MediaMetadata
from registry.media.services import (
    Signing,
    SigningPlan,
    authorize_again,
    new_asset,
    plan_for_format,
    register_asset,
)
from registry.provenance.fingerprints import ALG, Fingerprint, Unit
from registry.records.services import PreparedRecord

GIB = 1024**3
_UNITS: dict[int, tuple[Unit, int]] = {ic.ST_CC.IMAGE: ("image", 8), ic.ST_CC.AUDIO: ("audio", 32)}


@dataclasses.dataclass(frozen=True)
class SessionTimes:
    seconds: int
    seconds_per_gib: int

    def expiry(self, now: datetime, size: int) -> datetime:
        return now + timedelta(seconds=self.seconds + self.seconds_per_gib * size / GIB)


def parse_fingerprint(text: str) -> Fingerprint:
    """An ISCC Image-Code (64 bits) or Audio-Code (256 bits) of the whole content."""
    try:
        mtype, stype, _version, _length, digest = ic.iscc_decode(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise FingerprintInvalid(f"{text} is not an ISCC code: {exc}", value=text) from None
    unit = _UNITS.get(stype) if mtype == ic.MT.CONTENT else None
    if unit is None or len(digest) != unit[1]:
        raise FingerprintInvalid(
            f"{text} is not a {ALG} Image-Code of 64 bits or Audio-Code of 256 bits", value=text
        )
    return Fingerprint(ALG, unit[0], bytes(digest))


def open_session(
    session: Session,
    *,
    signing: Signing,
    times: SessionTimes,
    org_id: str,
    actor: str,
    body: SigningSessionRequest,
    now: datetime | None = None,
) -> SigningSession:
    """Authorize the signing exactly as an upload is authorized, and keep what was decided."""
    now = now or utcnow()
    fingerprints = [parse_fingerprint(text) for text in body.fingerprints]
    metadata = MediaMetadata.model_validate(
        body.model_dump(include=set(MediaMetadata.model_fields)), strict=False
    )
    plan = plan_for_format(
        session,
        signing=signing,
        org_id=org_id,
        actor=actor,
        media_format=BY_MIME_TYPE[body.mime_type],
        metadata=metadata,
        now=now,
    )
    label = f"urn:c2pa:{uuid.uuid4()}"
    signing_session = SigningSession(
        org_id=org_id,
        created_by=actor,
        asset_id=plan.facts.asset_id,
        manifest_label=label,
        mime_type=body.mime_type,
        size=body.size,
        source_sha256=body.source_sha256,
        request={
            # The creation record as prepared: prompt text only sealed, never in the clear.
            "metadata": metadata.model_dump(mode="json", exclude={"creation"}),
            "facts": {
                **dataclasses.asdict(plan.facts),
                "created_at": plan.facts.created_at.isoformat(),
            },
            "record": _record_json(plan.record),
        },
        fingerprints=[fp.iscc for fp in fingerprints],
        definition={
            **build_manifest(plan.uses, plan.facts, fingerprints=fingerprints),
            "label": label,
        },
        created_at=now,
        expires_at=times.expiry(now, body.size),
    )
    session.add(signing_session)
    session.flush()
    return signing_session


def get_session(
    session: Session, *, org_id: str, session_id: str, lock: bool = False
) -> SigningSession:
    """The organization's signing session; another organization's id is simply not found.
    With ``lock``, read afresh and held until the transaction ends."""
    found = (
        session.get(SigningSession, session_id, with_for_update=lock, populate_existing=lock)
        if is_uuid(session_id)
        else None
    )
    if found is None or found.org_id != org_id:
        raise SigningSessionNotFound(f"no signing session {session_id}")
    return found


def _record_json(record: PreparedRecord) -> dict[str, Any]:
    sealed = record.prompt_ciphertext
    return {
        **dataclasses.asdict(record),
        "prompt_ciphertext": base64.b64encode(sealed).decode() if sealed else None,
    }


def _plan(signing_session: SigningSession) -> SigningPlan:
    facts = dict(signing_session.request["facts"])
    facts["created_at"] = datetime.fromisoformat(facts["created_at"])
    facts["human"] = tuple(facts.get("human", ()))
    record = dict(signing_session.request["record"])
    if record["prompt_ciphertext"] is not None:
        record["prompt_ciphertext"] = base64.b64decode(record["prompt_ciphertext"])
    return SigningPlan(
        org_id=signing_session.org_id,
        actor=signing_session.created_by,
        metadata=MediaMetadata.model_validate(signing_session.request["metadata"], strict=False),
        media_format=BY_MIME_TYPE[signing_session.mime_type],
        uses=[],
        facts=ManifestFacts(**facts),
        record=PreparedRecord(**record),
    )


def sign_manifest(
    session: Session,
    *,
    signing: Signing,
    org_id: str,
    session_id: str,
    manifest_store: bytes,
    source_sha256: str | None = None,
    now: datetime | None = None,
) -> tuple[bytes, MediaAsset]:
    """The registry's signature of the manifest's claim (the COSE Sig_structure it builds
    from the store's claim and protected header), and the asset it records; or a refusal,
    with nothing signed and nothing written."""
    now = now or utcnow()
    # Held until the request commits: a second signature of the session waits, then is refused.
    signing_session = get_session(session, org_id=org_id, session_id=session_id, lock=True)
    if signing_session.signed_at is not None:
        raise SigningSessionUsed(
            f"signing session {session_id} signed at {signing_session.signed_at.isoformat()}",
            media_id=signing_session.asset_id,
        )
    if now >= signing_session.expires_at:
        raise SigningSessionExpired(
            f"signing session {session_id} expired at {signing_session.expires_at.isoformat()}"
        )
    declared = signing_session.source_sha256
    if declared is not None and source_sha256 is not None and declared != source_sha256:
        raise SourceHashMismatch(f"signing session {session_id} was opened for {declared}")
    source_sha256 = declared or source_sha256
    if source_sha256 is None:
        raise SourceHashRequired(f"signing session {session_id} has no source SHA-256")
    manifest = claims.read(manifest_store)
    hashes = claims.check(
        manifest,
        claims.Expected(
            manifest_label=signing_session.manifest_label,
            definition=signing_session.definition,
            chain_der=chain_der(signing.credential),
        ),
    )
    plan = _plan(signing_session)
    uses = authorize_again(session, plan, now=now)
    asset = new_asset(
        plan,
        uses,
        sha256=None,
        source_sha256=source_sha256,
        manifest_id=signing_session.manifest_label,
        size=signing_session.size,
        source_size=signing_session.size,
        storage_key=None,
        assertion_hashes=hashes,
    )
    asset = register_asset(
        session,
        plan,
        asset,
        fingerprints=[parse_fingerprint(text) for text in signing_session.fingerprints],
    )
    signing_session.signed_at = now
    signing_session.source_sha256 = source_sha256
    signing_session.claim = manifest.payload
    session.flush()
    # Last: nothing is signed unless everything above was recorded.
    return sign_es256(signing.credential, manifest.to_be_signed), asset
