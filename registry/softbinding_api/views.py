"""The Soft Binding Resolution API over HTTP, at the paths the C2PA specification gives
(relative to the registry's root, as C2PA clients such as c2pa-rs join them).

Access is that of verification (``registry.verification.access``): a token with the
``verify`` scope, or anonymous calls when REGISTRY_PUBLIC_VERIFY is on, counted against the
same per-address rate limit and budgets. The list of algorithms is public.
"""

from __future__ import annotations

from flask import Blueprint, Response

from registry.api import Rendered, operation
from registry.db import get_session
from registry.softbinding_api import services
from registry.softbinding_api.schemas import (
    ByBindingBody,
    ByBindingQuery,
    ByContentQuery,
    ManifestQuery,
    MaxResultsQuery,
    SoftBindingQueryResult,
    SupportedAlgorithms,
)
from registry.verification.access import authorize_caller, file_asked_about
from registry.verification.schemas import VERIFY_UPLOAD_BODY, VerifyObjectRequest

bp = Blueprint("softbinding_api", __name__)

TAGS = ["soft-binding resolution"]
ACCESS = (
    " A token with the `verify` scope, or anonymous when REGISTRY_PUBLIC_VERIFY is on (the "
    "rate limit and budgets of anonymous verification, shared with it)."
)
NO_STORE = {"Cache-Control": "no-store"}
MANIFEST_MIME_TYPE = "application/c2pa"


@bp.get("/services/supportedAlgorithms")
@operation(
    summary="The soft-binding algorithms this registry resolves",
    tags=TAGS,
    response=SupportedAlgorithms,
    public=True,
    description="Names from the C2PA soft-binding algorithm list (io.iscc.v0), and the "
    "registry's own invisible watermark. Public, no token needed.",
)
def supported_algorithms() -> SupportedAlgorithms:
    return services.supported_algorithms()


@bp.get("/matches/byBinding")
@operation(
    summary="Manifests matching a soft-binding value",
    tags=TAGS,
    query=ByBindingQuery,
    response=SoftBindingQueryResult,
    public=True,
    errors=(401, 403, 422, 429),
    description="`alg` and the base64 `value` (a watermark key, or a binary ISCC unit)." + ACCESS,
)
def matches_by_binding(*, query: ByBindingQuery) -> Rendered:
    authorize_caller()
    result = services.matches_by_binding(
        get_session(), alg=query.alg, value=query.value, max_results=query.maxResults
    )
    return Rendered(result, headers=NO_STORE)


@bp.post("/matches/byBinding")
@operation(
    summary="Manifests matching a soft-binding value too large for a URL",
    tags=TAGS,
    body=ByBindingBody,
    query=MaxResultsQuery,
    response=SoftBindingQueryResult,
    public=True,
    errors=(400, 401, 403, 413, 415, 422, 429),
    description="JSON `{alg, value}`." + ACCESS,
)
def matches_by_large_binding(*, body: ByBindingBody, query: MaxResultsQuery) -> Rendered:
    authorize_caller()
    result = services.matches_by_binding(
        get_session(), alg=body.alg, value=body.value, max_results=query.maxResults
    )
    return Rendered(result, headers=NO_STORE)


@bp.post("/matches/byContent")
@operation(
    summary="Manifests whose soft bindings the content of a file matches",
    tags=TAGS,
    query=ByContentQuery,
    request_body=VERIFY_UPLOAD_BODY,
    response=SoftBindingQueryResult,
    public=True,
    errors=(400, 401, 403, 404, 413, 415, 422, 429),
    extra_models=(VerifyObjectRequest,),
    description="The file as the body (its media type, or application/octet-stream), a "
    "multipart `file`, or JSON `{key}` for an object under the caller's prefix, received as "
    "POST /v1/verify receives it; its watermark and fingerprints are computed and looked up. "
    "Nothing is stored." + ACCESS,
)
def matches_by_content(*, query: ByContentQuery) -> Rendered:
    if query.alg is not None:
        services.require_supported(query.alg)  # before the body is read
    with file_asked_about() as (_org_id, source):
        result = services.matches_by_content(
            get_session(), source=source, alg=query.alg, max_results=query.maxResults
        )
    return Rendered(result, headers=NO_STORE)


@bp.get("/manifests/<manifest_id>")
@operation(
    summary="The manifest store of a registered asset",
    tags=TAGS,
    query=ManifestQuery,
    public=True,
    errors=(401, 403, 404, 422, 429),
    response_content={
        MANIFEST_MIME_TYPE: {"schema": {"type": "string", "contentMediaType": MANIFEST_MIME_TYPE}}
    },
    description="The C2PA manifest store (JUMBF) signing embedded in the asset whose active "
    "manifest is `manifestId`: read it with any C2PA reader (format application/c2pa)." + ACCESS,
)
def manifest(*, manifest_id: str, query: ManifestQuery) -> Response:
    authorize_caller()
    data = services.manifest_store(get_session(), manifest_id)
    return Response(
        data, mimetype=MANIFEST_MIME_TYPE, headers={"Cache-Control": "private, max-age=3600"}
    )
