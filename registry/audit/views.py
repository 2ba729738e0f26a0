"""GET /v1/audit/events: an organization's own events, in chain order; signed checkpoints."""

from __future__ import annotations

from flask import Blueprint, Response

from registry.api import operation
from registry.audit import checkpoints, services
from registry.audit.schemas import AuditEventList, AuditEventPublic, AuditQuery
from registry.auth.principal import Principal
from registry.db import get_session
from registry.state import app_state

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


NOTE_MIMETYPE = "text/plain"
_NOTE_CONTENT = {NOTE_MIMETYPE: {"schema": {"type": "string"}}}
_CHECKPOINT_FORMAT = (
    "A C2SP signed note (c2sp.org/signed-note) in the tlog-checkpoint form "
    "(c2sp.org/tlog-checkpoint): the origin `<host>/audit/<log id>`, the number of events, "
    "the base64 hash of the newest event (a hash chain: the head, not a Merkle root) and a "
    "`timestamp` extension line, then an Ed25519 signature that "
    "`/v1/audit/checkpoint-key` verifies. No personal data; signed when asked, over the "
    "head the registry recorded with the chain's last event."
)


def _note(text: str, cache_control: str) -> Response:
    response = Response(text, mimetype=NOTE_MIMETYPE)
    response.headers["Cache-Control"] = cache_control
    return response


@bp.get("/v1/audit/checkpoints/<log_id>")
@operation(
    summary="A signed checkpoint of one audit chain, by its log id",
    description=_CHECKPOINT_FORMAT,
    tags=["audit"],
    public=True,
    errors=(404,),
    response_content=_NOTE_CONTENT,
)
def log_checkpoint(log_id: str) -> Response:
    session = get_session()
    head = checkpoints.find_log(session, log_id=log_id)
    note = checkpoints.signed_checkpoint(session, head, app_state().checkpoint_key)
    return _note(note, "no-cache")


@bp.get("/v1/audit/checkpoint")
@operation(
    summary="A signed checkpoint of the organization's own audit chain",
    description=_CHECKPOINT_FORMAT + " Its origin names the chain's log id, under which "
    "`/v1/audit/checkpoints/{log_id}` publishes later checkpoints to anyone.",
    tags=["audit"],
    scopes=["audit:read"],
    errors=(401, 403, 404),
    response_content=_NOTE_CONTENT,
)
def own_checkpoint(principal: Principal) -> Response:
    session = get_session()
    head = checkpoints.find_log(session, chain=principal.org_id)
    note = checkpoints.signed_checkpoint(session, head, app_state().checkpoint_key)
    return _note(note, "no-store")


@bp.get("/v1/audit/checkpoint-key")
@operation(
    summary="The note verifier key of audit checkpoints",
    description="One line, `<key name>+<hex key ID>+<base64(0x01 || Ed25519 public key)>` "
    "(c2sp.org/signed-note verifier key), for note and checkpoint tooling.",
    tags=["audit"],
    public=True,
    response_content=_NOTE_CONTENT,
)
def checkpoint_key() -> Response:
    return _note(app_state().checkpoint_key.verifier.vkey + "\n", "public, max-age=300")
