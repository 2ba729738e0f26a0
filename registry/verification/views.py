"""POST /v1/verify (machines) and GET|POST /verify (people). Uploaded files are never stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, current_app, render_template, request

from registry.api import Rendered, operation, parse_body, require_scopes
from registry.auth.principal import bearer_token
from registry.db import get_session
from registry.errors import PayloadTooLarge, RegistryError
from registry.media import services as media_services
from registry.media.spool import SpooledFile, spool_stream, workdir
from registry.media.upload import receive_upload
from registry.media.views import current_signing
from registry.verification import services
from registry.verification.errors import VerificationNeedsLogin
from registry.verification.schemas import VERIFY_UPLOAD_BODY, VerifyObjectRequest, VerifyResult

bp = Blueprint("verification", __name__, template_folder="templates")
RAW_TYPES = ("application/octet-stream",)


def _settings():  # type: ignore[no-untyped-def]
    return current_app.extensions["registry.settings"]


def _verifier() -> services.Verifier:
    return current_app.extensions["registry.verifier"]  # type: ignore[no-any-return]


def _authorize() -> str | None:
    """The caller's organization, or None for an anonymous caller (when allowed)."""
    if bearer_token() is not None:
        return require_scopes(["verify"]).org_id
    if not _settings().public_verify:
        raise VerificationNeedsLogin("send an access token with the verify scope")
    current_app.extensions["registry.anonymous_verify_limit"].hit(request.remote_addr or "")
    return None


@contextmanager
def _received_file(org_id: str | None) -> Iterator[SpooledFile]:
    """The file to verify, spooled and hashed in a private directory that is then removed."""
    signing = current_signing()
    limit = signing.max_bytes
    with workdir(signing.spool_dir) as directory:
        if request.mimetype in RAW_TYPES or request.mimetype.startswith(
            ("image/", "audio/", "video/")
        ):
            if request.content_length is not None and request.content_length > limit:
                raise PayloadTooLarge(f"files may be at most {limit} bytes")
            yield spool_stream(request.stream, directory / "upload", limit=limit)  # type: ignore[arg-type]
        elif request.mimetype == "application/json":
            if org_id is None:
                raise VerificationNeedsLogin("verifying a stored object needs an access token")
            body, _ = parse_body(VerifyObjectRequest)
            assert isinstance(body, VerifyObjectRequest)  # noqa: S101 - narrows the type
            yield media_services.fetch_object(
                signing, org_id=org_id, key=body.key, workdir=directory
            )
        else:
            yield receive_upload(directory, limit=limit, metadata_model=None)[0]


def _verify_request() -> VerifyResult:
    """Authorize the caller once, receive the file, and verify it (nothing is stored)."""
    org_id = _authorize()
    with _received_file(org_id) as source:
        return services.verify_file(get_session(), verifier=_verifier(), source=source)


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


@bp.get("/verify")
def verify_page() -> str:
    return render_template("verify.html", result=None, error=None, public=_settings().public_verify)


@bp.post("/verify")
def verify_page_upload() -> tuple[str, int] | str:
    try:
        result = _verify_request()
    except RegistryError as error:
        return render_template(
            "verify.html", result=None, error=error, public=_settings().public_verify
        ), error.status
    return render_template(
        "verify.html", result=result, error=None, public=_settings().public_verify
    )
