"""The request transaction: every successful response commits, every failure rolls back.

The routes here are plain Flask views without ``@operation``: the boundary must hold for any
route, including one that forgets to declare itself.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.auth.models import ApiClient, Organization
from registry.db import get_session
from registry.errors import ValidationFailed
from tests.factories import assert_problem


def _add_route(app: Flask, view: Callable[[], tuple[str, int]]) -> None:
    app.add_url_rule("/test/write", view_func=view, methods=["POST"])


Counts = Callable[[], dict[str, int]]


def _organizations(counts: Counts) -> int:
    return counts()["organizations"]


@pytest.mark.parametrize("status", [200, 201, 204, 302, 399])
def test_a_successful_response_commits_what_the_route_wrote(
    app: Flask, client: FlaskClient, counts: Counts, status: int
) -> None:
    def write() -> tuple[str, int]:
        get_session().add(Organization(name="Written by a plain route"))
        return "", status

    _add_route(app, write)
    before = _organizations(counts)

    assert client.post("/test/write").status_code == status
    assert _organizations(counts) == before + 1


@pytest.mark.parametrize("status", [400, 404, 409, 422, 500, 503])
def test_an_error_response_rolls_back_what_the_route_wrote(
    app: Flask, client: FlaskClient, counts: Counts, status: int
) -> None:
    def write() -> tuple[str, int]:
        session = get_session()
        session.add(Organization(name="Written, then refused"))
        session.flush()
        return "", status

    _add_route(app, write)
    before = _organizations(counts)

    assert client.post("/test/write").status_code == status
    assert _organizations(counts) == before


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        pytest.param(
            ValidationFailed("refused after writing"), 422, "validation-error", id="refusal"
        ),
        pytest.param(RuntimeError("a bug"), 500, "internal-error", id="unexpected"),
    ],
)
def test_an_error_raised_after_a_write_leaves_nothing(
    app: Flask, client: FlaskClient, counts: Counts, error: Exception, status: int, slug: str
) -> None:
    def write() -> tuple[str, int]:
        session = get_session()
        session.add(Organization(name="Written, then failed"))
        session.flush()
        raise error

    _add_route(app, write)
    before = _organizations(counts)

    assert_problem(client.post("/test/write"), status, slug)
    assert _organizations(counts) == before


def test_a_conflict_found_at_commit_is_a_409_problem_and_writes_nothing(
    app: Flask, client: FlaskClient, counts: Counts
) -> None:
    def write() -> tuple[str, int]:
        session = get_session()
        org = Organization(name="Two clients, one client_id")
        session.add(org)
        session.flush()
        # Not flushed: the duplicate client_id only fails when the response commits.
        for _ in range(2):
            session.add(
                ApiClient(
                    client_id="crc_twice", secret_hash="0" * 64, org_id=org.id, scopes="verify"
                )
            )
        return "", 201

    _add_route(app, write)
    before = _organizations(counts)

    assert_problem(client.post("/test/write"), 409, "conflict")
    assert _organizations(counts) == before


def test_a_route_that_only_reads_commits_nothing_and_answers(
    app: Flask, client: FlaskClient, counts: Counts
) -> None:
    def read() -> tuple[str, int]:
        get_session().get(Organization, "01a1fdcc-5e63-7ad6-a8b4-2859c03b1561")
        return "", 200

    _add_route(app, read)
    before = counts()

    assert client.post("/test/write").status_code == 200
    assert counts() == before
