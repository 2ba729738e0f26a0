"""The grant-scope rule (``consent.scope``) as tables: no database, grants built in memory.

Every row names one edge: each ``GapReason``, each end of the validity period, a revocation
exactly at the moment asked about, purposes by category and by project_ref.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from registry.consent.models import ConsentGrant
from registry.consent.scope import (
    GENERATE,
    NOT_YET_VALID,
    ScopeGap,
    Use,
    effective_status,
    granted_purposes,
    scope_gap,
    status_at,
    status_now,
)

START = datetime(2026, 3, 1, 12, tzinfo=UTC)
END = datetime(2026, 9, 1, 12, tzinfo=UTC)
DURING = datetime(2026, 6, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
AD = {
    "category": "advertising",
    "description": "Radio spots for the Northwind spring 2027 coffee campaign",
    "project_ref": "NW-2027-COFFEE",
}
FILM = {"category": "film", "description": "The feature film Harbour Lights (2027)"}


def grant(**overrides: Any) -> ConsentGrant:
    """A grant of voice and likeness, for advertising (NW-2027-COFFEE) and film, in US and CA."""
    fields: dict[str, Any] = {
        "modalities": ["voice", "likeness"],
        "operations": ["generate", "alter"],
        "purposes": [AD, FILM],
        "media_types": ["audio", "video"],
        "territories": ["US", "CA"],
        "valid_from": START,
        "valid_until": END,
        "status": "active",
        "status_changed_at": None,
        "revoked_at": None,
    }
    fields.update(overrides)
    return ConsentGrant(**fields)


def use(**overrides: Any) -> Use:
    fields: dict[str, Any] = {
        "modalities": ["voice"],
        "purpose": "advertising",
        "territory": "US",
        "media_kind": "audio",
    }
    fields.update(overrides)
    return Use(**fields)


def test_a_use_is_a_generation_unless_it_says_otherwise() -> None:
    assert GENERATE == "generate"
    assert use().operation == "generate"
    assert NOT_YET_VALID == "not_yet_valid"


# scope_gap --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grant_terms", "wanted", "at"),
    [
        pytest.param({}, {}, None, id="inside"),
        pytest.param({}, {"modalities": ["voice", "likeness"]}, None, id="every-granted-modality"),
        pytest.param({}, {"modalities": ["likeness"]}, None, id="one-granted-modality"),
        pytest.param({}, {"operation": "alter"}, None, id="second-operation"),
        pytest.param({}, {"purpose": "film"}, None, id="purpose-by-category"),
        pytest.param({}, {"purpose": "NW-2027-COFFEE"}, None, id="purpose-by-project-ref"),
        pytest.param({}, {"territory": "CA"}, None, id="second-territory"),
        pytest.param({"territories": ["*"]}, {"territory": "FR"}, None, id="worldwide"),
        pytest.param({"territories": ["*"]}, {"territory": None}, None, id="worldwide-no-claim"),
        pytest.param(
            {"territories": ["FR", "*"]}, {"territory": "JP"}, None, id="star-among-codes"
        ),
        pytest.param({}, {"media_kind": "video"}, None, id="second-media-type"),
        pytest.param({}, {}, START, id="at-valid-from"),
        pytest.param({}, {}, DURING, id="during"),
        pytest.param({}, {}, END - SECOND, id="last-second"),
        # The period is all scope_gap reads of the lifecycle: status is status_at's business.
        pytest.param({"status": "revoked", "revoked_at": START}, {}, DURING, id="status-not-read"),
    ],
)
def test_a_use_inside_the_grant_has_no_gap(
    grant_terms: dict[str, Any], wanted: dict[str, Any], at: datetime | None
) -> None:
    assert scope_gap(grant(**grant_terms), use(**wanted), at=at) is None


@pytest.mark.parametrize(
    ("grant_terms", "wanted", "at", "gap"),
    [
        pytest.param(
            {},
            {"modalities": ["face"]},
            None,
            ScopeGap("modality", "modalities face are not granted"),
            id="modality",
        ),
        pytest.param(
            {},
            {"modalities": ["voice", "singing", "face"]},
            None,
            ScopeGap("modality", "modalities face, singing are not granted"),
            id="modalities-sorted",
        ),
        pytest.param(
            {},
            {"modalities": []},
            None,
            ScopeGap("modality", "modalities (none) are not granted"),
            id="no-modalities",
        ),
        pytest.param(
            {"modalities": []},
            {"modalities": []},
            None,
            ScopeGap("modality", "modalities (none) are not granted"),
            id="no-modalities-granted-none",
        ),
        pytest.param(
            {},
            {"operation": "train"},
            None,
            ScopeGap("operation", "the grant does not allow the operation train"),
            id="operation",
        ),
        pytest.param(
            {"operations": ["alter"]},
            {},
            None,
            ScopeGap("operation", "the grant does not allow the operation generate"),
            id="generate-not-granted",
        ),
        pytest.param(
            {},
            {"purpose": "gaming"},
            None,
            ScopeGap("purpose", "purpose 'gaming' is not one of the grant's purposes"),
            id="purpose",
        ),
        pytest.param(
            {},
            {"purpose": None},
            None,
            ScopeGap("purpose", "purpose None is not one of the grant's purposes"),
            id="no-purpose",
        ),
        pytest.param(
            {},
            {"purpose": "Advertising"},
            None,
            ScopeGap("purpose", "purpose 'Advertising' is not one of the grant's purposes"),
            id="purpose-is-case-sensitive",
        ),
        pytest.param(
            {},
            {"purpose": "Radio spots for the Northwind spring 2027 coffee campaign"},
            None,
            ScopeGap(
                "purpose",
                "purpose 'Radio spots for the Northwind spring 2027 coffee campaign' is not one "
                "of the grant's purposes",
            ),
            id="description-is-not-a-purpose",
        ),
        # FILM has no project_ref: neither None, "None" nor "" may match it.
        pytest.param(
            {"purposes": [FILM]},
            {"purpose": "None"},
            None,
            ScopeGap("purpose", "purpose 'None' is not one of the grant's purposes"),
            id="missing-project-ref-is-not-None",
        ),
        pytest.param(
            {"purposes": [{**FILM, "project_ref": None}]},
            {"purpose": None},
            None,
            ScopeGap("purpose", "purpose None is not one of the grant's purposes"),
            id="null-project-ref-none-claimed",
        ),
        pytest.param(
            {"purposes": [{**FILM, "project_ref": None}]},
            {"purpose": "None"},
            None,
            ScopeGap("purpose", "purpose 'None' is not one of the grant's purposes"),
            id="null-project-ref-None-claimed",
        ),
        pytest.param(
            {"purposes": [{**FILM, "project_ref": ""}]},
            {"purpose": ""},
            None,
            ScopeGap("purpose", "purpose '' is not one of the grant's purposes"),
            id="empty-project-ref",
        ),
        pytest.param(
            {},
            {"territory": "FR"},
            None,
            ScopeGap("territory", "territory FR is not granted"),
            id="territory",
        ),
        pytest.param(
            {},
            {"territory": None},
            None,
            ScopeGap("territory", "territory None is not granted"),
            id="no-territory",
        ),
        pytest.param(
            {},
            {"territory": "*"},
            None,
            ScopeGap("territory", "territory * is not granted"),
            id="claiming-worldwide-needs-worldwide",
        ),
        pytest.param(
            {},
            {"media_kind": "image"},
            None,
            ScopeGap("media_type", "image media is not granted"),
            id="media-type",
        ),
        pytest.param(
            {},
            {},
            START - SECOND,
            ScopeGap("not_yet_valid", f"the use predates the grant (from {START})"),
            id="before-valid-from",
        ),
        pytest.param(
            {},
            {},
            END,
            ScopeGap("expired", f"the use is after the grant ended ({END})"),
            id="at-valid-until",
        ),
        pytest.param(
            {},
            {},
            END + timedelta(days=400),
            ScopeGap("expired", f"the use is after the grant ended ({END})"),
            id="long-after",
        ),
    ],
)
def test_a_use_outside_the_grant_has_its_reason(
    grant_terms: dict[str, Any], wanted: dict[str, Any], at: datetime | None, gap: ScopeGap
) -> None:
    assert scope_gap(grant(**grant_terms), use(**wanted), at=at) == gap


@pytest.mark.parametrize(
    ("wanted", "at", "reason"),
    [
        pytest.param({"modalities": ["face"], "operation": "train"}, None, "modality", id="m>o"),
        pytest.param({"operation": "train", "purpose": "gaming"}, None, "operation", id="o>p"),
        pytest.param({"purpose": "gaming", "territory": "FR"}, None, "purpose", id="p>t"),
        pytest.param({"territory": "FR", "media_kind": "image"}, None, "territory", id="t>m"),
        pytest.param({"media_kind": "image"}, END, "media_type", id="m>period"),
        pytest.param({"purpose": None, "territory": None}, None, "purpose", id="none>none"),
    ],
)
def test_the_first_gap_in_rule_order_is_reported(
    wanted: dict[str, Any], at: datetime | None, reason: str
) -> None:
    gap = scope_gap(grant(), use(**wanted), at=at)

    assert gap is not None
    assert gap.reason == reason


def test_without_a_moment_the_period_is_not_checked() -> None:
    expired = grant(valid_from=START - timedelta(days=900), valid_until=START - timedelta(days=1))

    assert scope_gap(expired, use()) is None
    assert scope_gap(expired, use(), at=None) is None


@pytest.mark.parametrize(
    ("purposes", "names"),
    [
        pytest.param([AD], {"advertising", "NW-2027-COFFEE"}, id="category-and-ref"),
        pytest.param([FILM], {"film"}, id="no-ref-key"),
        pytest.param([{**FILM, "project_ref": None}], {"film"}, id="null-ref"),
        pytest.param([{**FILM, "project_ref": ""}], {"film"}, id="empty-ref"),
        pytest.param([{"category": "", "project_ref": "X-1"}], {"X-1"}, id="empty-category"),
        pytest.param([{"project_ref": "X-1"}], {"X-1"}, id="no-category-key"),
        pytest.param([AD, FILM], {"advertising", "NW-2027-COFFEE", "film"}, id="several"),
        pytest.param([{"category": 7, "project_ref": 8}], {"7", "8"}, id="as-text"),
        pytest.param([], set(), id="none"),
    ],
)
def test_granted_purposes_are_categories_and_project_refs(
    purposes: list[dict[str, Any]], names: set[str]
) -> None:
    assert granted_purposes(purposes) == names


# effective_status, status_now -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "now", "expected"),
    [
        pytest.param("active", START - SECOND, "active", id="active-before-period"),
        pytest.param("active", DURING, "active", id="active"),
        pytest.param("active", END - SECOND, "active", id="active-last-second"),
        pytest.param("active", END, "expired", id="active-at-valid-until"),
        pytest.param("active", END + SECOND, "expired", id="active-after"),
        pytest.param("revoked", END + SECOND, "revoked", id="revoked-after"),
        pytest.param("suspended", END, "suspended", id="suspended-at-end"),
        pytest.param("superseded", END + SECOND, "superseded", id="superseded-after"),
        pytest.param("expired", DURING, "expired", id="stored-expired"),
        pytest.param("revoked", DURING, "revoked", id="revoked"),
    ],
)
def test_effective_status(status: str, now: datetime, expected: str) -> None:
    assert effective_status(status, END, now) == expected
    assert grant(status=status).effective_status(now) == expected


@pytest.mark.parametrize(
    ("status", "now", "expected"),
    [
        pytest.param("active", START - SECOND, "not_yet_valid", id="before-valid-from"),
        pytest.param("active", START, "active", id="at-valid-from"),
        pytest.param("active", DURING, "active", id="during"),
        pytest.param("active", END - SECOND, "active", id="last-second"),
        pytest.param("active", END, "expired", id="at-valid-until"),
        pytest.param("active", END + SECOND, "expired", id="after"),
        pytest.param("revoked", START - SECOND, "revoked", id="revoked-before-start"),
        pytest.param("suspended", START - SECOND, "suspended", id="suspended-before-start"),
        pytest.param("superseded", START - SECOND, "superseded", id="superseded-before-start"),
        pytest.param("suspended", DURING, "suspended", id="suspended"),
        pytest.param("revoked", END + SECOND, "revoked", id="revoked-after-end"),
    ],
)
def test_status_now(status: str, now: datetime, expected: str) -> None:
    assert status_now(grant(status=status), now) == expected


# status_at --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifecycle", "moment", "expected"),
    [
        pytest.param({}, START - SECOND, "not_yet_valid", id="before-valid-from"),
        pytest.param({}, START, "active", id="at-valid-from"),
        pytest.param({}, DURING, "active", id="during"),
        pytest.param({}, END - SECOND, "active", id="last-second"),
        pytest.param({}, END, "expired", id="at-valid-until"),
        pytest.param({}, END + SECOND, "expired", id="after"),
        # Revocation counts from revoked_at, inclusive.
        pytest.param(
            {"status": "revoked", "revoked_at": DURING - SECOND},
            DURING,
            "revoked",
            id="revoked-before",
        ),
        pytest.param(
            {"status": "revoked", "revoked_at": DURING}, DURING, "revoked", id="revoked-exactly-at"
        ),
        pytest.param(
            {"status": "revoked", "revoked_at": DURING + SECOND},
            DURING,
            "active",
            id="revoked-after",
        ),
        pytest.param(
            {"status": "revoked", "revoked_at": DURING + SECOND},
            START - SECOND,
            "not_yet_valid",
            id="revoked-later-not-yet-valid-then",
        ),
        pytest.param(
            {"status": "revoked", "revoked_at": END - SECOND},
            END,
            "revoked",
            id="revoked-beats-expired",
        ),
        pytest.param(
            {"status": "revoked", "revoked_at": START - timedelta(days=1)},
            START - SECOND,
            "revoked",
            id="revoked-beats-not-yet-valid",
        ),
        pytest.param(
            {"status": "superseded", "revoked_at": DURING, "status_changed_at": DURING},
            DURING,
            "revoked",
            id="revoked-beats-superseded",
        ),
        # Suspension and supersession count from status_changed_at, or always without one.
        pytest.param({"status": "suspended"}, DURING, "suspended", id="suspended-no-time"),
        pytest.param(
            {"status": "suspended"}, START - SECOND, "suspended", id="suspended-no-time-early"
        ),
        pytest.param(
            {"status": "suspended", "status_changed_at": DURING - SECOND},
            DURING,
            "suspended",
            id="suspended-before",
        ),
        pytest.param(
            {"status": "suspended", "status_changed_at": DURING},
            DURING,
            "suspended",
            id="suspended-exactly-at",
        ),
        pytest.param(
            {"status": "suspended", "status_changed_at": DURING + SECOND},
            DURING,
            "active",
            id="suspended-after",
        ),
        pytest.param(
            {"status": "suspended", "status_changed_at": START},
            END,
            "suspended",
            id="suspended-beats-expired",
        ),
        pytest.param({"status": "superseded"}, DURING, "superseded", id="superseded-no-time"),
        pytest.param(
            {"status": "superseded", "status_changed_at": DURING},
            DURING,
            "superseded",
            id="superseded-exactly-at",
        ),
        pytest.param(
            {"status": "superseded", "status_changed_at": DURING + SECOND},
            DURING,
            "active",
            id="superseded-after-signing",
        ),
        pytest.param(
            {"status": "superseded", "status_changed_at": DURING + SECOND},
            END,
            "superseded",
            id="superseded-beats-expired",
        ),
        # A changed_at on an active grant (a lifted suspension) leaves it active.
        pytest.param(
            {"status": "active", "status_changed_at": DURING - SECOND},
            DURING,
            "active",
            id="lifted",
        ),
    ],
)
def test_status_at(lifecycle: dict[str, Any], moment: datetime, expected: str) -> None:
    assert status_at(grant(**lifecycle), moment) == expected
