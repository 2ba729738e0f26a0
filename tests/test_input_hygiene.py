"""Text with control characters is refused with a 422 problem before it reaches a table.

PostgreSQL answered NUL in a name, a reason, a query parameter or a client_id with a 500;
SQLite stored it. Every refusal here writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from registry.errors import ValidationFailed
from registry.hygiene import refuse_control_characters
from tests.factories import Studio, assert_problem, grant_body

Counts = Callable[[], dict[str, int]]


@pytest.mark.parametrize(
    "text",
    ["Ada\x00", "\x01", "a\x08b", "a\x0bb", "a\x0cb", "\x1f", "\x7f", "\x80", "\x9f", "\ud800"],
    ids=["NUL", "SOH", "BS", "VT", "FF", "US", "DEL", "C1-first", "C1-last", "lone-surrogate"],
)
def test_control_characters_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        refuse_control_characters({"outer": [{"inner": text}]}, "body")
    assert refused.value.extensions["errors"][0]["loc"] == "body.outer.0.inner"


@pytest.mark.parametrize(
    "text", ["tab\there", "line\nfeed", "carriage\rreturn", "no\u00a0break", "émigré ✓", ""]
)
def test_ordinary_text_passes(text: str) -> None:
    refuse_control_characters({"a": text, "b": [text], text: 1}, "body")


def test_a_control_character_in_a_key_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        refuse_control_characters({"ok": {"k\x00": 1}}, "body")


def test_nul_in_a_subjects_name_is_a_422(studio: Studio, counts: Counts) -> None:
    before = counts()

    response = studio.post("/v1/subjects", json={"display_name": "Ada\x00Example"})

    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["loc"] == "body.display_name"
    assert counts() == before


def test_a_lone_surrogate_in_a_grant_is_a_422(studio: Studio, counts: Counts) -> None:
    subject = studio.subject()
    terms = grant_body(subject["id"])
    terms["purposes"][0]["description"] = "Radio spots for the spring campaign \ud800 2027"
    before = counts()

    response = studio.client.post(
        "/v1/grants",
        data=_json_with_surrogates(terms),
        headers={**studio.headers, "Content-Type": "application/json"},
    )

    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["loc"] == "body.purposes.0.description"
    assert counts() == before


def test_nul_in_a_revocation_reason_is_a_422(studio: Studio, counts: Counts) -> None:
    grant = studio.grant()
    before = counts()

    response = studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "no\x00"})

    assert_problem(response, 422, "validation-error")
    assert counts() == before
    assert studio.get(f"/v1/grants/{grant['id']}").json["status"] == "active"


def test_nul_in_a_query_parameter_is_a_422(studio: Studio) -> None:
    response = studio.get("/v1/grants", query_string={"subject_id": "a\x00b"})

    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["loc"] == "query.subject_id"


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_nul_in_client_id_on_the_token_endpoint_is_a_422(
    client: FlaskClient, counts: Counts, as_json: bool
) -> None:
    form = {"grant_type": "client_credentials", "client_id": "crc\x00", "client_secret": "x"}
    before = counts()

    response = client.post("/v1/auth/token", **({"json": form} if as_json else {"data": form}))

    assert_problem(response, 422, "validation-error")
    assert counts() == before


def _json_with_surrogates(document: Any) -> bytes:
    import json

    return json.dumps(document).encode()  # ensure_ascii writes the lone surrogate as \ud800
