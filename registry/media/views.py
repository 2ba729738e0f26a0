"""Media over HTTP: sign an upload or an object in the bucket, read the asset, fetch the bytes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, send_file

from registry.api import Rendered, operation
from registry.auth.principal import Principal
from registry.db import get_session
from registry.media import services
from registry.media.models import MediaAsset
from registry.media.schemas import (
    MEDIA_UPLOAD_BODY,
    MediaAssetPublic,
    MediaMetadata,
    SignObjectRequest,
)
from registry.media.spool import SpooledFile, workdir
from registry.media.upload import receive_upload

bp = Blueprint("media", __name__)
SIGN_ERRORS = (400, 401, 403, 404, 413, 415, 422, 503)


def current_signing() -> services.Signing:
    """The app's signing collaborators (storage, credential, limits, spool directory)."""
    return current_app.extensions["registry.signing"]  # type: ignore[no-any-return]


def asset_public(asset: MediaAsset) -> MediaAssetPublic:
    return MediaAssetPublic.model_validate(
        {**asset.model_dump(), "download_url": f"/v1/media/{asset.id}/content"}
    )


def _sign(
    principal: Principal, receive: Callable[[Path], tuple[SpooledFile, MediaMetadata]]
) -> Rendered:
    """Receive the source into a private directory, sign it, answer 201 with the asset."""
    signing = current_signing()
    with workdir(signing.spool_dir) as directory:
        source, metadata = receive(directory)
        asset = services.sign_media(
            get_session(),
            signing=signing,
            org_id=principal.org_id,
            actor=principal.actor,
            source=source,
            metadata=metadata,
            workdir=directory,
        )
    return Rendered(asset_public(asset), headers={"Location": f"/v1/media/{asset.id}"})


@bp.post("/v1/media")
@operation(
    summary="Sign generated media: check the cited grants, embed a C2PA manifest, store it",
    tags=["media"],
    request_body=MEDIA_UPLOAD_BODY,
    response=MediaAssetPublic,
    status=201,
    scopes=["media:sign"],
    errors=SIGN_ERRORS,
    extra_models=(MediaMetadata,),
)
def sign_upload(principal: Principal) -> Rendered:
    limit = current_signing().max_bytes
    return _sign(
        principal,
        lambda directory: receive_upload(directory, limit=limit, metadata_model=MediaMetadata),
    )


@bp.post("/v1/media/sign-object")
@operation(
    summary="Sign an object the organization put in the bucket (under orgs/<org_id>/)",
    tags=["media"],
    body=SignObjectRequest,
    response=MediaAssetPublic,
    status=201,
    scopes=["media:sign"],
    errors=SIGN_ERRORS,
)
def sign_object(principal: Principal, body: SignObjectRequest) -> Rendered:
    def receive(directory: Path) -> tuple[SpooledFile, MediaMetadata]:
        source = services.fetch_object(
            current_signing(), org_id=principal.org_id, key=body.key, workdir=directory
        )
        return source, body

    return _sign(principal, receive)


@bp.get("/v1/media/<media_id>")
@operation(
    summary="Read a media asset",
    tags=["media"],
    response=MediaAssetPublic,
    scopes=["media:sign"],
    errors=(401, 403, 404),
)
def get_media(principal: Principal, media_id: str) -> MediaAssetPublic:
    return asset_public(
        services.get_media(get_session(), org_id=principal.org_id, media_id=media_id)
    )


@bp.get("/v1/media/<media_id>/content")
@operation(
    summary="The signed bytes (a redirect to a presigned URL on S3)",
    tags=["media"],
    scopes=["media:sign"],
    errors=(401, 403, 404, 503),
    extra_responses={
        302: {"description": "Redirect to a short-lived presigned URL"},
    },
    response_content={
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
    },
)
def get_media_content(principal: Principal, media_id: str) -> Response:
    asset = services.get_media(get_session(), org_id=principal.org_id, media_id=media_id)
    signing = current_signing()
    settings = current_app.extensions["registry.settings"]
    url = signing.storage.presigned_url(asset.storage_key, settings.s3_presign_seconds)
    if url:
        return redirect(url, code=302)  # type: ignore[return-value]
    extension = asset.storage_key.rsplit(".", 1)[-1]
    return send_file(
        signing.storage.open(asset.storage_key),
        mimetype=asset.mime_type,
        as_attachment=True,
        download_name=f"{asset.id}.{extension}",
        etag=asset.sha256,
        max_age=0,
    )
