"""The rules the portal adds to shared modules, as tables: verification's findings for a
pending or declined grant, the status-list value, the plain words, the declarations."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from registry.consent.declarations import check_new_grant, refuses_signing
from registry.consent.errors import SubjectDeclaredDoNotSynthesize, SubjectDeclaredDoNotTrain
from registry.consent.models import ConsentGrant, Subject
from registry.consent.schemas import GrantTerms
from registry.consent.scope import status_at
from registry.consent.status_entries import list_value
from registry.portal import plain_words
from registry.statuslist.codec import INVALID, SUSPENDED
from registry.verification.consent_checks import consent_check, grant_finding
from tests.factories import grant_body

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2027, 11, 30, 23, 59, 59, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
GID = "01a00000-0000-7000-8000-000000000001"
AD = {"category": "advertising", "description": "Radio spots for the coffee campaign 2027"}


def grant(**overrides: object) -> ConsentGrant:
    fields: dict[str, object] = {
        "id": GID,
        "modalities": ["voice"],
        "operations": ["generate"],
        "purposes": [AD],
        "media_types": ["audio"],
        "territories": ["ES", "US"],
        "valid_from": START,
        "valid_until": END,
        "status": "active",
        "token_sha256": "t" * 64,
        "compensation": {"model": "flat_fee"},
    }
    fields.update(overrides)
    return ConsentGrant(**fields)


CLAIM = {
    "grant_id": GID,
    "sha256": "t" * 64,
    "modalities": ["voice"],
    "purpose": "advertising",
    "territory": "US",
}


@pytest.mark.parametrize(
    ("status", "code", "check"),
    [
        ("active", None, "pass"),
        ("pending_confirmation", "consent.pending_confirmation", "fail"),
        ("declined", "consent.declined", "fail"),
    ],
)
def test_verification_never_passes_a_grant_the_person_has_not_confirmed_or_declined(
    status: str, code: str | None, check: str
) -> None:
    finding = grant_finding(
        CLAIM,
        grants={GID: grant(status=status)},
        media_kind="audio",
        now=NOW,
        signed_at=None,
        asset=None,
    )
    assert finding.code == code
    assert consent_check([finding], claimed=True, ai_generated=True).status == check


def test_a_revoked_grant_outranks_a_pending_one() -> None:
    found = [
        grant_finding(
            CLAIM,
            grants={GID: grant(status=s)},
            media_kind="audio",
            now=NOW,
            signed_at=None,
            asset=None,
        )
        for s in ("pending_confirmation", "revoked", "declined")
    ]
    assert consent_check(found, claimed=True, ai_generated=True).code == "consent.revoked"


@pytest.mark.parametrize(
    ("status", "value"),
    [("pending_confirmation", SUSPENDED), ("declined", INVALID)],
)
def test_status_list_values(status: str, value: int) -> None:
    assert list_value(grant(status=status), NOW) == value


@pytest.mark.parametrize("status", ["pending_confirmation", "declined"])
def test_a_grant_never_confirmed_covered_no_moment(status: str) -> None:
    assert status_at(grant(status=status), NOW) == status


def test_plain_words() -> None:
    assert plain_words.sentence(grant()) == (
        "your voice, for advertising, in Spain and the US, until 30 Nov 2027, paid a flat fee"
    )
    assert (
        plain_words.sentence(
            grant(modalities=["likeness", "voice"], territories=["*"], compensation=None)
        )
        == "your likeness and your voice, for advertising, worldwide, until 30 Nov 2027, "
        "with no payment recorded"
    )
    assert plain_words.join(["a", "b", "c"]) == "a, b and c"
    # A guardian holding the account reads whose voice it is.
    child = Subject(display_name="Sam Example", org_id="o", pseudonymous_id="p")
    by_guardian = grant(granted_by={"role": "guardian", "name": "Pat Example"})
    assert plain_words.sentence(by_guardian, child).startswith("Sam Example's voice, for")
    assert (
        plain_words.sentence(grant(granted_by={"role": "subject", "name": "Sam"}), child)[:10]
        == "your voice"
    )


def terms(**overrides: object) -> GrantTerms:
    body = grant_body("s", **overrides)
    body.pop("subject_id")
    return GrantTerms.model_validate_json(json.dumps(body))


@pytest.mark.parametrize(
    ("declared", "operations", "error"),
    [
        (set(), ["generate", "train"], None),
        ({"do_not_train"}, ["generate"], None),
        ({"do_not_train"}, ["generate", "fine_tune"], SubjectDeclaredDoNotTrain),
        ({"do_not_synthesize"}, ["generate"], SubjectDeclaredDoNotSynthesize),
        ({"do_not_train", "do_not_synthesize"}, ["train"], SubjectDeclaredDoNotSynthesize),
    ],
)
def test_declarations_refuse_new_grants(
    declared: set[str], operations: list[str], error: type[Exception] | None
) -> None:
    proposed = terms(operations=operations, training="allowed")
    if error is None:
        check_new_grant(declared, proposed)
    else:
        with pytest.raises(error):
            check_new_grant(declared, proposed)


@pytest.mark.parametrize(
    ("declared", "confirmed", "refused"),
    [
        ({"do_not_synthesize"}, None, True),
        ({"do_not_synthesize"}, START, False),
        ({"do_not_train"}, None, False),
        (set(), None, False),
    ],
)
def test_declarations_refuse_signing(
    declared: set[str], confirmed: datetime | None, refused: bool
) -> None:
    assert refuses_signing(declared, grant(confirmed_at=confirmed)) is refused
