"""The committed OpenAPI document is the one the code generates, and it is self-consistent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.openapi import build_openapi

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    return build_openapi(app)


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} points outside the document"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def differences(generated: dict[str, Any], committed: dict[str, Any]) -> list[str]:
    """Where two documents differ, as JSON-pointer-like locations one level into each section."""
    found = []
    for key in sorted(generated.keys() | committed.keys()):
        ours, theirs = generated.get(key), committed.get(key)
        if ours == theirs:
            continue
        if isinstance(ours, dict) and isinstance(theirs, dict) and key in {"paths", "components"}:
            found.extend(f"{key}/{name}" for name in sorted(ours.keys() | theirs.keys())
                         if ours.get(name) != theirs.get(name))
        else:
            found.append(key)
    return found


def test_committed_document_matches_the_code(document: dict[str, Any]) -> None:
    committed = json.loads(COMMITTED.read_text())

    if document != committed:
        pytest.fail(
            "openapi/openapi.json is out of date with the code: run `make openapi` and commit "
            f"the result. Differs at: {', '.join(differences(document, committed))}",
            pytrace=False,
        )


def test_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]


def test_every_operation_declares_responses(document: dict[str, Any]) -> None:
    found = list(operations(document))

    assert found
    for path, method, operation in found:
        assert operation.get("responses"), f"{method.upper()} {path} declares no responses"


def test_every_operation_documents_the_500_problem(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        assert "500" in operation["responses"], f"{method.upper()} {path}"


def test_the_408_problem_is_documented_exactly_where_a_body_is_read(
    document: dict[str, Any],
) -> None:
    with_body = without_body = 0
    for path, method, op in operations(document):
        reads_a_body = "requestBody" in op
        assert ("408" in op["responses"]) == reads_a_body, (method, path)
        with_body += reads_a_body
        without_body += not reads_a_body
    assert with_body and without_body  # both kinds exist, so the rule was checked both ways


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]

    assert len(ids) == len(set(ids))


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    found = list(refs(document))

    assert found
    for ref in found:
        resolve(document, ref)


def test_every_path_parameter_is_declared(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        in_path = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        assert declared == in_path, f"{method.upper()} {path}"


def test_authenticated_operations_name_their_scopes(document: dict[str, Any]) -> None:
    known = set(
        document["components"]["securitySchemes"]["clientCredentials"]["flows"][
            "clientCredentials"
        ]["scopes"]
    )
    for path, method, operation in operations(document):
        for requirement in operation.get("security", []):
            for scopes in requirement.values():
                assert set(scopes) <= known, f"{method.upper()} {path}"


def test_served_document_equals_the_generated_one(
    client: FlaskClient, document: dict[str, Any]
) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == document
