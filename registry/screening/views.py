"""POST /v1/screen: the platforms' fast question about an upload. Files are never stored."""

from __future__ import annotations

from flask import Blueprint

from registry.api import Rendered, operation
from registry.db import get_session
from registry.screening import services
from registry.screening.schemas import ScreenResult
from registry.state import app_state
from registry.verification.access import file_asked_about
from registry.verification.schemas import VERIFY_UPLOAD_BODY, VerifyObjectRequest

bp = Blueprint("screening", __name__)


@bp.post("/v1/screen")
@operation(
    summary="Screen an upload: registered synthetic media, and its consent now?",
    tags=["verification"],
    request_body=VERIFY_UPLOAD_BODY,
    response=ScreenResult,
    public=True,
    errors=(400, 401, 403, 404, 413, 415, 422, 429),
    extra_models=(VerifyObjectRequest,),
    description="Received as POST /v1/verify receives a file, with its access rules and its "
    "anonymous rate limit and budgets (shared). An untouched signed file is recognised by its "
    "hash without reading its manifest; otherwise a registry manifest intact in the file, the "
    "watermark, then the fingerprints. `asset` is given only to the organization that "
    "registered it.",
)
def screen(**_: object) -> Rendered:
    with file_asked_about() as (org_id, source):
        result = services.screen_file(
            get_session(),
            verifier=app_state().verifier,
            source=source,
            viewer_org_id=org_id,
        )
    return Rendered(result, headers={"Cache-Control": "no-store"})
