"""POST /v1/verify (machines) and GET|POST /verify (people). Uploaded files are never stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, render_template, request

from registry.api import Rendered, operation, parse_body, require_scopes
from registry.auth.principal import bearer_token
from registry.c2pa.budget import metered
from registry.db import get_session
from registry.errors import RegistryError
from registry.intake.receiver import is_raw_body
from registry.intake.spool import SpooledFile
from registry.state import app_state
from registry.verification import services
from registry.verification.errors import VerificationNeedsLogin
from registry.verification.schemas import VERIFY_UPLOAD_BODY, VerifyObjectRequest, VerifyResult

bp = Blueprint("verification", __name__, template_folder="templates")


def _authorize() -> str | None:
    """The caller's organization, or None for an anonymous caller (when allowed)."""
    if bearer_token() is not None:
        return require_scopes(["verify"]).org_id
    state = app_state()
    if not state.settings.public_verify:
        raise VerificationNeedsLogin("send an access token with the verify scope")
    state.anonymous_verify_limit.hit(request.remote_addr or "")
    return None


@contextmanager
def _received_file(org_id: str | None) -> Iterator[SpooledFile]:
    """The file to verify, spooled and hashed in a private directory that is then removed."""
    intake = app_state().intake
    with intake.workdir() as directory:
        if is_raw_body(request.mimetype):
            yield intake.receive_body(directory)
        elif request.mimetype == "application/json":
            if org_id is None:
                raise VerificationNeedsLogin("verifying a stored object needs an access token")
            body, _ = parse_body(VerifyObjectRequest)
            assert isinstance(body, VerifyObjectRequest)  # noqa: S101 - narrows the type
            yield intake.fetch_object(org_id=org_id, key=body.key, directory=directory)
        else:
            yield intake.receive_upload(directory, metadata_model=None)[0]


class _Received:
    """How many bytes the body turned out to have (charged after the fact when undeclared)."""

    size = 0


@contextmanager
def _anonymous_spending(org_id: str | None) -> Iterator[_Received]:
    """What an anonymous verification spends besides its request: one of the worker's few
    slots for them, and bytes and c2pa time, checked before the body is read (a declared
    length is charged then) and charged when the verification is done, failed or not."""
    received = _Received()
    if org_id is not None:
        yield received
        return
    cost = app_state().anonymous_verify_cost
    address = request.remote_addr or ""
    with cost.slot(), metered() as meter:
        declared = cost.admit(address, content_length=request.content_length)
        try:
            yield received
        finally:
            cost.charge(
                address,
                upload_bytes=0 if declared else received.size,
                c2pa_seconds=meter.seconds,
            )


def _verify_request() -> VerifyResult:
    """Authorize the caller once, receive the file, and verify it (nothing is stored)."""
    org_id = _authorize()
    with _anonymous_spending(org_id) as received, _received_file(org_id) as source:
        received.size = source.size
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
