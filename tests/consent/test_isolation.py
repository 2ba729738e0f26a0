"""Tenants are isolated: another organization's ids are not found, and nothing changes."""

from __future__ import annotations

import pytest

from registry.errors import problem_type
from tests.factories import Studio, grant_body


@pytest.fixture
def theirs(other_studio: Studio) -> dict[str, str]:
    subject = other_studio.subject(display_name="Their Talent")
    grant = other_studio.grant(subject["id"])
    return {"subject": subject["id"], "grant": grant["id"]}


def test_reading_another_tenants_subject_is_not_found(
    studio: Studio, theirs: dict[str, str]
) -> None:
    response = studio.get(f"/v1/subjects/{theirs['subject']}")
    assert response.status_code == 404
    assert response.json["type"] == problem_type("subject-not-found")


def test_reading_another_tenants_grant_is_not_found(studio: Studio, theirs: dict[str, str]) -> None:
    response = studio.get(f"/v1/grants/{theirs['grant']}")
    assert response.status_code == 404
    assert response.json["type"] == problem_type("grant-not-found")


def test_lists_show_only_own_records(studio: Studio, theirs: dict[str, str]) -> None:
    mine = studio.grant()
    assert [g["id"] for g in studio.get("/v1/grants").json["items"]] == [mine["id"]]
    assert theirs["subject"] not in {s["id"] for s in studio.get("/v1/subjects").json["items"]}
    filtered = studio.get(f"/v1/grants?subject_id={theirs['subject']}").json["items"]
    assert filtered == []


@pytest.mark.parametrize("action", ["revoke", "suspend", "resume"])
def test_changing_another_tenants_grant_is_not_found_and_changes_nothing(
    studio: Studio,
    other_studio: Studio,
    theirs: dict[str, str],
    counts,
    action: str,  # type: ignore[no-untyped-def]
) -> None:
    before = counts()
    response = studio.post(f"/v1/grants/{theirs['grant']}/{action}", json={"reason": "hostile"})
    assert response.status_code == 404
    assert response.json["type"] == problem_type("grant-not-found")
    assert counts() == before
    assert other_studio.get(f"/v1/grants/{theirs['grant']}").json["status"] == "active"


def test_superseding_another_tenants_grant_is_not_found(
    studio: Studio,
    theirs: dict[str, str],
    counts,  # type: ignore[no-untyped-def]
) -> None:
    terms = grant_body(theirs["subject"])
    del terms["subject_id"]
    before = counts()
    response = studio.post(f"/v1/grants/{theirs['grant']}/supersede", json={**terms, "reason": "x"})
    assert response.status_code == 404
    assert counts() == before


def test_granting_on_another_tenants_subject_is_not_found(
    studio: Studio,
    theirs: dict[str, str],
    counts,  # type: ignore[no-untyped-def]
) -> None:
    before = counts()
    response = studio.post("/v1/grants", json=grant_body(theirs["subject"]))
    assert response.status_code == 404
    assert response.json["type"] == problem_type("subject-not-found")
    assert counts() == before
