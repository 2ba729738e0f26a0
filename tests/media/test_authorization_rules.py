"""Authorization before signing (``media.authorization.authorize_uses``) as tables.

The grants are issued through the API; their lifecycle columns are then set directly, and
``authorize_uses`` is called in a session of its own, so each row is one refusal (or not) of
one use at one moment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm.attributes import set_committed_value

from registry.consent.models import ConsentGrant
from registry.media import errors
from registry.media.authorization import AuthorizedUse, authorize_uses
from registry.media.schemas import GrantUse
from registry.state import state_of
from tests.factories import Studio

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2031, 1, 1, tzinfo=UTC)
NOW = datetime(2028, 6, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
UNKNOWN = "0190a8f2-6b1e-7c3d-9e4f-5a6b7c8d9e0f"


@pytest.fixture
def storage_backend() -> str:
    """Authorization stores nothing: the local backend is enough (no S3 server)."""
    return "local"


def issue(studio: Studio, **terms: Any) -> str:
    """A grant of voice in audio, for NW-2027-COFFEE advertising, in the US and Canada."""
    terms.setdefault("valid_from", "2026-01-01T00:00:00Z")
    terms.setdefault("valid_until", "2031-01-01T00:00:00Z")
    return str(studio.grant(**terms)["id"])


def set_lifecycle(app: Flask, grant_id: str, **columns: Any) -> None:
    with state_of(app).database.session_scope() as session:
        grant = session.get(ConsentGrant, grant_id)
        assert grant is not None
        for name, value in columns.items():
            setattr(grant, name, value)


def use(grant_id: str, **overrides: Any) -> GrantUse:
    fields: dict[str, Any] = {
        "grant_id": grant_id,
        "modalities": ["voice"],
        "purpose": "advertising",
        "territory": "US",
    }
    fields.update(overrides)
    return GrantUse(**fields)


def authorize(
    app: Flask,
    studio: Studio,
    uses: list[GrantUse],
    *,
    media_kind: str = "audio",
    now: datetime = NOW,
    lock: bool = False,
) -> list[tuple[str, GrantUse]]:
    with state_of(app).database.session_scope() as session:
        authorized = authorize_uses(
            session, org_id=studio.org_id, uses=uses, media_kind=media_kind, now=now, lock=lock
        )
        return [(a.grant.id, a.use) for a in authorized]


def refusal(app: Flask, studio: Studio, uses: list[GrantUse], **kwargs: Any) -> Any:
    with pytest.raises(errors.GrantUseRefused) as refused:
        authorize(app, studio, uses, **kwargs)
    return refused.value


# Allowed ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "wanted", "media_kind", "now"),
    [
        pytest.param({}, {}, "audio", NOW, id="inside"),
        pytest.param({}, {"purpose": "NW-2027-COFFEE"}, "audio", NOW, id="by-project-ref"),
        pytest.param({}, {"territory": "CA"}, "audio", NOW, id="second-territory"),
        pytest.param({"territories": ["*"]}, {"territory": "JP"}, "audio", NOW, id="worldwide"),
        pytest.param(
            {"modalities": ["voice", "likeness"], "media_types": ["audio", "video"]},
            {"modalities": ["likeness", "voice"]},
            "video",
            NOW,
            id="two-modalities-video",
        ),
        pytest.param({}, {}, "audio", START, id="at-valid-from"),
        pytest.param({}, {}, "audio", END - SECOND, id="last-second"),
    ],
)
def test_a_use_the_grant_covers_is_authorized(
    app: Flask,
    studio: Studio,
    terms: dict[str, Any],
    wanted: dict[str, Any],
    media_kind: str,
    now: datetime,
) -> None:
    grant_id = issue(studio, **terms)
    cited = use(grant_id, **wanted)

    assert authorize(app, studio, [cited], media_kind=media_kind, now=now) == [(grant_id, cited)]


def test_every_cited_grant_is_authorized_in_order(app: Flask, studio: Studio) -> None:
    first, second = issue(studio), issue(studio, territories=["*"])
    uses = [use(second, territory="FR"), use(first), use(second)]

    assert authorize(app, studio, uses) == [(second, uses[0]), (first, uses[1]), (second, uses[2])]


def test_an_authorized_use_holds_the_grant_and_the_use(app: Flask, studio: Studio) -> None:
    grant_id = issue(studio)
    cited = use(grant_id)
    with state_of(app).database.session_scope() as session:
        [authorized] = authorize_uses(
            session, org_id=studio.org_id, uses=[cited], media_kind="audio", now=NOW
        )
        assert isinstance(authorized, AuthorizedUse)
        assert isinstance(authorized.grant, ConsentGrant)
        assert (authorized.grant.id, authorized.use) == (grant_id, cited)


def test_no_uses_authorize_nothing(app: Flask, studio: Studio) -> None:
    assert authorize(app, studio, []) == []


# Refused: the grant's status --------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifecycle", "now", "error", "detail"),
    [
        pytest.param(
            {"status": "revoked", "revoked_at": START + SECOND},
            NOW,
            errors.GrantRevoked,
            "grant {id} was revoked",
            id="revoked",
        ),
        pytest.param(
            {"status": "revoked", "revoked_at": START + SECOND},
            END + SECOND,
            errors.GrantRevoked,
            "grant {id} was revoked",
            id="revoked-beats-expired",
        ),
        pytest.param(
            {"status": "revoked", "revoked_at": START - SECOND},
            START - SECOND,
            errors.GrantRevoked,
            "grant {id} was revoked",
            id="revoked-beats-not-yet-valid",
        ),
        pytest.param(
            {"status": "suspended", "status_changed_at": NOW - SECOND},
            NOW,
            errors.GrantSuspended,
            "grant {id} is suspended",
            id="suspended",
        ),
        pytest.param(
            {"status": "suspended"},
            END,
            errors.GrantSuspended,
            "grant {id} is suspended",
            id="suspended-beats-expired",
        ),
        pytest.param(
            {},
            END,
            errors.GrantExpired,
            "grant {id} expired at 2031-01-01 00:00:00+00:00",
            id="expired-at-valid-until",
        ),
        pytest.param(
            {},
            END + timedelta(days=300),
            errors.GrantExpired,
            "grant {id} expired at 2031-01-01 00:00:00+00:00",
            id="expired-long-ago",
        ),
        pytest.param(
            {},
            START - SECOND,
            errors.GrantNotYetValid,
            "grant {id} is valid from 2026-01-01 00:00:00+00:00",
            id="not-yet-valid",
        ),
    ],
)
def test_a_grant_not_in_force_is_refused_with_its_status(
    app: Flask,
    studio: Studio,
    lifecycle: dict[str, Any],
    now: datetime,
    error: type[errors.GrantUseRefused],
    detail: str,
) -> None:
    grant_id = issue(studio)
    set_lifecycle(app, grant_id, **lifecycle)

    refused = refusal(app, studio, [use(grant_id)], now=now)

    assert type(refused) is error
    assert refused.detail == detail.format(id=grant_id)
    assert refused.extensions == {"grant_id": grant_id, "reason": error.slug}


def test_a_superseded_grant_names_its_successor(app: Flask, studio: Studio) -> None:
    old, new = issue(studio), issue(studio)
    set_lifecycle(app, old, status="superseded", superseded_by=new, status_changed_at=NOW)

    refused = refusal(app, studio, [use(old)], now=NOW + SECOND)

    assert type(refused) is errors.GrantSuperseded
    assert refused.detail == f"grant {old} was superseded by {new}; cite the new version"
    assert refused.extensions == {
        "grant_id": old,
        "reason": "grant-superseded",
        "superseded_by": new,
    }


def test_the_status_is_checked_before_the_scope(app: Flask, studio: Studio) -> None:
    grant_id = issue(studio)
    set_lifecycle(app, grant_id, status="suspended")

    refused = refusal(app, studio, [use(grant_id, modalities=["face"])], media_kind="image")

    assert type(refused) is errors.GrantSuspended


# Refused: the use is outside the grant ----------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "wanted", "media_kind", "scope", "gap"),
    [
        pytest.param(
            {},
            {"modalities": ["voice", "face"]},
            "audio",
            "modality",
            "modalities face are not granted",
            id="modality",
        ),
        pytest.param(
            {"operations": ["alter"]},
            {},
            "audio",
            "operation",
            "the grant does not allow the operation generate",
            id="operation",
        ),
        pytest.param(
            {},
            {"purpose": "film"},
            "audio",
            "purpose",
            "purpose 'film' is not one of the grant's purposes",
            id="purpose",
        ),
        pytest.param(
            {},
            {"purpose": "Radio spots for the Northwind spring 2027 coffee campaign"},
            "audio",
            "purpose",
            "purpose 'Radio spots for the Northwind spring 2027 coffee campaign' is not one of "
            "the grant's purposes",
            id="description-is-not-a-purpose",
        ),
        pytest.param(
            {},
            {"territory": "FR"},
            "audio",
            "territory",
            "territory FR is not granted",
            id="territory",
        ),
        pytest.param({}, {}, "image", "media_type", "image media is not granted", id="media-type"),
    ],
)
def test_a_use_outside_the_grant_is_refused_with_the_reason(
    app: Flask,
    studio: Studio,
    terms: dict[str, Any],
    wanted: dict[str, Any],
    media_kind: str,
    scope: str,
    gap: str,
) -> None:
    grant_id = issue(studio, **terms)

    refused = refusal(app, studio, [use(grant_id, **wanted)], media_kind=media_kind)

    assert type(refused) is errors.GrantOutOfScope
    assert refused.detail == f"grant {grant_id}: {gap}"
    assert refused.extensions == {
        "grant_id": grant_id,
        "reason": "grant-out-of-scope",
        "scope": scope,
    }


# Refused: a grant this organization cannot cite ------------------------------------------


@pytest.mark.parametrize(
    "cited",
    [
        pytest.param("theirs", id="another-organizations-grant"),
        pytest.param(UNKNOWN, id="unknown-uuid"),
        pytest.param("grant-1", id="not-a-uuid"),
        pytest.param("' OR 1=1 --", id="sql-like"),
    ],
)
def test_a_grant_the_organization_does_not_hold_is_not_found(
    app: Flask, studio: Studio, other_studio: Studio, cited: str
) -> None:
    issue(studio)
    grant_id = issue(other_studio) if cited == "theirs" else cited

    refused = refusal(app, studio, [use(grant_id)])

    assert type(refused) is errors.CitedGrantNotFound
    assert refused.detail == f"grant {grant_id} does not exist for this organization"
    assert refused.extensions == {"grant_id": grant_id, "reason": "grant-not-found"}


def test_the_first_refused_use_refuses_the_request(app: Flask, studio: Studio) -> None:
    good, revoked = issue(studio), issue(studio)
    set_lifecycle(app, revoked, status="revoked", revoked_at=START)

    refused = refusal(app, studio, [use(good), use(UNKNOWN), use(revoked)])

    assert type(refused) is errors.CitedGrantNotFound
    assert refused.extensions["grant_id"] == UNKNOWN


# lock -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lock", "refused"), [(False, True), (True, False)])
def test_a_locked_authorization_reads_the_grant_afresh(
    app: Flask, studio: Studio, lock: bool, refused: bool
) -> None:
    grant_id = issue(studio)
    with state_of(app).database.session_scope() as session:
        cached = session.get(ConsentGrant, grant_id)
        # What the session holds is stale: the row in the database is active.
        set_committed_value(cached, "status", "revoked")

        def run() -> list[AuthorizedUse]:
            return authorize_uses(
                session,
                org_id=studio.org_id,
                uses=[use(grant_id)],
                media_kind="audio",
                now=NOW,
                lock=lock,
            )

        if refused:
            with pytest.raises(errors.GrantRevoked):
                run()
        else:
            assert [a.grant.status for a in run()] == ["active"]


def test_authorization_reads_the_sessions_grant_unless_asked_to_lock(
    app: Flask, studio: Studio
) -> None:
    grant_id = issue(studio)
    with state_of(app).database.session_scope() as session:
        cached = session.get(ConsentGrant, grant_id)
        set_committed_value(cached, "status", "suspended")

        with pytest.raises(errors.GrantSuspended):
            authorize_uses(
                session, org_id=studio.org_id, uses=[use(grant_id)], media_kind="audio", now=NOW
            )


@pytest.mark.parametrize("lock", [False, True])
def test_a_locked_authorization_holds_a_shared_row_lock_on_postgresql(
    app: Flask, studio: Studio, lock: bool
) -> None:
    grant_id = issue(studio)
    database = state_of(app).database
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(database.engine, "before_cursor_execute", seen)
    try:
        authorize(app, studio, [use(grant_id)], lock=lock)
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", seen)

    reads = [s for s in statements if "FROM consent_grants" in s]
    shared = lock and database.engine.dialect.name == "postgresql"
    # SQLite has no row locks: its write transaction holds the whole database.
    assert [s.rstrip().endswith(" FOR SHARE") for s in reads] == [shared]
    assert all(" FOR UPDATE" not in s for s in reads)


def test_an_id_that_is_not_a_uuid_is_not_looked_up(app: Flask, studio: Studio) -> None:
    database = state_of(app).database
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(database.engine, "before_cursor_execute", seen)
    try:
        refused = refusal(app, studio, [use("grant-1")])
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", seen)

    assert type(refused) is errors.CitedGrantNotFound
    assert [s for s in statements if "consent_grants" in s] == []
