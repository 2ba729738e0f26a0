"""Consent tokens name an entry of a published status list that follows the grant's lifecycle."""

from __future__ import annotations

import time

import jwt
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from registry.consent.tokens import token_claims
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio, assert_problem, grant_body
from tests.statuslist.helpers import list_claims, served_status, token_reference

VALID, INVALID, SUSPENDED = 0, 1, 2


@pytest.fixture
def small_lists(settings: Settings) -> Settings:
    """Lists of 8 entries (4 grants each) so that tests can fill them."""
    settings.status_list_size = 8
    return settings


def test_a_new_token_names_a_list_entry_and_the_list_is_signed_and_public(
    studio: Studio, client: FlaskClient
) -> None:
    grant = studio.grant()
    reference = token_reference(client, grant["token"])
    assert set(reference) == {"idx", "uri"}
    assert reference["uri"] == "http://registry.test/v1/status-lists/1"
    assert 0 <= reference["idx"] < 1 << 20

    response = client.get("/v1/status-lists/1")  # no credentials
    assert response.status_code == 200
    assert response.mimetype == "application/statuslist+jwt"
    assert response.headers["Cache-Control"] == "public, no-cache"
    assert response.headers["ETag"].startswith('W/"1-')
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    claims = list_claims(client, response.get_data(as_text=True))
    assert claims["sub"] == reference["uri"]
    assert claims["iss"] == "http://registry.test"
    assert claims["status_list"]["bits"] == 2
    assert claims["ttl"] == 300
    assert claims["exp"] - claims["iat"] == 86400
    assert abs(claims["iat"] - time.time()) < 60
    assert served_status(client, reference) == VALID
    # Only indices and statuses: nothing about the grant, its subject or organization.
    text = str(claims)
    for private in (grant["id"], grant["subject_id"], studio.org_id, "Ada Example"):
        assert private not in text


def test_revoke_shows_in_the_next_list_served(studio: Studio, client: FlaskClient) -> None:
    grant = studio.grant()
    reference = token_reference(client, grant["token"])
    assert served_status(client, reference) == VALID

    revoked = studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    assert revoked.status_code == 200

    assert served_status(client, reference) == INVALID


def test_suspend_and_resume_flip_the_entry_back_and_forth(
    studio: Studio, client: FlaskClient
) -> None:
    grant = studio.grant()
    reference = token_reference(client, grant["token"])
    for verb, expected in (
        ("suspend", SUSPENDED),
        ("resume", VALID),
        ("suspend", SUSPENDED),
        ("revoke", INVALID),
    ):
        response = studio.post(f"/v1/grants/{grant['id']}/{verb}", json={"reason": "dispute"})
        assert response.status_code == 200, response.json
        assert served_status(client, reference) == expected, verb


def test_supersede_invalidates_the_old_token_and_the_new_one_gets_its_own_entry(
    studio: Studio, client: FlaskClient
) -> None:
    old = studio.grant()
    body = {**grant_body(old["subject_id"]), "reason": "new territory"}
    body.pop("subject_id")
    new = studio.post(f"/v1/grants/{old['id']}/supersede", json=body)
    assert new.status_code == 201, new.json
    old_ref = token_reference(client, old["token"])
    new_ref = token_reference(client, new.json["token"])
    assert (old_ref["uri"], old_ref["idx"]) != (new_ref["uri"], new_ref["idx"])
    assert served_status(client, old_ref) == INVALID
    assert served_status(client, new_ref) == VALID


def test_a_grant_issued_already_ended_starts_invalid(studio: Studio, client: FlaskClient) -> None:
    grant = studio.grant(valid_from="2020-01-01T00:00:00Z", valid_until="2021-01-01T00:00:00Z")
    assert served_status(client, token_reference(client, grant["token"])) == INVALID


