"""Malformed, mistyped, missing and over-long input: a clear problem, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import Studio, assert_problem, grant_body


def test_malformed_json_is_400(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    response = studio.client.post(
        "/v1/grants",
        data=b'{"subject_id": ',
        headers={**studio.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed-request")
    assert counts() == before


def test_json_that_is_not_an_object_is_422(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    assert_problem(studio.post("/v1/subjects", json=["Ada"]), 422, "validation-error")
    assert counts() == before


def test_form_body_on_a_json_endpoint_is_415(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    response = studio.client.post(
        "/v1/subjects", data={"display_name": "Ada"}, headers=studio.headers
    )
    assert_problem(response, 415, "unsupported-media-type")
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"modalities": "voice"}, "body.modalities"),
        ({"valid_from": 1735689600}, "body.valid_from"),
        ({"valid_from": "2026-01-01T00:00:00"}, "body.valid_from"),
        ({"territories": [1]}, "body.territories.0"),
        ({"training": "sometimes"}, "body.training"),
        ({"granted_by": {"role": "subject"}}, "body.granted_by.name"),
        ({"modalities": []}, "body.modalities"),
        ({"unexpected": True}, "body.unexpected"),
        ({"evidence": [{"kind": "signed_rider", "sha256": "nothex"}]}, "body.evidence.0.sha256"),
    ],
)
def test_wrong_types_and_shapes_are_422_naming_the_field(
    studio: Studio,
    counts,
    change: dict[str, Any],
    loc: str,  # type: ignore[no-untyped-def]
) -> None:
    subject = studio.subject()
    before = counts()
    response = studio.post("/v1/grants", json=grant_body(subject["id"], **change))
    assert_problem(response, 422, "validation-error")
    assert any(e["loc"].startswith(loc) for e in response.json["errors"]), response.json
    assert counts() == before


@pytest.mark.parametrize("missing", ["subject_id", "granted_by", "purposes", "valid_until"])
def test_missing_fields_are_422(studio: Studio, counts, missing: str) -> None:  # type: ignore[no-untyped-def]
    subject = studio.subject()
    body = grant_body(subject["id"])
    del body[missing]
    before = counts()
    response = studio.post("/v1/grants", json=body)
    assert_problem(response, 422, "validation-error")
    assert response.json["errors"][0]["loc"] == f"body.{missing}"
    assert counts() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/subjects", {"display_name": "x" * 201}),
        ("/v1/subjects", {"display_name": ""}),
        ("/v1/subjects", {"display_name": "Ada", "external_ref": "r" * 201}),
    ],
)
def test_overlong_and_empty_fields_are_422(studio: Studio, counts, path: str, body: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    before = counts()
    assert_problem(studio.post(path, json=body), 422, "validation-error")
    assert counts() == before


def test_overlong_purpose_description_is_422(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    subject = studio.subject()
    body = grant_body(subject["id"], purposes=[{"category": "ads", "description": "d" * 2001}])
    before = counts()
    assert_problem(studio.post("/v1/grants", json=body), 422, "validation-error")
    assert counts() == before


def test_bad_query_parameters_are_422(studio: Studio) -> None:
    assert_problem(studio.get("/v1/grants?limit=0"), 422, "validation-error")
    assert_problem(studio.get("/v1/grants?limit=abc"), 422, "validation-error")
    assert_problem(studio.get("/v1/grants?status=sleeping"), 422, "validation-error")
    assert_problem(studio.get("/v1/grants?surprise=1"), 422, "validation-error")


def test_validation_errors_do_not_echo_input(studio: Studio) -> None:
    response = studio.post("/v1/subjects", json={"display_name": "Ada", "secret_field": "hunter2"})
    assert response.status_code == 422
    assert "hunter2" not in response.get_data(as_text=True)
