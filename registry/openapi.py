"""The OpenAPI 3.1 document, generated from the routes and the models that validate them."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from registry.api import Operation
from registry.auth.services import SCOPES

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"<(?:[a-z_]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    503: "Service Unavailable",
}
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {
            "type": "string",
            "description": "The request's id (also the X-Request-ID response header)",
        },
    },
    "additionalProperties": True,
}


def _operations(app: Flask) -> list[tuple[str, str, Operation]]:
    found = []
    for rule in app.url_map.iter_rules():
        spec = getattr(app.view_functions[rule.endpoint], "openapi_operation", None)
        if spec is None:
            continue
        path = _PATH_PARAM.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((path, method.lower(), spec))
    return sorted(found, key=lambda item: (item[0], item[1]))


def _models(ops: list[tuple[str, str, Operation]]) -> list[tuple[type[BaseModel], Any]]:
    models: dict[tuple[type[BaseModel], str], None] = {}
    for _, _, spec in ops:
        if spec.body is not None:
            models[(spec.body, "validation")] = None
        if spec.response is not None:
            models[(spec.response, "serialization")] = None
        for model in spec.extra_models:
            models[(model, "validation")] = None
    return list(models)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _error_codes(spec: Operation) -> list[int]:
    """The problem statuses an operation can answer: its own, 500, and 408 wherever a request
    body is read (registry/body_deadline.py times out a client that stops sending it)."""
    has_body = spec.request_body is not None or spec.body is not None
    return sorted({*spec.errors, 500, *((408,) if has_body else ())})


def _operation_object(
    path: str, method: str, spec: Operation, refs: dict[Any, Any]
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": method + "_" + re.sub(r"[^a-zA-Z0-9]+", "_", path).strip("_"),
        "summary": spec.summary,
        "tags": list(spec.tags),
    }
    if spec.description:
        op["description"] = spec.description
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{([^}]+)}", path)
    ]
    if spec.query is not None:
        params.extend(_query_parameters(spec.query))
    if spec.idempotent:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                # idempotency.check_key: 1 to 200 printable characters (str.isprintable over
                # the Latin-1 text a header value is).
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "pattern": "^[\\u0020-\\u007e\\u00a1-\\u00ac\\u00ae-\\u00ff]+$",
                },
                "description": "Retry safely: the same key and body return the first response.",
            }
        )
    if params:
        op["parameters"] = params
    if spec.request_body is not None:
        op["requestBody"] = spec.request_body
    elif spec.body is not None:
        ref = refs[(spec.body, "validation")]
        content = {"application/json": {"schema": ref}}
        if spec.form:
            content["application/x-www-form-urlencoded"] = {"schema": ref}
        op["requestBody"] = {"required": True, "content": content}
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": _STATUS_TEXT.get(spec.status, "OK")}
    if spec.response is not None:
        ok["content"] = {"application/json": {"schema": refs[(spec.response, "serialization")]}}
    elif spec.response_content is not None:
        ok["content"] = spec.response_content
    responses[str(spec.status)] = ok
    for code, extra in spec.extra_responses.items():
        responses[str(code)] = extra
    for code in _error_codes(spec):
        responses[str(code)] = {"$ref": f"#/components/responses/Problem{code}"}
    op["responses"] = responses
    if not spec.public:
        op["security"] = [{"clientCredentials": list(spec.scopes)}]
    return op


def build_openapi(app: Flask) -> dict[str, Any]:
    """The whole document; deterministic, so the committed copy can be compared with it."""
    ops = _operations(app)
    refs, defs = models_json_schema(_models(ops), ref_template=REF)
    schemas = dict(sorted(defs.get("$defs", {}).items()))
    schemas["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for path, method, spec in ops:
        paths.setdefault(path, {})[method] = _operation_object(path, method, spec, refs)
    codes = sorted({c for _, _, s in ops for c in _error_codes(s)})
    responses = {
        f"Problem{code}": {
            "description": _STATUS_TEXT.get(code, "Internal Server Error"),
            "content": {
                "application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}
            },
        }
        for code in codes
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Consent Registry",
            "version": "1",
            "description": "Consent grants for voice and likeness, C2PA labelling of generated "
            "media, and verification.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {
                "clientCredentials": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "/v1/auth/token",
                            "scopes": {s: f"{s} access" for s in SCOPES},
                        }
                    },
                }
            },
        },
    }


def export(path: str) -> None:
    """Write the document for a throwaway development app (keys in a temporary directory)."""
    import json
    import tempfile
    from pathlib import Path

    from registry import create_app
    from registry.keys.keyring import init_keys
    from registry.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        init_keys(settings.keys_dir)
        document = build_openapi(create_app(settings))
    Path(path).write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")


if __name__ == "__main__":
    import sys

    export(sys.argv[1] if len(sys.argv) > 1 else "openapi/openapi.json")