def test_if_none_match_answers_304_until_the_list_changes(
    studio: Studio, client: FlaskClient
) -> None:
    grant = studio.grant()
    first = client.get("/v1/status-lists/1")
    etag = first.headers["ETag"]

    again = client.get("/v1/status-lists/1", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, no-cache"
    assert client.get("/v1/status-lists/1", headers={"If-None-Match": "*"}).status_code == 304
    strong = etag.removeprefix("W/")  # If-None-Match compares weakly (RFC 9110 13.1.2)
    assert client.get("/v1/status-lists/1", headers={"If-None-Match": strong}).status_code == 304
    other = client.get("/v1/status-lists/1", headers={"If-None-Match": 'W/"1-0-0"'})
    assert other.status_code == 200

    studio.post(f"/v1/grants/{grant['id']}/suspend", json={"reason": "dispute"})
    changed = client.get("/v1/status-lists/1", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert (
        client.get(
            "/v1/status-lists/1", headers={"If-None-Match": changed.headers["ETag"]}
        ).status_code
        == 304
    )


def test_an_unknown_list_is_a_404_problem(studio: Studio, client: FlaskClient) -> None:
    studio.grant()
    for list_id in ("2", "0", "01", "abc", "1e3", "-1", "\u0661", "9" * 10):
        assert_problem(client.get(f"/v1/status-lists/{list_id}"), 404, "status-list-not-found")


def test_a_full_list_is_followed_by_a_new_one_with_unique_random_indices(
    small_lists: Settings, studio: Studio, client: FlaskClient, app: Flask
) -> None:
    subject = studio.subject()["id"]
    references = [token_reference(client, studio.grant(subject)["token"]) for _ in range(9)]
    uris = [r["uri"].rsplit("/", 1)[1] for r in references]
    assert uris == ["1"] * 4 + ["2"] * 4 + ["3"]  # half of 8 entries per list
    pairs = {(r["uri"], r["idx"]) for r in references}
    assert len(pairs) == 9
    assert all(0 <= r["idx"] < 8 for r in references)
    for reference in references:
        assert served_status(client, reference) == VALID
    with state_of(app).database.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT id, size, allocated FROM status_lists ORDER BY id")
        ).all()
    assert [tuple(row) for row in rows] == [(1, 8, 4), (2, 8, 4), (3, 8, 1)]


def test_indices_are_drawn_at_random(
    small_lists: Settings, studio: Studio, client: FlaskClient
) -> None:
    # 40 lists of 4 grants among 8 slots: in-order allocation would give 0-3 every time.
    subject = studio.subject()["id"]
    indices = {token_reference(client, studio.grant(subject)["token"])["idx"] for _ in range(40)}
    assert len(indices) > 4  # P(all 40 in the first four slots) is below 10^-10


def test_refused_issue_and_transition_write_no_entry_and_move_no_version(
    studio: Studio, other_studio: Studio, client: FlaskClient, counts
) -> None:
    grant = studio.grant()
    etag = client.get("/v1/status-lists/1").headers["ETag"]
    before = counts()

    bad_period = studio.post(
        "/v1/grants", json=grant_body(grant["subject_id"], valid_until="2000-01-01T00:00:00Z")
    )
    assert_problem(bad_period, 422, "grant-invalid-period")
    resume_active = studio.post(f"/v1/grants/{grant['id']}/resume", json={"reason": "x"})
    assert_problem(resume_active, 409, "grant-invalid-transition")
    foreign = other_studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "x"})
    assert_problem(foreign, 404, "grant-not-found")

    assert counts() == before
    same = client.get("/v1/status-lists/1", headers={"If-None-Match": etag})
    assert same.status_code == 304


def test_a_token_from_before_status_lists_still_verifies_and_its_grant_still_changes(
    studio: Studio, client: FlaskClient, app: Flask
) -> None:
    """Grants issued before migration 0006 have a token without ``status`` and no entry."""
    grant = studio.grant()
    state = state_of(app)
    with state.database.session_scope() as session:
        from registry.consent.models import ConsentGrant, Subject

        row = session.get(ConsentGrant, grant["id"])
        assert row is not None
        subject = session.get(Subject, row.subject_id)
        assert subject is not None
        key = state.keyring.active
        claims = token_claims(row, issuer="http://registry.test", pseudonym=subject.pseudonymous_id)
        old_token = jwt.encode(
            claims,
            key.private_key,
            algorithm="ES256",
            headers={"kid": key.kid, "typ": "consent+jwt"},
        )
        session.execute(sa.text("DELETE FROM status_list_entries"))
        row.token = old_token
    assert "status" not in jwt.decode(old_token, options={"verify_signature": False})
    etag = client.get("/v1/status-lists/1").headers["ETag"]

    revoked = studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    assert revoked.status_code == 200
    assert studio.get(f"/v1/grants/{grant['id']}/status").json["status"] == "revoked"
    assert client.get("/v1/status-lists/1", headers={"If-None-Match": etag}).status_code == 304


def test_concurrent_issues_get_unique_entries_across_growing_lists(
    small_lists: Settings, studio: Studio, live_server: str, client: FlaskClient
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    subject = studio.subject()["id"]

    def issue(_: int) -> str:
        response = httpx.post(
            f"{live_server}/v1/grants", json=grant_body(subject), headers=studio.headers, timeout=60
        )
        assert response.status_code == 201, response.text
        return str(response.json()["token"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        tokens = list(pool.map(issue, range(18)))
    references = [token_reference(client, token) for token in tokens]
    pairs = {(r["uri"], r["idx"]) for r in references}
    assert len(pairs) == 18
    per_list: dict[str, int] = {}
    for reference in references:
        per_list[reference["uri"]] = per_list.get(reference["uri"], 0) + 1
    assert sorted(per_list.values()) == [2, 4, 4, 4, 4]
    assert all(served_status(client, r) == VALID for r in references)
