"""GET /v1/audit/events: an organization's own events, in chain order."""

from __future__ import annotations

from flask import Blueprint

from registry.api import operation
from registry.audit import services
from registry.audit.schemas import AuditEventList, AuditEventPublic, AuditQuery
from registry.auth.principal import Principal
from registry.db import get_session

bp = Blueprint("audit", __name__)


@bp.get("/v1/audit/events")
@operation(
    summary="List the organization's audit events",
    tags=["audit"],
    query=AuditQuery,
    response=AuditEventList,
    scopes=["audit:read"],
    errors=(401, 403, 422),
)
def list_events(principal: Principal, query: AuditQuery) -> AuditEventList:
    page = services.list_events(
        get_session(),
        org_id=principal.org_id,
        cursor=query.cursor,
        limit=query.limit,
        action=query.action,
    )
    return AuditEventList(
        items=[AuditEventPublic.model_validate(e, from_attributes=True) for e in page.items],
        next_cursor=page.next_cursor,
    )
