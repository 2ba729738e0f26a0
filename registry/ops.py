"""Operations endpoints: liveness, readiness, the OpenAPI document and its offline viewer."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, current_app, render_template, send_from_directory
from pydantic import BaseModel

from registry.api import Rendered, operation, render
from registry.openapi import build_openapi
from registry.state import app_state

bp = Blueprint("ops", __name__)
SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"


class Health(BaseModel):
    status: str


@bp.get("/healthz")
@operation(summary="The process is up", tags=["ops"], response=Health, public=True)
def healthz() -> Health:
    return Health(status="ok")


@bp.get("/readyz")
@operation(
    summary="The database (and storage, when configured) can be reached",
    tags=["ops"],
    response=Health,
    public=True,
    errors=(503,),
)
def readyz() -> Health:
    state = app_state()
    state.database.ping()
    state.storage.check()
    return Health(status="ready")


@bp.get("/openapi.json")
def openapi_document() -> Response:
    state = app_state()
    if state.openapi_document is None:
        state.openapi_document = build_openapi(current_app)
    return render(Rendered(state.openapi_document), 200)


@bp.get("/docs")
def docs() -> str:
    return render_template("docs.html")


@bp.get("/docs/assets/<path:filename>")
def docs_assets(filename: str) -> Response:
    return send_from_directory(SWAGGER_DIST, filename, max_age=86400)
