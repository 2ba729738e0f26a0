"""Subjects: registering, reading and listing the people a studio works with."""

from __future__ import annotations

from registry.errors import problem_type
from tests.factories import Studio


def test_create_subject_returns_pseudonym_and_minor_flag(studio: Studio) -> None:
    response = studio.post(
        "/v1/subjects", json={"display_name": "Kid Example", "date_of_birth": "2015-06-01"}
    )
    assert response.status_code == 201
    body = response.json
    assert body["pseudonymous_id"].startswith("sub_")
    assert body["minor"] is True
    assert studio.get(f"/v1/subjects/{body['id']}").json == body


def test_deceased_subject_needs_date_of_death(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    response = studio.post(
        "/v1/subjects", json={"display_name": "Late Legend", "status": "deceased"}
    )
    assert response.status_code == 422
    assert response.json["type"] == problem_type("subject-invalid")
    assert counts() == before


def test_unknown_jurisdiction_is_a_validation_error(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    response = studio.post("/v1/subjects", json={"display_name": "Ada", "jurisdictions": ["XX"]})
    assert response.status_code == 422
    assert response.json["type"] == problem_type("validation-error")
    assert response.json["errors"][0]["loc"].startswith("body.jurisdictions")
    assert counts() == before


def test_list_subjects_pages_with_a_cursor(studio: Studio) -> None:
    ids = [studio.subject(display_name=f"Person {i}")["id"] for i in range(5)]
    first = studio.get("/v1/subjects?limit=2").json
    assert [s["id"] for s in first["items"]] == ids[:2]
    second = studio.get(f"/v1/subjects?limit=2&cursor={first['next_cursor']}").json
    third = studio.get(f"/v1/subjects?limit=2&cursor={second['next_cursor']}").json
    assert [s["id"] for s in second["items"] + third["items"]] == ids[2:]
    assert third["next_cursor"] is None


def test_forged_cursor_is_a_validation_error(studio: Studio) -> None:
    response = studio.get("/v1/subjects?cursor=not-a-cursor!!")
    assert response.status_code == 422
    assert response.json["type"] == problem_type("validation-error")
