"""GET /v1/status-lists/{list_id}: the signed Status List Token, public and cacheable."""

from __future__ import annotations

import time

from flask import Blueprint, Response, request

from registry.api import operation
from registry.db import get_database
from registry.state import app_state
from registry.statuslist.offline import STATUS_LIST_MEDIA_TYPE

bp = Blueprint("statuslist", __name__)
# Caches may keep the token but must ask again before each use (a conditional request, 304
# while the list is unchanged): a change shows as soon as it commits. Offline holders follow
# the token's ``ttl`` and ``exp`` instead.
CACHE_CONTROL = "public, no-cache"
_DESCRIPTION = (
    "A Status List Token (draft-ietf-oauth-status-list, JWT form): header `typ: "
    "statuslist+jwt`, ES256 with a key of `/.well-known/jwks.json`; claims `iss`, `sub` (this "
    "list's URI, equal to the `uri` of every consent token it covers), `iat`, `exp`, `ttl` and "
    "`status_list: {bits: 2, lst}`, where `lst` is the zlib-deflated, base64url-encoded array "
    "of 2-bit statuses: 0 valid, 1 invalid (revoked, superseded or expired), 2 suspended. "
    "The weak `ETag` changes with the list; send it back in `If-None-Match` for a 304. "
    "No personal data: only indices and statuses."
)


@bp.get("/v1/status-lists/<list_id>")
@operation(
    summary="A status list of consent tokens (signed, public)",
    description=_DESCRIPTION,
    tags=["status lists"],
    public=True,
    errors=(404,),
    response_content={STATUS_LIST_MEDIA_TYPE: {"schema": {"type": "string"}}},
    extra_responses={304: {"description": "Not Modified: the list is as the ETag says"}},
)
def status_list(list_id: str) -> Response:
    publisher, database, now = app_state().status_lists, get_database(), time.time()
    number, version = publisher.version(database, list_id)
    headers = {"Cache-Control": CACHE_CONTROL, "Access-Control-Allow-Origin": "*"}
    etag = publisher.etag(number, version, now)
    if request.if_none_match.contains_weak(etag.removeprefix("W/").strip('"')):
        return Response(status=304, headers={**headers, "ETag": etag})
    published = publisher.publish(database, number, version, now)
    return Response(
        published.token,
        mimetype=STATUS_LIST_MEDIA_TYPE,
        headers={**headers, "ETag": published.etag},
    )
