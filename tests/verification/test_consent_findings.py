"""The consent check (``verification.consent_checks``) as tables.

``grant_finding`` and ``consent_check`` are pure: grants and assets are built in memory.
``cited_grants`` reads the database, so its tests use the ``app`` fixture.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from registry.consent.models import ConsentGrant
from registry.media.models import MediaAsset
from registry.state import state_of
from registry.verification.consent_checks import (
    ConsentFinding,
    cited_grants,
    consent_check,
    grant_finding,
)
from registry.verification.schemas import Check, GrantVerdict
from tests.factories import Studio

GID = "0190a8f2-6b1e-7c3d-9e4f-5a6b7c8d9e0f"
OTHER = "0190a8f2-6b1e-7c3d-9e4f-000000000000"
TOKEN = "b" * 64
START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 9, 1, tzinfo=UTC)
SIGNED = datetime(2026, 5, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
LATER = END + timedelta(days=10)
SECOND = timedelta(seconds=1)
URL = f"/v1/grants/{GID}/status"
AD = {
    "category": "advertising",
    "description": "Radio spots for the Northwind spring 2027 coffee campaign",
    "project_ref": "NW-2027-COFFEE",
}


def grant(**overrides: Any) -> ConsentGrant:
    fields: dict[str, Any] = {
        "id": GID,
        "modalities": ["voice"],
        "operations": ["generate"],
        "purposes": [AD],
        "media_types": ["audio", "image"],
        "territories": ["US"],
        "valid_from": START,
        "valid_until": END,
        "status": "active",
        "status_changed_at": None,
        "revoked_at": None,
        "superseded_by": None,
        "token_sha256": TOKEN,
    }
    fields.update(overrides)
    return ConsentGrant(**fields)


def claim(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "grant_id": GID,
        "sha256": TOKEN,
        "modalities": ["voice"],
        "purpose": "advertising",
        "territory": "US",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not DROP}


DROP = object()


def asset(*uses: dict[str, Any]) -> MediaAsset:
    return MediaAsset(grant_uses=list(uses), grant_ids=[u["grant_id"] for u in uses])


def verdict(**overrides: Any) -> GrantVerdict:
    fields: dict[str, Any] = {
        "grant_id": GID,
        "status_now": "active",
        "status_at_signing": "active",
        "in_scope": True,
        "scope_gap": None,
        "token_matches": True,
        "status_url": URL,
    }
    fields.update(overrides)
    return GrantVerdict(**fields)


# grant_finding ----------------------------------------------------------------------------

FINDINGS = [
    pytest.param({}, {}, {}, verdict(), None, id="in-force"),
    pytest.param({}, {"purpose": "NW-2027-COFFEE"}, {}, verdict(), None, id="by-project-ref"),
    pytest.param({}, {}, {"media_kind": "image"}, verdict(), None, id="second-media-type"),
    # The token.
    pytest.param(
        {},
        {"sha256": "c" * 64},
        {},
        verdict(token_matches=False),
        "consent.token_mismatch",
        id="token-mismatch",
    ),
    pytest.param(
        {},
        {"sha256": DROP},
        {},
        verdict(token_matches=False),
        "consent.token_mismatch",
        id="token-missing",
    ),
    pytest.param(
        {"status": "revoked", "revoked_at": NOW - SECOND},
        {"sha256": "c" * 64, "modalities": ["face"]},
        {},
        verdict(
            status_now="revoked",
            token_matches=False,
            in_scope=False,
            scope_gap="modality",
        ),
        "consent.token_mismatch",
        id="token-mismatch-beats-revoked",
    ),
    # The status now, and at signing (from the signing time).
    pytest.param(
        {"status": "revoked", "revoked_at": NOW - SECOND},
        {},
        {},
        verdict(status_now="revoked"),
        "consent.revoked",
        id="revoked-after-signing",
    ),
    pytest.param(
        {"status": "revoked", "revoked_at": SIGNED - SECOND},
        {},
        {},
        verdict(status_now="revoked", status_at_signing="revoked"),
        "consent.revoked",
        id="revoked-before-signing",
    ),
    pytest.param(
        {"status": "revoked", "revoked_at": SIGNED},
        {},
        {},
        verdict(status_now="revoked", status_at_signing="revoked"),
        "consent.revoked",
        id="revoked-exactly-at-signing",
    ),
    pytest.param(
        {"status": "suspended", "status_changed_at": NOW - SECOND},
        {},
        {},
        verdict(status_now="suspended"),
        "consent.suspended",
        id="suspended-after-signing",
    ),
    pytest.param(
        {"status": "suspended", "status_changed_at": SIGNED - SECOND},
        {},
        {},
        verdict(status_now="suspended", status_at_signing="suspended"),
        "consent.suspended",
        id="suspended-before-signing",
    ),
    pytest.param(
        {"status": "superseded", "status_changed_at": NOW - SECOND, "superseded_by": OTHER},
        {},
        {},
        verdict(status_now="superseded"),
        "consent.superseded",
        id="superseded-after-signing",
    ),
    pytest.param(
        {"status": "superseded", "status_changed_at": SIGNED, "superseded_by": OTHER},
        {},
        {},
        verdict(status_now="superseded", status_at_signing="superseded"),
        "consent.superseded",
        id="superseded-at-signing",
    ),
    pytest.param(
        {},
        {},
        {"now": END},
        verdict(status_now="expired"),
        "consent.expired",
        id="expired-now",
    ),
    pytest.param(
        {},
        {"territory": "FR"},
        {"now": LATER},
        verdict(status_now="expired", in_scope=False, scope_gap="territory"),
        "consent.expired",
        id="expired-beats-out-of-scope",
    ),
    pytest.param(
        {},
        {},
        {"now": LATER, "signed_at": END},
        verdict(
            status_now="expired", status_at_signing="expired", in_scope=False, scope_gap="expired"
        ),
        "consent.expired",
        id="expired-at-signing",
    ),
    # Out of scope: the claimed use, or the signing time outside the period.
    pytest.param(
        {},
        {"modalities": ["voice", "face"]},
        {},
        verdict(in_scope=False, scope_gap="modality"),
        "consent.out_of_scope",
        id="modality",
    ),
    pytest.param(
        {},
        {"purpose": "film"},
        {},
        verdict(in_scope=False, scope_gap="purpose"),
        "consent.out_of_scope",
        id="purpose",
    ),
    pytest.param(
        {},
        {"territory": "FR"},
        {},
        verdict(in_scope=False, scope_gap="territory"),
        "consent.out_of_scope",
        id="territory",
    ),
    pytest.param(
        {"territories": ["*"]},
        {"territory": "FR"},
        {},
        verdict(),
        None,
        id="worldwide",
    ),
    pytest.param(
        {},
        {},
        {"media_kind": "video"},
        verdict(in_scope=False, scope_gap="media_type"),
        "consent.out_of_scope",
        id="media-type",
    ),
    pytest.param(
        {"operations": ["alter"]},
        {},
        {},
        verdict(in_scope=False, scope_gap="operation"),
        "consent.out_of_scope",
        id="not-a-generation-grant",
    ),
    pytest.param(
        {},
        {},
        {"signed_at": START - SECOND},
        verdict(status_at_signing="not_yet_valid", in_scope=False, scope_gap="not_yet_valid"),
        "consent.out_of_scope",
        id="signed-before-valid-from",
    ),
    pytest.param(
        {},
        {},
        {"signed_at": START},
        verdict(),
        None,
        id="signed-at-valid-from",
    ),
    pytest.param(
        {},
        {},
        {"signed_at": END},
        verdict(status_at_signing="expired", in_scope=False, scope_gap="expired"),
        "consent.out_of_scope",
        id="claims-signing-after-the-end",
    ),
    pytest.param(
        {"status": "superseded", "status_changed_at": NOW - SECOND},
        {"modalities": ["face"]},
        {},
        verdict(status_now="superseded", in_scope=False, scope_gap="modality"),
        "consent.superseded",
        id="superseded-beats-out-of-scope",
    ),
    # A malformed claim claims nothing.
    pytest.param(
        {},
        {"modalities": "voice"},
        {},
        verdict(in_scope=False, scope_gap="modality"),
        "consent.out_of_scope",
        id="modalities-not-a-list",
    ),
    pytest.param(
        {},
        {"modalities": DROP},
        {},
        verdict(in_scope=False, scope_gap="modality"),
        "consent.out_of_scope",
        id="modalities-missing",
    ),
    pytest.param(
        {},
        {"modalities": 5},
        {},
        verdict(in_scope=False, scope_gap="modality"),
        "consent.out_of_scope",
        id="modalities-a-number",
    ),
    pytest.param(
        {"modalities": ["1"]},
        {"modalities": [1]},
        {},
        verdict(),
        None,
        id="modalities-as-text",
    ),
    pytest.param(
        {},
        {"purpose": ["advertising"]},
        {},
        verdict(in_scope=False, scope_gap="purpose"),
        "consent.out_of_scope",
        id="purpose-not-text",
    ),
    pytest.param(
        {},
        {"territory": ["US"]},
        {},
        verdict(in_scope=False, scope_gap="territory"),
        "consent.out_of_scope",
        id="territory-not-text",
    ),
    # Without a signing time or a record, the status at signing is unknown.
    pytest.param(
        {"status": "revoked", "revoked_at": START},
        {},
        {"signed_at": None},
        verdict(status_now="revoked", status_at_signing=None),
        "consent.revoked",
        id="no-signing-time",
    ),
    pytest.param(
        {},
        {},
        {"signed_at": None, "now": NOW},
        verdict(status_at_signing=None),
        None,
        id="no-signing-time-in-force",
    ),
]


@pytest.mark.parametrize(("lifecycle", "claimed", "context", "expected", "code"), FINDINGS)
def test_grant_finding(
    lifecycle: dict[str, Any],
    claimed: dict[str, Any],
    context: dict[str, Any],
    expected: GrantVerdict,
    code: str | None,
) -> None:
    arguments: dict[str, Any] = {
        "media_kind": "audio",
        "now": NOW,
        "signed_at": SIGNED,
        "asset": None,
    }
    arguments.update(context)

    finding = grant_finding(claim(**claimed), grants={GID: grant(**lifecycle)}, **arguments)

    assert finding == ConsentFinding(expected, code)


@pytest.mark.parametrize(
    ("recorded", "lifecycle", "signed_at", "at_signing", "in_scope", "code"),
    [
        # Signing recorded what it found at the precise moment: that is the status at signing,
        # and the period is not checked again against a signing time from the file.
        pytest.param(
            [{"grant_id": GID, "status": "active"}],
            {},
            START - SECOND,
            "active",
            True,
            None,
            id="record-beats-signing-time",
        ),
        pytest.param(
            [{"grant_id": GID, "status": "active"}],
            {"status": "revoked", "revoked_at": SIGNED - SECOND},
            SIGNED,
            "active",
            True,
            "consent.revoked",
            id="record-active-revoked-since",
        ),
        pytest.param(
            [{"grant_id": GID, "status": "active"}],
            {},
            None,
            "active",
            True,
            None,
            id="record-without-signing-time",
        ),
        pytest.param(
            [{"grant_id": OTHER, "status": "suspended"}, {"grant_id": GID, "status": "active"}],
            {},
            SIGNED,
            "active",
            True,
            None,
            id="this-grants-record",
        ),
        pytest.param(
            [{"grant_id": GID, "status": "active"}, {"grant_id": GID, "status": "revoked"}],
            {},
            SIGNED,
            "active",
            True,
            None,
            id="first-record",
        ),
        # A record of other grants only: the signing time decides.
        pytest.param(
            [{"grant_id": OTHER, "status": "active"}],
            {},
            START - SECOND,
            "not_yet_valid",
            False,
            "consent.out_of_scope",
            id="other-grants-record",
        ),
        pytest.param(
            [],
            {"status": "revoked", "revoked_at": SIGNED},
            SIGNED,
            "revoked",
            True,
            "consent.revoked",
            id="asset-without-records",
        ),
        pytest.param(
            [{"grant_id": OTHER, "status": "active"}],
            {},
            None,
            None,
            True,
            None,
            id="no-record-no-time",
        ),
    ],
)
def test_status_at_signing_from_the_asset_record_or_the_signing_time(
    recorded: list[dict[str, Any]],
    lifecycle: dict[str, Any],
    signed_at: datetime | None,
    at_signing: str | None,
    in_scope: bool,
    code: str | None,
) -> None:
    finding = grant_finding(
        claim(),
        grants={GID: grant(**lifecycle), OTHER: grant(id=OTHER, status="suspended")},
        media_kind="audio",
        now=NOW,
        signed_at=signed_at,
        asset=asset(*recorded),
    )

    assert finding.verdict.status_at_signing == at_signing
    assert finding.verdict.in_scope is in_scope
    assert finding.code == code


@pytest.mark.parametrize(
    ("cited", "grant_id"),
    [
        pytest.param(claim(grant_id=OTHER), OTHER, id="not-in-this-registry"),
        pytest.param(claim(grant_id=DROP), "", id="no-grant-id"),
        pytest.param(claim(grant_id=None), "None", id="null-grant-id"),
        pytest.param(claim(grant_id=5), "5", id="number"),
        pytest.param(claim(grant_id=GID.upper()), GID.upper(), id="id-is-exact"),
    ],
)
def test_an_unknown_grant(cited: dict[str, Any], grant_id: str) -> None:
    finding = grant_finding(
        cited,
        grants={GID: grant()},
        media_kind="audio",
        now=NOW,
        signed_at=SIGNED,
        asset=asset({"grant_id": grant_id, "status": "active"}),
    )

    assert finding == ConsentFinding(
        GrantVerdict(
            grant_id=grant_id,
            status_now="unknown",
            status_at_signing=None,
            in_scope=False,
            scope_gap=None,
            token_matches=False,
            status_url=None,
        ),
        "consent.unknown_grant",
    )


# consent_check ----------------------------------------------------------------------------

MESSAGES = {
    "consent.unknown_grant": "A grant the file cites does not exist in this registry.",
    "consent.token_mismatch": "A cited grant's token does not match the registry's record.",
    "consent.revoked": "The consent this file cites has been revoked.",
    "consent.suspended": "The consent this file cites is suspended.",
    "consent.expired": "The consent this file cites has expired.",
    "consent.out_of_scope": "The file claims a use that the cited grant does not cover.",
    "consent.superseded": "A cited grant was replaced by a newer version.",
}


def findings(*codes: str | None) -> list[ConsentFinding]:
    return [ConsentFinding(verdict(), code) for code in codes]


def consent(status: str, code: str, message: str | None = None) -> Check:
    return Check(check="consent", status=status, code=code, message=message or MESSAGES[code])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("codes", "worst", "status"),
    [
        pytest.param(("consent.unknown_grant",), "consent.unknown_grant", "fail", id="unknown"),
        pytest.param(
            ("consent.token_mismatch", "consent.unknown_grant"),
            "consent.unknown_grant",
            "fail",
            id="unknown>token",
        ),
        pytest.param(
            ("consent.revoked", "consent.token_mismatch"),
            "consent.token_mismatch",
            "fail",
            id="token>revoked",
        ),
        pytest.param(
            ("consent.suspended", "consent.revoked"),
            "consent.revoked",
            "fail",
            id="revoked>suspended",
        ),
        pytest.param(
            ("consent.expired", "consent.suspended"),
            "consent.suspended",
            "fail",
            id="suspended>expired",
        ),
        pytest.param(
            ("consent.out_of_scope", "consent.expired"),
            "consent.expired",
            "fail",
            id="expired>out-of-scope",
        ),
        pytest.param(
            ("consent.superseded", "consent.out_of_scope"),
            "consent.out_of_scope",
            "fail",
            id="out-of-scope>superseded",
        ),
        pytest.param(
            ("consent.revoked", "consent.superseded"),
            "consent.revoked",
            "fail",
            id="revoked>superseded",
        ),
        pytest.param(
            ("consent.expired", "consent.revoked"), "consent.revoked", "fail", id="not-alphabetical"
        ),
        pytest.param(
            (None, "consent.superseded"), "consent.superseded", "warn", id="superseded-is-a-warning"
        ),
        pytest.param(("consent.superseded",), "consent.superseded", "warn", id="only-superseded"),
        pytest.param(
            ("consent.superseded", "consent.superseded", None),
            "consent.superseded",
            "warn",
            id="superseded-twice",
        ),
        pytest.param(
            (None, "consent.revoked", None), "consent.revoked", "fail", id="one-bad-of-three"
        ),
        pytest.param(
            (
                "consent.superseded",
                "consent.out_of_scope",
                "consent.expired",
                "consent.suspended",
                "consent.revoked",
                "consent.token_mismatch",
                "consent.unknown_grant",
            ),
            "consent.unknown_grant",
            "fail",
            id="all-of-them",
        ),
    ],
)
def test_the_worst_finding_decides(codes: tuple[str | None, ...], worst: str, status: str) -> None:
    for ai in (True, False):
        assert consent_check(findings(*codes), claimed=True, ai_generated=ai) == consent(
            status, worst
        )


@pytest.mark.parametrize(
    ("found", "claimed", "ai", "expected"),
    [
        pytest.param(
            [],
            False,
            True,
            consent(
                "warn",
                "consent.not_claimed",
                "The file is labelled AI-generated but cites no consent.",
            ),
            id="ai-without-consent",
        ),
        pytest.param(
            [],
            False,
            False,
            consent("not_applicable", "consent.not_claimed", "The file cites no consent grant."),
            id="not-ai-without-consent",
        ),
        pytest.param(
            findings("consent.revoked"),
            False,
            False,
            consent("not_applicable", "consent.not_claimed", "The file cites no consent grant."),
            id="not-claimed-decides",
        ),
        pytest.param(
            [],
            True,
            True,
            consent("fail", "consent.unknown_grant", "The consent assertion names no grant."),
            id="assertion-without-grants",
        ),
        pytest.param(
            [],
            True,
            False,
            consent("fail", "consent.unknown_grant", "The consent assertion names no grant."),
            id="assertion-without-grants-not-ai",
        ),
        pytest.param(
            findings(None),
            True,
            True,
            consent(
                "pass", "consent.in_force", "The consent the file cites is in force (1 grant)."
            ),
            id="one-in-force",
        ),
        pytest.param(
            findings(None, None),
            True,
            False,
            consent(
                "pass", "consent.in_force", "The consent the file cites is in force (2 grants)."
            ),
            id="two-in-force",
        ),
        pytest.param(
            findings(None, None, None),
            True,
            True,
            consent(
                "pass", "consent.in_force", "The consent the file cites is in force (3 grants)."
            ),
            id="three-in-force",
        ),
    ],
)
def test_consent_check(
    found: list[ConsentFinding], claimed: bool, ai: bool, expected: Check
) -> None:
    assert consent_check(found, claimed=claimed, ai_generated=ai) == expected


# cited_grants -----------------------------------------------------------------------------


def test_cited_grants_are_found_by_id_in_one_lookup(
    app: Flask, studio: Studio, other_studio: Studio
) -> None:
    ours, theirs, unused = studio.grant(), other_studio.grant(), studio.grant()
    claims: list[dict[str, Any]] = [
        {"grant_id": ours["id"]},
        {"grant_id": theirs["id"]},
        {"grant_id": ours["id"]},
        {"grant_id": "not-a-uuid"},
        {"grant_id": GID},
        {"grant_id": None},
        {},
    ]

    with state_of(app).database.session_scope() as session:
        found = cited_grants(session, claims)
        ids = {grant_id: grant.id for grant_id, grant in found.items()}
        tokens = {grant_id: grant.token_sha256 for grant_id, grant in found.items()}

    # Verification reads every organization's grants.
    assert ids == {ours["id"]: ours["id"], theirs["id"]: theirs["id"]}
    assert tokens == {ours["id"]: ours["token_sha256"], theirs["id"]: theirs["token_sha256"]}
    assert unused["id"] not in ids


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param([], id="none"),
        pytest.param([{"grant_id": "not-a-uuid"}, {}, {"grant_id": 5}], id="no-uuids"),
        pytest.param([{"grant_id": GID}], id="unknown"),
    ],
)
def test_cited_grants_without_known_ids(
    app: Flask, studio: Studio, claims: list[dict[str, Any]]
) -> None:
    studio.grant()

    with state_of(app).database.session_scope() as session:
        assert cited_grants(session, claims) == {}
