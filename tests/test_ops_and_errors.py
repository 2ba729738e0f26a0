"""Operations endpoints and the problem+json rendering of every kind of error."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from registry import create_app
from registry.keys.keyring import init_keys
from registry.settings import Settings
from registry.state import state_of
from tests import factories
from tests.factories import Studio

Counts = Callable[[], dict[str, int]]
UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def assert_problem(response: TestResponse, status: int, slug: str) -> dict[str, Any]:
    """As everywhere, and title and detail are strings."""
    body = factories.assert_problem(response, status, slug)
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    return body


def test_healthz_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_answers_ready_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json == {"status": "ready"}


@pytest.fixture
def app_without_database(tmp_path: Path) -> Iterator[Flask]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=UNREACHABLE_POSTGRES,
        _env_file=None,  # type: ignore[call-arg]
    )
    init_keys(settings.keys_dir)  # type: ignore[arg-type]
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    state_of(app).database.dispose()


def test_readyz_is_a_503_problem_when_the_database_is_unreachable(
    app_without_database: Flask,
) -> None:
    response = app_without_database.test_client().get("/readyz")

    assert_problem(response, 503, "service-unavailable")


def test_grant_status_is_a_503_problem_when_the_database_is_unreachable(
    app_without_database: Flask,
) -> None:
    # The public status read has its own connections (registry.db.ReadConnections).
    response = app_without_database.test_client().get(
        "/v1/grants/0190a5c4-8f5e-7a3b-9c1d-2e3f4a5b6c7d/status"
    )

    assert_problem(response, 503, "service-unavailable")


def test_healthz_stays_up_when_the_database_is_unreachable(app_without_database: Flask) -> None:
    # Liveness must not depend on the database, or an outage restarts every worker.
    assert app_without_database.test_client().get("/healthz").status_code == 200


def test_unknown_path_is_a_404_problem(client: FlaskClient) -> None:
    response = client.get("/v1/no-such-thing")

    body = assert_problem(response, 404, "not-found")
    assert body["instance"] == "/v1/no-such-thing"


def test_wrong_method_is_a_405_problem_with_allow_header(client: FlaskClient) -> None:
    response = client.delete("/v1/subjects")

    assert_problem(response, 405, "method-not-allowed")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "DELETE" not in allowed


@pytest.fixture
def failing_route(app: Flask) -> str:
    """A route that fails the way a bug would (registered before the app serves anything)."""

    def explode() -> str:
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/test-only/explode", "test_only_explode", explode)
    return "/test-only/explode"


def test_unexpected_exception_is_a_500_problem_without_internals(
    failing_route: str, client: FlaskClient
) -> None:
    response = client.get(failing_route)

    assert_problem(response, 500, "internal-error")
    text = response.get_data(as_text=True)
    assert "secret internals" not in text
    assert "hunter2" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text


def test_unexpected_exception_is_logged(
    failing_route: str, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    client.get(failing_route)

    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(logged) == 1
    assert "GET /test-only/explode" in logged[0]
    assert "RuntimeError: secret internals" in logged[0]  # our own errors keep their message
    assert "in explode" in logged[0]  # and their traceback


@pytest.fixture
def leaking_database_route(app: Flask) -> str:
    """A route whose database error quotes a person's name: PostgreSQL's DETAIL line shows the
    duplicate key's value, and on both backends the statement text carries it."""
    from registry.db import get_session

    name = "Ada " + "Secret" + "name"  # spelled apart: the traceback quotes this source line

    def duplicate() -> str:
        session = get_session()
        session.execute(sa.text("CREATE TEMPORARY TABLE leak_probe (name text UNIQUE)"))
        for _ in range(2):
            session.execute(sa.text(f"INSERT INTO leak_probe VALUES ('{name}')"))  # noqa: S608
        return "unreachable"

    app.add_url_rule("/test-only/duplicate", "test_only_duplicate", duplicate)
    return "/test-only/duplicate"


