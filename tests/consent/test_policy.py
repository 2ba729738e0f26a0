"""Grant policy: every refusal is a 422 problem with its own type, and writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from registry.errors import problem_type
from tests.factories import Studio, grant_body, iso


def _refused(studio: Studio, counts, body: dict[str, Any], slug: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    before = counts()
    response = studio.post("/v1/grants", json=body)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == problem_type(slug)
    assert counts() == before
    return response.json  # type: ignore[no-any-return]


def _purpose(description: str) -> list[dict[str, str]]:
    return [{"category": "advertising", "description": description}]


@pytest.mark.parametrize(
    "description",
    [
        "All media now known or hereafter devised, worldwide",
        "Use in any and all media for the campaign",
        "Any use whatsoever in perpetuity for the studio",
        "Voice ads",
    ],
)
def test_blanket_or_vague_description_is_refused(studio: Studio, counts, description: str) -> None:  # type: ignore[no-untyped-def]
    subject = studio.subject()
    body = grant_body(subject["id"], purposes=_purpose(description))
    _refused(studio, counts, body, "grant-description-not-specific")


def test_period_must_end_after_it_starts(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    subject = studio.subject()
    body = grant_body(
        subject["id"], valid_from="2027-01-01T00:00:00Z", valid_until="2027-01-01T00:00:00Z"
    )
    _refused(studio, counts, body, "grant-invalid-period")


def _minor(studio: Studio) -> tuple[dict[str, Any], datetime]:
    born = date.today().replace(year=date.today().year - 10)
    subject = studio.subject(display_name="Kid Example", date_of_birth=born.isoformat())
    majority = datetime(born.year + 18, born.month, born.day, tzinfo=UTC)
    return subject, majority


def test_minor_needs_a_guardian(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    subject, _ = _minor(studio)
    _refused(studio, counts, grant_body(subject["id"]), "grant-minor-requires-guardian")


def test_minor_grant_may_not_run_past_the_18th_birthday(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    subject, majority = _minor(studio)
    body = grant_body(
        subject["id"],
        granted_by={"role": "guardian", "name": "Parent Example"},
        valid_until=iso(majority + timedelta(days=1)),
    )
    problem = _refused(studio, counts, body, "grant-minor-past-majority")
    assert problem["latest_valid_until"].startswith(majority.date().isoformat())


def test_minor_grant_signed_by_guardian_until_majority_is_issued(studio: Studio) -> None:
    subject, majority = _minor(studio)
    body = grant_body(
        subject["id"],
        granted_by={"role": "guardian", "name": "Parent Example"},
        valid_until=iso(majority),
    )
    assert studio.post("/v1/grants", json=body).status_code == 201


def _deceased(studio: Studio) -> dict[str, Any]:
    return studio.subject(
        display_name="Late Legend",
        status="deceased",
        date_of_birth="1930-01-01",
        date_of_death="2001-05-05",
    )


@pytest.mark.parametrize(
    "granted_by",
    [
        {"role": "subject", "name": "Late Legend"},
        {"role": "estate", "name": "Legend Estate LLC"},
    ],
)
def test_deceased_subject_needs_estate_with_authority_evidence(
    studio: Studio,
    counts,
    granted_by: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    subject = _deceased(studio)
    body = grant_body(subject["id"], granted_by=granted_by)
    _refused(studio, counts, body, "grant-deceased-requires-authority")


def test_deceased_subject_grant_by_estate_with_evidence_is_issued(studio: Studio) -> None:
    subject = _deceased(studio)
    body = grant_body(
        subject["id"],
        granted_by={
            "role": "estate",
            "name": "Legend Estate LLC",
            "authority_evidence": "Letters testamentary, Probate Court case 2001-PR-123",
        },
    )
    assert studio.post("/v1/grants", json=body).status_code == 201


@pytest.mark.parametrize("operation", ["train", "fine_tune"])
def test_training_operations_need_an_explicit_training_term(
    studio: Studio,
    counts,
    operation: str,  # type: ignore[no-untyped-def]
) -> None:
    subject = studio.subject()
    body = grant_body(subject["id"], operations=["generate", operation])
    _refused(studio, counts, body, "grant-training-term-required")
    body["training"] = "not_allowed"
    _refused(studio, counts, body, "grant-training-term-required")


@pytest.mark.parametrize(
    ("field", "value", "slug"),
    [
        ("modalities", ["voice", "smell"], "grant-unknown-modality"),
        ("operations", ["generate", "teleport"], "grant-unknown-operation"),
        ("territories", ["US", "XX"], "grant-unknown-territory"),
        ("territories", ["USA"], "grant-unknown-territory"),
        ("media_types", ["hologram"], "grant-unknown-media-type"),
    ],
)
def test_unknown_vocabulary_is_refused(
    studio: Studio,
    counts,
    field: str,
    value: list[str],
    slug: str,  # type: ignore[no-untyped-def]
) -> None:
    subject = studio.subject()
    problem = _refused(studio, counts, grant_body(subject["id"], **{field: value}), slug)
    assert problem["detail"]


def test_worldwide_territory_is_accepted(studio: Studio) -> None:
    grant = studio.grant(territories=["*"])
    assert grant["territories"] == ["*"]


def test_living_adult_cannot_be_granted_by_an_estate(studio: Studio, counts) -> None:  # type: ignore[no-untyped-def]
    subject = studio.subject()
    body = grant_body(subject["id"], granted_by={"role": "estate", "name": "Someone Else"})
    _refused(studio, counts, body, "grant-grantor-not-authorized")
