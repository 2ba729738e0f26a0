"""The report of a work: ``GET /v1/media/{id}/record``, JSON or a printable HTML page."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from registry.api import Rendered, operation
from registry.auth.principal import Principal
from registry.db import get_session
from registry.records.report import creation_report
from registry.records.schemas import CreationReport, RecordQuery

bp = Blueprint("records", __name__, template_folder="templates")


def _wants_html(query: RecordQuery) -> bool:
    if query.format is not None:
        return query.format == "html"
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


@bp.get("/v1/media/<media_id>/record")
@operation(
    summary="The creation record of a work: tools, grants, people's contributions, when",
    tags=["media"],
    query=RecordQuery,
    scopes=["media:sign"],
    errors=(401, 403, 404, 422),
    description="JSON, or a printable HTML page with `?format=html` (or `Accept: text/html`). "
    "Prompts appear as SHA-256 digests only.",
    extra_models=(CreationReport,),
    response_content={
        "application/json": {"schema": {"$ref": "#/components/schemas/CreationReport"}},
        "text/html": {"schema": {"type": "string"}},
    },
)
def get_record(principal: Principal, media_id: str, query: RecordQuery) -> Rendered | Response:
    report = creation_report(get_session(), org_id=principal.org_id, media_id=media_id)
    headers = {"Cache-Control": "no-store", "Vary": "Accept"}
    if _wants_html(query):
        page = render_template("record.html", report=report)
        return Response(page, mimetype="text/html", headers=headers)
    return Rendered(report, headers=headers)
