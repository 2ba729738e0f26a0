"""Signing sessions over HTTP: media signed where it lives, the registry signing its claim."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint

from registry.api import Rendered, operation
from registry.auth.principal import Principal
from registry.db import get_session
from registry.errors import ValidationFailed
from registry.local_signing import services
from registry.local_signing.models import SigningSession
from registry.local_signing.schemas import (
    SignatureRequest,
    SignatureResponse,
    SigningSessionPublic,
    SigningSessionRequest,
)
from registry.media.views import asset_public
from registry.state import app_state

bp = Blueprint("local_signing", __name__)

SCOPES = ["media:sign"]


def _public(found: SigningSession) -> SigningSessionPublic:
    return SigningSessionPublic(
        id=found.id,
        media_id=found.asset_id,
        manifest_label=found.manifest_label,
        manifest_definition=found.definition,
        certificate_chain=app_state().signing.credential.cert_chain_pem.decode("ascii"),
        mime_type=found.mime_type,
        size=found.size,
        source_sha256=found.source_sha256,
        created_at=found.created_at,
        expires_at=found.expires_at,
        signed_at=found.signed_at,
    )


@bp.post("/v1/signing-sessions")
@operation(
    summary="Authorize signing media the registry does not receive (as POST /v1/media does)",
    description="The same metadata, checks and refusals as `POST /v1/media`, plus the file's "
    "type, size and SHA-256. Answers the manifest definition to embed locally (c2pa Builder) "
    "and the registry's certificate chain. The pipeline embeds it with a placeholder "
    "signature and sends the manifest store to `POST /v1/signing-sessions/{id}/signature`.",
    tags=["media"],
    body=SigningSessionRequest,
    response=SigningSessionPublic,
    status=201,
    scopes=SCOPES,
    errors=(400, 401, 403, 413, 415, 422),
)
def create_signing_session(principal: Principal, body: SigningSessionRequest) -> Rendered:
    state = app_state()
    settings = state.settings
    found = services.open_session(
        get_session(),
        signing=state.signing,
        times=services.SessionTimes(
            settings.signing_session_seconds, settings.signing_session_seconds_per_gib
        ),
        org_id=principal.org_id,
        actor=principal.actor,
        body=body,
    )
    return Rendered(_public(found), headers={"Location": f"/v1/signing-sessions/{found.id}"})


@bp.get("/v1/signing-sessions/<session_id>")
@operation(
    summary="Read a signing session",
    tags=["media"],
    response=SigningSessionPublic,
    scopes=SCOPES,
    errors=(401, 403, 404),
)
def get_signing_session(principal: Principal, session_id: str) -> SigningSessionPublic:
    return _public(
        services.get_session(get_session(), org_id=principal.org_id, session_id=session_id)
    )


@bp.post("/v1/signing-sessions/<session_id>/signature")
@operation(
    summary="Sign the claim of the manifest the pipeline built (once)",
    description="Refused unless the manifest's assertions hash to what its claim lists and "
    "are exactly the session's, carrying the session's data, plus one hard binding; the "
    "manifest label and certificate chain are the session's; and the cited grants still "
    "cover the use. Answers the ES256 signature of the claim's COSE Sig_structure, for the "
    "pipeline to put in place of its placeholder. Records the media (`stored: false`).",
    tags=["media"],
    body=SignatureRequest,
    response=SignatureResponse,
    scopes=SCOPES,
    errors=(400, 401, 403, 404, 409, 410, 413, 415, 422),
)
def sign_session(
    principal: Principal, session_id: str, body: SignatureRequest
) -> SignatureResponse:
    try:
        data = base64.b64decode(body.manifest, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed("body.manifest is not base64") from exc
    signature, asset = services.sign_manifest(
        get_session(),
        signing=app_state().signing,
        org_id=principal.org_id,
        session_id=session_id,
        manifest_store=data,
        source_sha256=body.source_sha256,
    )
    return SignatureResponse(
        signature=base64.b64encode(signature).decode("ascii"), media=asset_public(asset)
    )