def test_a_database_error_is_logged_without_the_values_it_quotes(
    leaking_database_route: str, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.get(leaking_database_route)

    assert_problem(response, 500, "internal-error")
    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(logged) == 1
    assert "Secretname" not in logged[0]
    assert not any(r.exc_info for r in caplog.records)  # no handler prints the raw message
    # What the operator needs is still there: the error class, its SQLSTATE, where it happened.
    assert "IntegrityError" in logged[0]
    assert "in duplicate" in logged[0]
    on_postgresql = state_of(client.application).settings.database_url.startswith("postgres")
    code = "SQLSTATE 23505" if on_postgresql else "SQLite SQLITE_CONSTRAINT_UNIQUE"
    assert f"IntegrityError ({code})" in logged[0]


def test_json_body_over_the_limit_is_a_413_problem_and_writes_nothing(
    studio: Studio, settings: Settings, counts: Counts
) -> None:
    before = counts()
    body = {"display_name": "Ada", "external_ref": "x" * (settings.max_json_bytes + 1)}

    response = studio.post("/v1/subjects", json=body)

    assert_problem(response, 413, "payload-too-large")
    assert counts() == before


def test_json_body_over_the_limit_without_content_length_is_a_413_problem(
    studio: Studio, settings: Settings, counts: Counts
) -> None:
    before = counts()
    payload = json.dumps({"display_name": "x" * (settings.max_json_bytes + 1)}).encode()

    # A chunked body announces no Content-Length; the limit must hold anyway.
    response = studio.client.post(
        "/v1/subjects",
        input_stream=io.BytesIO(payload),
        headers={
            **studio.headers,
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )

    assert_problem(response, 413, "payload-too-large")
    assert counts() == before


def test_text_plain_body_is_a_415_problem_and_writes_nothing(
    studio: Studio, counts: Counts
) -> None:
    before = counts()

    response = studio.client.post(
        "/v1/subjects",
        data='{"display_name": "Ada"}',
        headers={**studio.headers, "Content-Type": "text/plain"},
    )

    assert_problem(response, 415, "unsupported-media-type")
    assert counts() == before


def test_malformed_json_is_a_400_problem_and_writes_nothing(studio: Studio, counts: Counts) -> None:
    before = counts()

    response = studio.client.post(
        "/v1/subjects",
        data='{"display_name": "Ada",',
        headers={**studio.headers, "Content-Type": "application/json"},
    )

    assert_problem(response, 400, "malformed-request")
    assert counts() == before


def test_json_that_is_not_an_object_is_a_422_problem_and_writes_nothing(
    studio: Studio, counts: Counts
) -> None:
    before = counts()

    response = studio.post("/v1/subjects", json=["display_name", "Ada"])

    assert_problem(response, 422, "validation-error")
    assert counts() == before


def test_schema_violation_is_a_422_problem_naming_the_field(studio: Studio, counts: Counts) -> None:
    before = counts()

    response = studio.post("/v1/subjects", json={"display_name": "Ada", "unknown_field": 1})

    body = assert_problem(response, 422, "validation-error")
    assert any(e["loc"] == "body.unknown_field" for e in body["errors"])
    assert counts() == before


def test_body_is_not_parsed_before_the_caller_is_authenticated(
    client: FlaskClient, counts: Counts
) -> None:
    before = counts()

    response = client.post(
        "/v1/subjects", data="{not json", headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 401, "unauthorized")
    assert counts() == before


class _AssetRefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)


def docs_asset_urls(client: FlaskClient) -> list[str]:
    parser = _AssetRefs()
    parser.feed(client.get("/docs").get_data(as_text=True))
    return parser.urls


def test_docs_page_is_html(client: FlaskClient) -> None:
    response = client.get("/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert docs_asset_urls(client)


def test_docs_page_loads_nothing_from_another_host(client: FlaskClient) -> None:
    for url in docs_asset_urls(client):
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is not served by the registry"
        assert url.startswith("/")


def test_every_asset_the_docs_page_references_is_served(client: FlaskClient) -> None:
    for url in docs_asset_urls(client):
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert response.data, url


def test_options_on_sign_object_lists_only_its_own_methods(client: FlaskClient) -> None:
    response = client.open("/v1/media/sign-object", method="OPTIONS")

    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert_problem(client.get("/v1/media/sign-object"), 405, "method-not-allowed")


def test_a_failed_statement_never_carries_its_parameters(app: Flask) -> None:
    engine = state_of(app).database.engine
    with pytest.raises(sa.exc.IntegrityError) as failed, engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO subjects (id, org_id) VALUES (:id, :org)"),
            {"id": "Ada Lovelace personal", "org": "no such org"},
        )

    # SQLAlchemy's own rendering hides the values (PostgreSQL's DETAIL line may still quote
    # the failing row: see http_errors for what reaches a log).
    message = str(failed.value)
    assert "[SQL parameters hidden due to hide_parameters=True]" in message
    assert "'Ada Lovelace personal'" not in message
