"""POST /v1/verify (machines) and GET|POST /verify (people). Uploaded files are never stored."""

from __future__ import annotations

from flask import Blueprint, render_template

from registry.api import Rendered, operation
from registry.db import get_session
from registry.errors import RegistryError
from registry.state import app_state
from registry.verification import services
from registry.verification.access import file_asked_about
from registry.verification.schemas import VERIFY_UPLOAD_BODY, VerifyObjectRequest, VerifyResult

bp = Blueprint("verification", __name__, template_folder="templates")


def _verify_request() -> VerifyResult:
    """Authorize the caller once, receive the file, and verify it (nothing is stored)."""
    with file_asked_about() as (org_id, source):
        return services.verify_file(
            get_session(), verifier=app_state().verifier, source=source, viewer_org_id=org_id
        )


@bp.post("/v1/verify")
@operation(
    summary="Verify a file: label, integrity, signer, and the consent behind it",
    tags=["verification"],
    request_body=VERIFY_UPLOAD_BODY,
    response=VerifyResult,
    public=True,
    errors=(400, 401, 403, 404, 413, 415, 422, 429),
    extra_models=(VerifyObjectRequest,),
    description="Multipart `file`, a raw body (application/octet-stream), or JSON `{key}` for "
    "an object under the caller's prefix. Anonymous calls are rate-limited per client address "
    "when REGISTRY_PUBLIC_VERIFY is on; otherwise the `verify` scope is required.",
)
def verify(**_: object) -> Rendered:
    return Rendered(_verify_request(), headers={"Cache-Control": "no-store"})


def _page(result: VerifyResult | None, error: RegistryError | None) -> str:
    public = app_state().settings.public_verify
    return render_template("verify.html", result=result, error=error, public=public)


@bp.get("/verify")
def verify_page() -> str:
    return _page(None, None)


@bp.post("/verify")
def verify_page_upload() -> tuple[str, int] | str:
    try:
        result = _verify_request()
    except RegistryError as error:
        return _page(None, error), error.status
    return _page(result, None)
