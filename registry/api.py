"""The HTTP edge shared by every blueprint.

``@operation`` is the single place where a request is authenticated, its body and query are
validated by the same pydantic models that the OpenAPI document is generated from, and an
``Idempotency-Key`` is honoured. The transaction is not its business: every successful
response commits it (``registry.db``).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Response, request
from pydantic import BaseModel, ValidationError

from registry import idempotency
from registry.auth.principal import Principal, authenticate_request
from registry.canonical import canonical_json
from registry.db import commit_request, get_session
from registry.errors import (
    BadRequest,
    Conflict,
    InsufficientScope,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    validation_problem,
)
from registry.hygiene import refuse_control_characters
from registry.state import app_state

JSON_MIMETYPE = "application/json"
FORM_MIMETYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one view, and how the view is guarded."""

    summary: str
    tags: tuple[str, ...]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    scopes: tuple[str, ...] = ()
    public: bool = False
    idempotent: bool = False
    form: bool = False
    errors: tuple[int, ...] = ()
    request_body: dict[str, Any] | None = None
    extra_responses: dict[int, dict[str, Any]] = field(default_factory=dict)
    description: str | None = None
    extra_models: tuple[type[BaseModel], ...] = ()
    response_content: dict[str, Any] | None = None


@dataclass(frozen=True)
class Rendered:
    """A view's result: a model, its status code and extra headers."""

    body: BaseModel | dict[str, Any]
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


def operation(
    *,
    summary: str,
    tags: Sequence[str],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    scopes: Sequence[str] = (),
    public: bool = False,
    idempotent: bool = False,
    form: bool = False,
    errors: Sequence[int] = (),
    request_body: dict[str, Any] | None = None,
    extra_responses: dict[int, dict[str, Any]] | None = None,
    description: str | None = None,
    extra_models: Sequence[type[BaseModel]] = (),
    response_content: dict[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare an API operation; see the module docstring."""
    spec = Operation(
        summary=summary,
        tags=tuple(tags),
        body=body,
        query=query,
        response=response,
        status=status,
        scopes=tuple(scopes),
        public=public,
        idempotent=idempotent,
        form=form,
        errors=tuple(errors),
        request_body=request_body,
        extra_responses=extra_responses or {},
        description=description,
        extra_models=tuple(extra_models),
        response_content=response_content,
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**path_params: Any) -> Response:
            return _handle(spec, view, path_params)

        wrapper.openapi_operation = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _handle(spec: Operation, view: Callable[..., Any], path_params: dict[str, Any]) -> Response:
    kwargs: dict[str, Any] = dict(path_params)
    principal: Principal | None = None
    if not spec.public:
        principal = require_scopes(spec.scopes)
        kwargs["principal"] = principal
    raw_body: Any = None
    if spec.body is not None:
        kwargs["body"], raw_body = parse_body(spec.body, form=spec.form)
    if spec.query is not None:
        kwargs["query"] = parse_query(spec.query)

    key = request.headers.get("Idempotency-Key") if spec.idempotent else None
    if key is not None and principal is not None:
        return _idempotent(spec, view, kwargs, principal, key, raw_body)
    return render(view(**kwargs), spec.status)


def _idempotent(
    spec: Operation,
    view: Callable[..., Any],
    kwargs: dict[str, Any],
    principal: Principal,
    key: str,
    raw_body: Any,
) -> Response:
    idempotency.check_key(key)
    session = get_session()
    operation_name = f"{request.method} {request.url_rule.rule if request.url_rule else ''}"
    digest = hashlib.sha256(canonical_json(raw_body)).hexdigest()
    lookup = {"org_id": principal.org_id, "operation": operation_name, "key": key}
    replay = idempotency.find_replay(session, **lookup, request_sha256=digest)
    if replay is None:
        result = view(**kwargs)
        payload, status, headers = _payload(result, spec.status)
        idempotency.remember(
            session, **lookup, request_sha256=digest, status_code=status, response=payload
        )
        try:
            commit_request()
        except Conflict:
            # Another request with the same key won the race: answer with its response.
            replay = idempotency.find_replay(get_session(), **lookup, request_sha256=digest)
            if replay is None:
                raise
        else:
            return json_response(payload, status, headers)
    return json_response(replay.response, replay.status_code, {"Idempotent-Replayed": "true"})


def require_scopes(scopes: Sequence[str]) -> Principal:
    """The authenticated caller, who must hold every scope in ``scopes``."""
    principal = authenticate_request()
    missing = [s for s in scopes if s not in principal.scopes]
    if missing:
        raise InsufficientScope(
            f"this operation needs the scope {' '.join(missing)}", required_scopes=missing
        )
    return principal


def parse_body(model: type[BaseModel], *, form: bool = False) -> tuple[BaseModel, Any]:
    """Validate the request body; returns the model and the raw parsed document."""
    mimetype = request.mimetype
    limit = app_state().settings.max_json_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"a JSON body may be at most {limit} bytes")
    if form and mimetype == FORM_MIMETYPE:
        raw: Any = request.form.to_dict()
        refuse_control_characters(raw, "body")
        try:
            return model.model_validate(raw), raw
        except ValidationError as exc:
            raise validation_problem(exc, "body") from exc
    if mimetype != JSON_MIMETYPE and not mimetype.endswith("+json"):
        accepted = f"{JSON_MIMETYPE} or {FORM_MIMETYPE}" if form else JSON_MIMETYPE
        raise UnsupportedMediaType(f"send the body as {accepted}", accepted=accepted)
    data = bounded_body(limit)
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("the body is not valid JSON") from exc
    if not isinstance(raw, dict):
        raise ValidationFailed("the body must be a JSON object")
    refuse_control_characters(raw, "body")
    try:
        return model.model_validate_json(data), raw
    except ValidationError as exc:
        raise validation_problem(exc, "body") from exc


def bounded_body(limit: int) -> bytes:
    """The body, of at most ``limit`` bytes: a longer one is refused (413) by its
    Content-Length before it is read or, as a chunked body announces no length to check
    first, once ``limit + 1`` bytes have come, never read to its end."""
    if request.content_length is not None:
        if request.content_length > limit:
            raise PayloadTooLarge(f"a JSON body may be at most {limit} bytes")
        return request.get_data(cache=True)
    data = bytearray()
    while chunk := request.stream.read(limit + 1 - len(data)):
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge(f"a JSON body may be at most {limit} bytes")
    return bytes(data)


def parse_query(model: type[BaseModel]) -> BaseModel:
    """Validate the query string against ``model``."""
    args = request.args.to_dict()
    refuse_control_characters(args, "query")
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise validation_problem(exc, "query") from exc


def _payload(result: Any, default_status: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    if isinstance(result, Rendered):
        body, status, headers = result.body, result.status or default_status, result.headers
    else:
        body, status, headers = result, default_status, {}
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    return body, status, headers


def render(result: Any, default_status: int) -> Response:
    if isinstance(result, Response):
        return result
    payload, status, headers = _payload(result, default_status)
    return json_response(payload, status, headers)


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return Response(body, status=status, headers=headers, mimetype=JSON_MIMETYPE)
