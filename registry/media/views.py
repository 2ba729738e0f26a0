"""Media over HTTP: sign an upload or an object in the bucket, read the asset, fetch the bytes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, redirect, send_file
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response

from registry.api import Rendered, operation
from registry.auth.principal import Principal
from registry.db import commit_request, get_session
from registry.intake.sniff import SUPPORTED_MIME_TYPES
from registry.intake.spool import SpooledFile
from registry.media import services
from registry.media.errors import MediaNotStored
from registry.media.models import MediaAsset
from registry.media.schemas import (
    MEDIA_UPLOAD_BODY,
    MediaAssetPublic,
    MediaList,
    MediaListQuery,
    MediaMetadata,
    SignObjectRequest,
)
from registry.state import app_state

bp = Blueprint("media", __name__)


class MediaIdConverter(BaseConverter):
    """A media id: any path segment but ``sign-object``, the literal route beside it.

    Without it ``/v1/media/<media_id>`` also matches ``/v1/media/sign-object``, and OPTIONS
    there reported GET (and HEAD) as allowed.
    """

    regex = r"(?!sign-object$)[^/]+"


@bp.record_once
def _register_converter(state: BlueprintSetupState) -> None:
    # Deferred functions run in the order they were recorded: before the routes below.
    state.app.url_map.converters["media_id"] = MediaIdConverter


SIGN_ERRORS = (400, 401, 403, 404, 413, 415, 422, 503)


def asset_public(asset: MediaAsset) -> MediaAssetPublic:
    download_url = f"/v1/media/{asset.id}/content" if asset.stored else None
    return MediaAssetPublic.model_validate(
        {**asset.model_dump(), "stored": asset.stored, "download_url": download_url}
    )


def _sign(
    principal: Principal, receive: Callable[[Path], tuple[SpooledFile, MediaMetadata]]
) -> Rendered:
    """Receive the source into a private directory, sign it, answer 201 with the asset."""
    state = app_state()
    session = get_session()
    with state.intake.workdir() as directory:
        source, metadata = receive(directory)
        plan = services.plan_signing(
            session,
            signing=state.signing,
            org_id=principal.org_id,
            actor=principal.actor,
            source=source,
            metadata=metadata,
        )
        # End the authorization's read transaction: c2pa and storage run without a lock.
        commit_request()
        stored = services.sign_and_store(
            plan, signing=state.signing, source=source, workdir=directory
        )
        try:
            asset = services.record_signing(session, plan, stored, source=source)
            commit_request()  # the row and the stored file are kept together, or neither
        except BaseException:
            services.discard(stored, signing=state.signing)
            raise
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
    intake = app_state().intake
    return _sign(
        principal,
        lambda directory: intake.receive_upload(directory, metadata_model=MediaMetadata),
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
        source = app_state().intake.fetch_object(
            org_id=principal.org_id, key=body.key, directory=directory
        )
        return source, body

    return _sign(principal, receive)


@bp.get("/v1/media")
@operation(
    summary="List the organization's media (uploaded or signed without uploading)",
    tags=["media"],
    query=MediaListQuery,
    response=MediaList,
    scopes=["media:sign"],
    errors=(401, 403, 422),
)
def list_media(principal: Principal, query: MediaListQuery) -> MediaList:
    page = services.list_media(
        get_session(),
        org_id=principal.org_id,
        cursor=query.cursor,
        limit=query.limit,
        grant_id=query.grant_id,
        created_after=query.created_after,
        created_before=query.created_before,
    )
    return MediaList(items=[asset_public(a) for a in page.items], next_cursor=page.next_cursor)


@bp.get("/v1/media/<media_id:media_id>")
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


@bp.get("/v1/media/<media_id:media_id>/content")
@operation(
    summary="The signed bytes (a redirect to a presigned URL on S3)",
    tags=["media"],
    scopes=["media:sign"],
    errors=(401, 403, 404, 503),
    extra_responses={
        302: {"description": "Redirect to a short-lived presigned URL"},
    },
    # The file as signed, with its own type (what sniffing found when it was received).
    response_content={
        mime_type: {"schema": {"type": "string", "format": "binary"}}
        for mime_type in SUPPORTED_MIME_TYPES
    },
)
def get_media_content(principal: Principal, media_id: str) -> Response:
    asset = services.get_media(get_session(), org_id=principal.org_id, media_id=media_id)
    if asset.storage_key is None:
        raise MediaNotStored(
            f"media {asset.id} was signed where it lives; the registry never had its bytes",
            media_id=asset.id,
        )
    signing = app_state().signing
    url = signing.storage.presigned_url(asset.storage_key, signing.presign_seconds)
    if url:
        return redirect(url, code=302)
    extension = asset.storage_key.rsplit(".", 1)[-1]
    return send_file(
        signing.storage.open(asset.storage_key),
        mimetype=asset.mime_type,
        as_attachment=True,
        download_name=f"{asset.id}.{extension}",
        etag=asset.sha256 or False,
        max_age=0,
    )
