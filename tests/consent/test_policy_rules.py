"""Grant policy (``consent.policy``) as tables: terms and subjects built in memory, no database.

Each row is one edge of a rule: description length at 19/20/21 characters after whitespace is
collapsed, each blanket phrase, 29 February, a grant starting exactly on the 18th birthday,
who may grant for a deceased person, a minor or a living adult, and the training terms.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from registry.consent import errors
from registry.consent.models import Subject
from registry.consent.policy import (
    BLANKET_WORDING,
    MIN_DESCRIPTION_LENGTH,
    check_policy,
    eighteenth_birthday,
    is_minor,
)
from registry.consent.schemas import GrantTerms
from registry.consent.vocabulary import MEDIA_TYPES, MODALITIES, OPERATIONS

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2027, 3, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DESCRIPTION = "Radio spots for the Northwind spring 2027 coffee campaign"
EVIDENCE = "Letters testamentary, Probate Court of Kings County, 2025-114"
# A minor on START: born 15 June 2010, 18 on 15 June 2028.
CHILD_BORN = date(2010, 6, 15)
CHILD_MAJORITY = datetime(2028, 6, 15, tzinfo=UTC)
# Born on 29 February 2008: 18 on 1 March 2026 (2026 has no 29 February).
LEAP_BORN = date(2008, 2, 29)
LEAP_MAJORITY = datetime(2026, 3, 1, tzinfo=UTC)


def terms(**overrides: Any) -> GrantTerms:
    """Terms that pass policy for a living adult: voice ads in the US, granted by the subject."""
    body: dict[str, Any] = {
        "granted_by": {"role": "subject", "name": "Ada Example"},
        "modalities": ["voice"],
        "operations": ["generate"],
        "purposes": [{"category": "advertising", "description": DESCRIPTION}],
        "media_types": ["audio"],
        "territories": ["US"],
        "valid_from": START,
        "valid_until": END,
    }
    body.update(overrides)
    return GrantTerms.model_validate(body)


def by(role: str, evidence: str | None = None) -> dict[str, Any]:
    granted_by: dict[str, Any] = {"role": role, "name": "Someone Example"}
    if evidence is not None:
        granted_by["authority_evidence"] = evidence
    return granted_by


def described(*descriptions: str) -> list[dict[str, Any]]:
    return [{"category": "advertising", "description": text} for text in descriptions]


def subject(**overrides: Any) -> Subject:
    fields: dict[str, Any] = {
        "org_id": "org",
        "pseudonymous_id": "subj_x",
        "display_name": "Ada Example",
        "status": "living",
        "date_of_birth": date(1990, 5, 17),
    }
    fields.update(overrides)
    return Subject(**fields)


CHILD = {"date_of_birth": CHILD_BORN}
DECEASED = {"status": "deceased", "date_of_death": date(2024, 1, 2)}


def test_the_minimum_description_length_is_twenty() -> None:
    assert MIN_DESCRIPTION_LENGTH == 20


# Accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grant_terms", "who"),
    [
        pytest.param({}, {}, id="adult-by-subject"),
        pytest.param({}, {"date_of_birth": None}, id="no-date-of-birth"),
        pytest.param({"granted_by": by("authorized_representative")}, {}, id="adult-by-agent"),
        pytest.param({"granted_by": by("union")}, {}, id="adult-by-union"),
        pytest.param(
            {
                "modalities": list(MODALITIES),
                "operations": list(OPERATIONS),
                "media_types": list(MEDIA_TYPES),
                "training": "allowed",
            },
            {},
            id="every-known-word",
        ),
        pytest.param({"territories": ["*"]}, {}, id="worldwide"),
        pytest.param({"territories": ["US", "*", "JP"]}, {}, id="worldwide-among-codes"),
        pytest.param({"valid_until": START + timedelta(microseconds=1)}, {}, id="shortest-period"),
        # Descriptions: 20 and 21 characters, counted after whitespace is collapsed.
        pytest.param({"purposes": described("Coffee radio ad 2027")}, {}, id="description-20"),
        pytest.param({"purposes": described("Coffee radio ads 2027")}, {}, id="description-21"),
        pytest.param(
            {"purposes": described("  Coffee \t radio\n ad   2027  ")},
            {},
            id="description-20-spaced",
        ),
        pytest.param(
            {"purposes": described(DESCRIPTION, "Coffee radio ad 2027")}, {}, id="two-purposes"
        ),
        # Near misses of the blanket phrases.
        pytest.param(
            {"purposes": described("Dub all mediators' lines in the 2027 arbitration film")},
            {},
            id="all-mediators",
        ),
        pytest.param(
            {"purposes": described("Narration for any use case listed in schedule A")},
            {},
            id="any-use-case",
        ),
        # Training operations with an explicit term.
        pytest.param(
            {"operations": ["generate", "train"], "training": "allowed"}, {}, id="train-allowed"
        ),
        pytest.param(
            {"operations": ["fine_tune"], "training": "constrained"}, {}, id="fine-tune-constrained"
        ),
        pytest.param({"training": "not_allowed"}, {}, id="no-training-not-allowed"),
        # Deceased: an estate or an authorized representative, with evidence.
        pytest.param({"granted_by": by("estate", EVIDENCE)}, DECEASED, id="deceased-estate"),
        pytest.param(
            {"granted_by": by("authorized_representative", EVIDENCE)},
            DECEASED,
            id="deceased-authorized-representative",
        ),
        pytest.param(
            {"granted_by": by("estate", EVIDENCE)}, {**DECEASED, **CHILD}, id="deceased-child"
        ),
        # Minors: a guardian, until the 18th birthday at the latest.
        pytest.param(
            {"granted_by": by("guardian"), "valid_until": CHILD_MAJORITY},
            CHILD,
            id="minor-until-exactly-18",
        ),
        pytest.param(
            {"granted_by": by("guardian"), "valid_until": CHILD_MAJORITY - SECOND},
            CHILD,
            id="minor-until-before-18",
        ),
        pytest.param(
            {
                "granted_by": by("guardian"),
                "valid_from": LEAP_MAJORITY - timedelta(days=30),
                "valid_until": LEAP_MAJORITY,
            },
            {"date_of_birth": LEAP_BORN},
            id="leap-day-minor-until-1-march",
        ),
        # Adults: from the 18th birthday on, a subject grants for themselves.
        pytest.param(
            {"valid_from": CHILD_MAJORITY, "valid_until": CHILD_MAJORITY + timedelta(days=90)},
            CHILD,
            id="starting-exactly-on-18th-birthday",
        ),
        pytest.param(
            {"valid_from": LEAP_MAJORITY, "valid_until": LEAP_MAJORITY + timedelta(days=90)},
            {"date_of_birth": LEAP_BORN},
            id="leap-day-adult-on-1-march",
        ),
    ],
)
def test_terms_within_policy_are_accepted(grant_terms: dict[str, Any], who: dict[str, Any]) -> None:
    check_policy(terms(**grant_terms), subject(**who))


# Refused ----------------------------------------------------------------------------------


def _words(words: tuple[str, ...]) -> str:
    return ", ".join(words)


REFUSALS = [
    # Vocabulary: the unknown words sorted, the allowed ones in vocabulary order.
    pytest.param(
        {"modalities": ["voice", "smell", "aura"]},
        {},
        errors.UnknownModality,
        f"unknown: aura, smell; allowed: {_words(MODALITIES)}",
        {"unknown": ["aura", "smell"], "allowed": list(MODALITIES)},
        id="modality",
    ),
    pytest.param(
        {"operations": ["generate", "teleport"]},
        {},
        errors.UnknownOperation,
        f"unknown: teleport; allowed: {_words(OPERATIONS)}",
        {"unknown": ["teleport"], "allowed": list(OPERATIONS)},
        id="operation",
    ),
    pytest.param(
        {"media_types": ["hologram", "audio"]},
        {},
        errors.UnknownMediaType,
        f"unknown: hologram; allowed: {_words(MEDIA_TYPES)}",
        {"unknown": ["hologram"], "allowed": list(MEDIA_TYPES)},
        id="media-type",
    ),
    pytest.param(
        {"modalities": ["Voice"]},
        {},
        errors.UnknownModality,
        f"unknown: Voice; allowed: {_words(MODALITIES)}",
        {"unknown": ["Voice"], "allowed": list(MODALITIES)},
        id="modality-case",
    ),
    pytest.param(
        {"modalities": ["smell"], "operations": ["teleport"], "media_types": ["hologram"]},
        {},
        errors.UnknownModality,
        f"unknown: smell; allowed: {_words(MODALITIES)}",
        {"unknown": ["smell"], "allowed": list(MODALITIES)},
        id="modality-first",
    ),
    pytest.param(
        {"operations": ["teleport"], "media_types": ["hologram"], "territories": ["XX"]},
        {},
        errors.UnknownOperation,
        f"unknown: teleport; allowed: {_words(OPERATIONS)}",
        {"unknown": ["teleport"], "allowed": list(OPERATIONS)},
        id="operation-before-media-type",
    ),
    pytest.param(
        {"territories": ["US", "XX", "usa", "XX"]},
        {},
        errors.UnknownTerritory,
        "not ISO 3166-1 alpha-2 codes: XX, usa (use * for worldwide)",
        {"unknown": ["XX", "usa"]},
        id="territory",
    ),
    pytest.param(
        {"territories": ["us"]},
        {},
        errors.UnknownTerritory,
        "not ISO 3166-1 alpha-2 codes: us (use * for worldwide)",
        {"unknown": ["us"]},
        id="territory-lowercase",
    ),
    pytest.param(
        {"territories": ["**"], "purposes": described("short")},
        {},
        errors.UnknownTerritory,
        "not ISO 3166-1 alpha-2 codes: ** (use * for worldwide)",
        {"unknown": ["**"]},
        id="territory-before-description",
    ),
    # Descriptions: fewer than 20 characters once whitespace is collapsed.
    pytest.param(
        {"purposes": described("Coffee radio ad 202")},
        {},
        errors.DescriptionNotSpecific,
        "purposes[0].description must say what the use is (at least 20 characters)",
        {"purpose": 0},
        id="description-19",
    ),
    pytest.param(
        {"purposes": described("Coffee   radio\n\tad   202   ")},
        {},
        errors.DescriptionNotSpecific,
        "purposes[0].description must say what the use is (at least 20 characters)",
        {"purpose": 0},
        id="description-19-after-collapsing",
    ),
    pytest.param(
        {"purposes": described(DESCRIPTION, "Voice ads")},
        {},
        errors.DescriptionNotSpecific,
        "purposes[1].description must say what the use is (at least 20 characters)",
        {"purpose": 1},
        id="second-description-short",
    ),
    pytest.param(
        {"purposes": described(DESCRIPTION, "Voice ads in perpetuity for the studio")},
        {},
        errors.DescriptionNotSpecific,
        "purposes[1].description uses blanket wording ('in perpetuity'); "
        "name the project and the use",
        {"purpose": 1},
        id="second-description-blanket",
    ),
    pytest.param(
        {"purposes": described("Radio spots for the coffee campaign, in\n   perpetuity")},
        {},
        errors.DescriptionNotSpecific,
        "purposes[0].description uses blanket wording ('in perpetuity'); "
        "name the project and the use",
        {"purpose": 0},
        id="blanket-after-collapsing",
    ),
    pytest.param(
        {"purposes": described("All media now known or hereafter devised"), "valid_until": START},
        {},
        errors.DescriptionNotSpecific,
        "purposes[0].description uses blanket wording ('All media'); name the project and the use",
        {"purpose": 0},
        id="description-before-period",
    ),
    # The period.
    pytest.param(
        {"valid_until": START},
        {},
        errors.InvalidPeriod,
        "valid_until must be later than valid_from",
        {},
        id="period-empty",
    ),
    pytest.param(
        {"valid_until": START - SECOND},
        {},
        errors.InvalidPeriod,
        "valid_until must be later than valid_from",
        {},
        id="period-reversed",
    ),
    pytest.param(
        {"valid_until": START, "operations": ["train"]},
        {},
        errors.InvalidPeriod,
        "valid_until must be later than valid_from",
        {},
        id="period-before-training",
    ),
    # Training operations.
    pytest.param(
        {"operations": ["generate", "train"]},
        {},
        errors.TrainingTermRequired,
        "operations train need an explicit training term (allowed or constrained)",
        {},
        id="train-without-term",
    ),
    pytest.param(
        {"operations": ["train", "generate", "fine_tune"]},
        {},
        errors.TrainingTermRequired,
        "operations fine_tune, train need an explicit training term (allowed or constrained)",
        {},
        id="both-without-term",
    ),
    pytest.param(
        {"operations": ["fine_tune"], "training": "not_allowed"},
        {},
        errors.TrainingTermRequired,
        "operations fine_tune contradict training: not_allowed",
        {},
        id="fine-tune-not-allowed",
    ),
    pytest.param(
        {"operations": ["train", "fine_tune"], "training": "not_allowed"},
        {},
        errors.TrainingTermRequired,
        "operations fine_tune, train contradict training: not_allowed",
        {},
        id="both-not-allowed",
    ),
    pytest.param(
        {"operations": ["train"], "granted_by": by("estate")},
        {},
        errors.TrainingTermRequired,
        "operations train need an explicit training term (allowed or constrained)",
        {},
        id="training-before-grantor",
    ),
    # Deceased subjects.
    pytest.param(
        {"granted_by": by("subject", EVIDENCE)},
        DECEASED,
        errors.DeceasedRequiresAuthority,
        "a deceased person's grant must be given by their estate or an authorized representative",
        {},
        id="deceased-by-subject",
    ),
    pytest.param(
        {"granted_by": by("guardian", EVIDENCE)},
        {**DECEASED, **CHILD},
        errors.DeceasedRequiresAuthority,
        "a deceased person's grant must be given by their estate or an authorized representative",
        {},
        id="deceased-child-by-guardian",
    ),
    pytest.param(
        {"granted_by": by("union", EVIDENCE)},
        DECEASED,
        errors.DeceasedRequiresAuthority,
        "a deceased person's grant must be given by their estate or an authorized representative",
        {},
        id="deceased-by-union",
    ),
    pytest.param(
        {"granted_by": by("estate")},
        DECEASED,
        errors.DeceasedRequiresAuthority,
        "granted_by.authority_evidence must show the grantor's authority",
        {},
        id="deceased-estate-without-evidence",
    ),
    pytest.param(
        {"granted_by": by("authorized_representative")},
        DECEASED,
        errors.DeceasedRequiresAuthority,
        "granted_by.authority_evidence must show the grantor's authority",
        {},
        id="deceased-agent-without-evidence",
    ),
    # Minors.
    pytest.param(
        {"valid_until": CHILD_MAJORITY},
        CHILD,
        errors.MinorRequiresGuardian,
        "the subject is a minor: granted_by.role must be guardian",
        {},
        id="minor-by-subject",
    ),
    pytest.param(
        {"granted_by": by("estate", EVIDENCE), "valid_until": CHILD_MAJORITY},
        CHILD,
        errors.MinorRequiresGuardian,
        "the subject is a minor: granted_by.role must be guardian",
        {},
        id="minor-by-estate",
    ),
    pytest.param(
        {"granted_by": by("guardian"), "valid_until": CHILD_MAJORITY + SECOND},
        CHILD,
        errors.MinorPastMajority,
        "valid_until must be no later than the 18th birthday (2028-06-15)",
        {"latest_valid_until": "2028-06-15T00:00:00+00:00"},
        id="minor-past-18-by-a-second",
    ),
    pytest.param(
        {
            "valid_from": CHILD_MAJORITY - SECOND,
            "valid_until": CHILD_MAJORITY + timedelta(days=90),
        },
        CHILD,
        errors.MinorRequiresGuardian,
        "the subject is a minor: granted_by.role must be guardian",
        {},
        id="starting-a-second-before-18",
    ),
    pytest.param(
        {
            "granted_by": by("guardian"),
            "valid_from": LEAP_MAJORITY - timedelta(days=1),
            "valid_until": LEAP_MAJORITY + SECOND,
        },
        {"date_of_birth": LEAP_BORN},
        errors.MinorPastMajority,
        "valid_until must be no later than the 18th birthday (2026-03-01)",
        {"latest_valid_until": "2026-03-01T00:00:00+00:00"},
        id="leap-day-minor-past-1-march",
    ),
    pytest.param(
        {
            "valid_from": datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
            "valid_until": LEAP_MAJORITY + timedelta(days=90),
        },
        {"date_of_birth": LEAP_BORN},
        errors.MinorRequiresGuardian,
        "the subject is a minor: granted_by.role must be guardian",
        {},
        id="leap-day-minor-on-28-february",
    ),
    # Living adults consent for themselves.
    pytest.param(
        {"granted_by": by("guardian")},
        {},
        errors.GrantorNotAuthorized,
        "a living adult consents for themselves; granted_by.role 'guardian' is not allowed",
        {},
        id="adult-by-guardian",
    ),
    pytest.param(
        {"granted_by": by("estate", EVIDENCE)},
        {},
        errors.GrantorNotAuthorized,
        "a living adult consents for themselves; granted_by.role 'estate' is not allowed",
        {},
        id="adult-by-estate",
    ),
    pytest.param(
        {
            "granted_by": by("guardian"),
            "valid_from": CHILD_MAJORITY,
            "valid_until": CHILD_MAJORITY + timedelta(days=90),
        },
        CHILD,
        errors.GrantorNotAuthorized,
        "a living adult consents for themselves; granted_by.role 'guardian' is not allowed",
        {},
        id="guardian-from-the-18th-birthday",
    ),
    pytest.param(
        {"granted_by": by("guardian")},
        {"date_of_birth": None},
        errors.GrantorNotAuthorized,
        "a living adult consents for themselves; granted_by.role 'guardian' is not allowed",
        {},
        id="guardian-without-date-of-birth",
    ),
]


@pytest.mark.parametrize(("grant_terms", "who", "error", "detail", "extensions"), REFUSALS)
def test_terms_outside_policy_are_refused_with_their_own_problem(
    grant_terms: dict[str, Any],
    who: dict[str, Any],
    error: type[errors.GrantPolicyViolation],
    detail: str,
    extensions: dict[str, Any],
) -> None:
    with pytest.raises(errors.GrantPolicyViolation) as refused:
        check_policy(terms(**grant_terms), subject(**who))

    assert type(refused.value) is error
    assert refused.value.detail == detail
    assert refused.value.extensions == extensions


# The blanket-wording regex ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("media now known or hereafter devised", "now known or hereafter devised"),
        ("in all media now known or hereafter devised", "all media"),
        ("formats now known or hereinafter invented", "now known or hereinafter invented"),
        ("now known or hereafter developed", "now known or hereafter developed"),
        ("now known or hereafter created", "now known or hereafter created"),
        ("technologies hereafter invented", "hereafter invented"),
        ("technologies hereinafter developed", "hereinafter developed"),
        ("use in any and all media", "any and all media"),
        ("any and all uses of the recordings", "any and all uses"),
        ("any and all use", "any and all use"),
        ("for any and all purposes", "any and all purposes"),
        ("any and all purpose", "any and all purpose"),
        ("any and all formats", "any and all formats"),
        ("any and all format", "any and all format"),
        ("All media", "All media"),
        ("in all formats", "all formats"),
        ("for all purposes", "all purposes"),
        ("for all uses", "all uses"),
        ("for any purpose whatsoever", "any purpose whatsoever"),
        ("any use whatsoever", "any use whatsoever"),
        ("throughout the universe", "throughout the universe"),
        ("IN PERPETUITY", "IN PERPETUITY"),
        ("unlimited use", "unlimited use"),
        ("unrestricted purposes", "unrestricted purposes"),
        ("unlimited purpose", "unlimited purpose"),
        ("Dub all mediators' lines", None),
        ("for all usesless", None),
        ("hereafter created", None),
        ("any purposes whatsoever", None),
        ("throughout the universes of the film", "throughout the universe"),
        ("perpetual licence for the 2027 campaign", None),
        ("limited use in the 2027 spring campaign", None),
        ("every medium", None),
    ],
    ids=lambda value: value if isinstance(value, str) else "none",
)
def test_blanket_wording(text: str, found: str | None) -> None:
    match = BLANKET_WORDING.search(text)

    assert (match.group(0) if match else None) == found


# The 18th birthday ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "majority"),
    [
        pytest.param(date(2008, 2, 29), datetime(2026, 3, 1, tzinfo=UTC), id="29-february"),
        pytest.param(date(2008, 2, 28), datetime(2026, 2, 28, tzinfo=UTC), id="28-february"),
        pytest.param(date(2008, 3, 1), datetime(2026, 3, 1, tzinfo=UTC), id="1-march"),
        pytest.param(date(2007, 12, 31), datetime(2025, 12, 31, tzinfo=UTC), id="31-december"),
        pytest.param(date(2000, 1, 1), datetime(2018, 1, 1, tzinfo=UTC), id="1-january"),
        pytest.param(date(1996, 2, 29), datetime(2014, 3, 1, tzinfo=UTC), id="29-february-1996"),
    ],
)
def test_eighteenth_birthday_is_midnight_utc(born: date, majority: datetime) -> None:
    birthday = eighteenth_birthday(born)

    assert birthday == majority
    assert birthday.tzinfo is UTC
    assert (birthday.hour, birthday.minute, birthday.second, birthday.microsecond) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("born", "at", "minor"),
    [
        pytest.param(None, START, False, id="no-date-of-birth"),
        pytest.param(CHILD_BORN, START, True, id="child"),
        pytest.param(CHILD_BORN, CHILD_MAJORITY - timedelta(microseconds=1), True, id="eve"),
        pytest.param(CHILD_BORN, CHILD_MAJORITY, False, id="on-the-birthday"),
        pytest.param(CHILD_BORN, CHILD_MAJORITY + SECOND, False, id="after"),
        pytest.param(LEAP_BORN, datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC), True, id="leap-eve"),
        pytest.param(LEAP_BORN, LEAP_MAJORITY, False, id="leap-1-march"),
    ],
)
def test_is_minor(born: date | None, at: datetime, minor: bool) -> None:
    assert is_minor(subject(date_of_birth=born), at) is minor
    assert is_minor(subject(date_of_birth=born, status="deceased"), at) is minor
