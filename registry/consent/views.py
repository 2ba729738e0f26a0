"""Subjects and grants over HTTP: parse, call one service, render."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Blueprint, Response

from registry.api import Rendered, json_response, operation
from registry.auth.principal import Principal
from registry.consent import services, subjects
from registry.consent.models import ConsentGrant, Subject
from registry.consent.policy import is_minor
from registry.consent.schemas import (
    GrantCreate,
    GrantList,
    GrantListQuery,
    GrantPublic,
    GrantRevoke,
    GrantStatus,
    GrantSupersede,
    GrantTransition,
    SubjectCreate,
    SubjectList,
    SubjectPublic,
)
from registry.db import get_database, get_session, utcnow
from registry.pagination import PageQuery
from registry.state import app_state

bp = Blueprint("consent", __name__)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)
READ_ERRORS = (401, 403, 404, 422)


def subject_public(subject: Subject) -> SubjectPublic:
    return SubjectPublic.model_validate(
        {**subject.model_dump(), "minor": is_minor(subject, utcnow())}
    )


def grant_public(grant: ConsentGrant, pseudonym: str | None = None) -> GrantPublic:
    if pseudonym is None:  # one grant: its subject is usually in the session already
        subject = get_session().get(Subject, grant.subject_id)
        pseudonym = subject.pseudonymous_id if subject else None
    return GrantPublic.model_validate(
        {
            **grant.model_dump(),
            "status": grant.effective_status(utcnow()),
            "subject_pseudonymous_id": pseudonym or "",
        }
    )


@bp.post("/v1/subjects")
@operation(
    summary="Register a subject",
    tags=["subjects"],
    body=SubjectCreate,
    response=SubjectPublic,
    status=201,
    scopes=["grants:write"],
    idempotent=True,
    errors=WRITE_ERRORS,
)
def create_subject(principal: Principal, body: SubjectCreate) -> SubjectPublic:
    subject = subjects.create_subject(
        get_session(), org_id=principal.org_id, data=body, actor=principal.actor
    )
    return subject_public(subject)


@bp.get("/v1/subjects/<subject_id>")
@operation(
    summary="Read a subject",
    tags=["subjects"],
    response=SubjectPublic,
    scopes=["grants:read"],
    errors=READ_ERRORS,
)
def get_subject(principal: Principal, subject_id: str) -> SubjectPublic:
    subject = subjects.get_subject(get_session(), org_id=principal.org_id, subject_id=subject_id)
    return subject_public(subject)


@bp.get("/v1/subjects")
@operation(
    summary="List subjects",
    tags=["subjects"],
    query=PageQuery,
    response=SubjectList,
    scopes=["grants:read"],
    errors=READ_ERRORS,
)
def list_subjects(principal: Principal, query: PageQuery) -> SubjectList:
    page = subjects.list_subjects(
        get_session(), org_id=principal.org_id, cursor=query.cursor, limit=query.limit
    )
    return SubjectList(items=[subject_public(s) for s in page.items], next_cursor=page.next_cursor)


@bp.post("/v1/grants")
@operation(
    summary="Issue a consent grant",
    tags=["grants"],
    body=GrantCreate,
    response=GrantPublic,
    status=201,
    scopes=["grants:write"],
    idempotent=True,
    errors=WRITE_ERRORS,
)
def issue_grant(principal: Principal, body: GrantCreate) -> Rendered:
    grant = services.issue_grant(
        get_session(),
        org_id=principal.org_id,
        data=body,
        signer=app_state().consent_signer,
        actor=principal.actor,
    )
    return Rendered(grant_public(grant), headers={"Location": f"/v1/grants/{grant.id}"})


@bp.get("/v1/grants/<grant_id>")
@operation(
    summary="Read a grant",
    tags=["grants"],
    response=GrantPublic,
    scopes=["grants:read"],
    errors=READ_ERRORS,
)
def get_grant(principal: Principal, grant_id: str) -> GrantPublic:
    return grant_public(
        services.get_grant(get_session(), org_id=principal.org_id, grant_id=grant_id)
    )


@bp.get("/v1/grants")
@operation(
    summary="List grants",
    tags=["grants"],
    query=GrantListQuery,
    response=GrantList,
    scopes=["grants:read"],
    errors=READ_ERRORS,
)
def list_grants(principal: Principal, query: GrantListQuery) -> GrantList:
    page = services.list_grants(
        get_session(),
        org_id=principal.org_id,
        subject_id=query.subject_id,
        status=query.status,
        cursor=query.cursor,
        limit=query.limit,
    )
    names = subjects.pseudonyms(get_session(), {g.subject_id for g in page.items})
    return GrantList(
        items=[grant_public(g, names.get(g.subject_id)) for g in page.items],
        next_cursor=page.next_cursor,
    )


# The lifecycle operations of one grant share everything in their declaration but the summary,
# the body and (supersede) the status.
grant_change = functools.partial(
    operation, tags=["grants"], response=GrantPublic, scopes=["grants:write"], errors=WRITE_ERRORS
)


@bp.post("/v1/grants/<grant_id>/revoke")
@grant_change(summary="Revoke a grant", body=GrantRevoke)
def revoke_grant(principal: Principal, grant_id: str, body: GrantRevoke) -> GrantPublic:
    grant = services.revoke_grant(
        get_session(),
        org_id=principal.org_id,
        grant_id=grant_id,
        data=body,
        actor=principal.actor,
    )
    return grant_public(grant)


@bp.post("/v1/grants/<grant_id>/suspend")
@grant_change(summary="Suspend a grant", body=GrantTransition)
def suspend_grant(principal: Principal, grant_id: str, body: GrantTransition) -> GrantPublic:
    return _paused(services.suspend_grant, principal, grant_id, body)


@bp.post("/v1/grants/<grant_id>/resume")
@grant_change(summary="Resume a suspended grant", body=GrantTransition)
def resume_grant(principal: Principal, grant_id: str, body: GrantTransition) -> GrantPublic:
    return _paused(services.resume_grant, principal, grant_id, body)


def _paused(
    change: Callable[..., ConsentGrant],
    principal: Principal,
    grant_id: str,
    body: GrantTransition,
) -> GrantPublic:
    grant = change(
        get_session(),
        org_id=principal.org_id,
        grant_id=grant_id,
        reason=body.reason,
        actor=principal.actor,
    )
    return grant_public(grant)


@bp.post("/v1/grants/<grant_id>/supersede")
@grant_change(
    summary="Amend a grant: issue a new version that supersedes it",
    body=GrantSupersede,
    status=201,
)
def supersede_grant(principal: Principal, grant_id: str, body: GrantSupersede) -> Rendered:
    grant = services.supersede_grant(
        get_session(),
        org_id=principal.org_id,
        grant_id=grant_id,
        data=body,
        signer=app_state().consent_signer,
        actor=principal.actor,
    )
    return Rendered(grant_public(grant), headers={"Location": f"/v1/grants/{grant.id}"})


@bp.get("/v1/grants/<grant_id>/status")
@operation(
    summary="Public status of a grant (no personal data)",
    tags=["grants"],
    response=GrantStatus,
    public=True,
    errors=(404,),
)
def grant_status(grant_id: str) -> Response:
    # The hottest public read: its body is written directly (same shape as GrantStatus).
    status = services.grant_status(get_database(), grant_id=grant_id)
    body = {
        key: _iso(value) if isinstance(value, datetime) else value for key, value in status.items()
    }
    return json_response(body, headers={"Cache-Control": "no-cache"})


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
