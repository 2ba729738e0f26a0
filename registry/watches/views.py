"""Watches, takedown notices and a grant's media over HTTP: parse, call one service, render."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlmodel import col

from registry.api import Rendered, operation
from registry.auth.principal import Principal
from registry.consent.services import get_grant
from registry.db import get_session
from registry.media.citations import citing_query
from registry.media.models import MediaAsset
from registry.pagination import PageQuery, keyset_page, uuid_key
from registry.watches import services, takedowns
from registry.watches.models import TakedownNotice, Watch
from registry.watches.schemas import (
    CitingMedia,
    CitingMediaList,
    TakedownList,
    TakedownListQuery,
    TakedownPublic,
    WatchCreate,
    WatchList,
    WatchPublic,
)

bp = Blueprint("watches", __name__)
SCOPES = ["watch"]
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)
READ_ERRORS = (401, 403, 404, 422)


def _watch(watch: Watch) -> WatchPublic:
    return WatchPublic.model_validate(watch.model_dump())


def _takedown(notice: TakedownNotice) -> TakedownPublic:
    return TakedownPublic.model_validate(notice.model_dump())


@bp.post("/v1/watches")
@operation(
    summary="Watch media (by manifest id or SHA-256) for changes to the consent it cites",
    tags=["watches"],
    body=WatchCreate,
    response=WatchPublic,
    status=201,
    scopes=SCOPES,
    errors=WRITE_ERRORS,
)
def create_watch(principal: Principal, body: WatchCreate) -> Rendered:
    watch = services.create_watch(
        get_session(),
        org_id=principal.org_id,
        manifest_id=body.manifest_id,
        sha256=body.sha256,
        actor=principal.actor,
    )
    return Rendered(_watch(watch), headers={"Location": f"/v1/watches/{watch.id}"})


@bp.get("/v1/watches")
@operation(
    summary="List watches",
    tags=["watches"],
    query=PageQuery,
    response=WatchList,
    scopes=SCOPES,
    errors=READ_ERRORS,
)
def list_watches(principal: Principal, query: PageQuery) -> WatchList:
    page = services.list_watches(
        get_session(), org_id=principal.org_id, cursor=query.cursor, limit=query.limit
    )
    return WatchList(items=[_watch(w) for w in page.items], next_cursor=page.next_cursor)


@bp.get("/v1/watches/<watch_id>")
@operation(
    summary="Read a watch",
    tags=["watches"],
    response=WatchPublic,
    scopes=SCOPES,
    errors=READ_ERRORS,
)
def get_watch(principal: Principal, watch_id: str) -> WatchPublic:
    return _watch(services.get_watch(get_session(), org_id=principal.org_id, watch_id=watch_id))


@bp.delete("/v1/watches/<watch_id>")
@operation(summary="Stop watching", tags=["watches"], status=204, scopes=SCOPES, errors=READ_ERRORS)
def delete_watch(principal: Principal, watch_id: str) -> Response:
    services.delete_watch(
        get_session(), org_id=principal.org_id, watch_id=watch_id, actor=principal.actor
    )
    return Response(status=204)


@bp.get("/v1/takedowns")
@operation(
    summary="Takedown notices addressed to this organization, and their state",
    tags=["takedowns"],
    query=TakedownListQuery,
    response=TakedownList,
    scopes=SCOPES,
    errors=READ_ERRORS,
)
def list_takedowns(principal: Principal, query: TakedownListQuery) -> TakedownList:
    page = takedowns.list_takedowns(
        get_session(),
        org_id=principal.org_id,
        state=query.state,
        cursor=query.cursor,
        limit=query.limit,
    )
    return TakedownList(items=[_takedown(n) for n in page.items], next_cursor=page.next_cursor)


@bp.post("/v1/takedowns/<takedown_id>/ack")
@operation(
    summary="Acknowledge a takedown notice",
    tags=["takedowns"],
    response=TakedownPublic,
    scopes=SCOPES,
    errors=(*READ_ERRORS, 409),
)
def acknowledge_takedown(principal: Principal, takedown_id: str) -> TakedownPublic:
    notice = takedowns.acknowledge(
        get_session(), org_id=principal.org_id, takedown_id=takedown_id, actor=principal.actor
    )
    return _takedown(notice)


@bp.get("/v1/grants/<grant_id>/media")
@operation(
    summary="The media that cite a grant (and whether a takedown was requested)",
    tags=["grants"],
    query=PageQuery,
    response=CitingMediaList,
    scopes=["grants:read"],
    errors=READ_ERRORS,
)
def grant_media(principal: Principal, grant_id: str, query: PageQuery) -> CitingMediaList:
    session = get_session()
    grant = get_grant(session, org_id=principal.org_id, grant_id=grant_id)
    page = keyset_page(
        session,
        citing_query(session, org_id=grant.org_id, grant_id=grant.id),
        key=col(MediaAsset.id),
        cursor=query.cursor,
        limit=query.limit,
        parse=uuid_key,
    )
    return CitingMediaList(
        items=[CitingMedia.model_validate(a.model_dump()) for a in page.items],
        next_cursor=page.next_cursor,
    )
