"""Idempotency-Key on POST /v1/subjects and POST /v1/grants."""

from __future__ import annotations

from registry.errors import problem_type
from tests.factories import Studio, grant_body


def test_same_key_and_body_return_the_first_response(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    headers = {"Idempotency-Key": "subject-1"}
    first = studio.post("/v1/subjects", json={"display_name": "Ada"}, headers=headers)
    after_first = counts()
    again = studio.post("/v1/subjects", json={"display_name": "Ada"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counts() == after_first


def test_same_key_with_another_body_is_a_conflict(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    subject = studio.subject()
    headers = {"Idempotency-Key": "grant-7"}
    assert (
        studio.post("/v1/grants", json=grant_body(subject["id"]), headers=headers).status_code
        == 201
    )
    before = counts()
    other = grant_body(subject["id"], territories=["FR"])
    response = studio.post("/v1/grants", json=other, headers=headers)
    assert response.status_code == 409
    assert response.json["type"] == problem_type("idempotency-key-reused")
    assert counts() == before


def test_keys_are_per_organization(studio: Studio, other_studio: Studio) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    mine = studio.post("/v1/subjects", json={"display_name": "Ada"}, headers=headers)
    theirs = other_studio.post("/v1/subjects", json={"display_name": "Ada"}, headers=headers)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json["id"] != theirs.json["id"]


def test_a_refused_request_is_not_remembered(studio: Studio) -> None:
    subject = studio.subject()
    headers = {"Idempotency-Key": "retry-after-fix"}
    bad = studio.post(
        "/v1/grants", json=grant_body(subject["id"], territories=["XX"]), headers=headers
    )
    assert bad.status_code == 422
    good = studio.post(
        "/v1/grants", json=grant_body(subject["id"], territories=["XX"]), headers=headers
    )
    assert good.status_code == 422  # same body, still refused: nothing was cached
    fixed = studio.post("/v1/grants", json=grant_body(subject["id"]), headers=headers)
    assert fixed.status_code == 201


def test_overlong_key_is_refused(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    response = studio.post(
        "/v1/subjects", json={"display_name": "Ada"}, headers={"Idempotency-Key": "k" * 201}
    )
    assert response.status_code == 422
    assert response.json["type"] == problem_type("validation-error")
    assert counts() == before
