"""Fixtures: every database test runs on SQLite and, when REGISTRY_TEST_DATABASE_URL is set,
on that PostgreSQL too. Databases are built by Alembic migrations, never by create_all."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import SQLModel
from werkzeug.serving import make_server

import registry.models  # noqa: F401  (every table on the metadata)
from registry import create_app, migrate
from registry.keys.c2pa_credential import create_dev_credential
from registry.keys.keyring import init_keys
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio, table_counts

pytest_plugins = ["tests.s3server"]

PG_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` need the PostgreSQL of REGISTRY_TEST_DATABASE_URL: without
    it (a plain ``make test``) they are deselected, never skipped; with it, an unreachable
    server fails them (``postgres_url``). ``.ci/run`` always sets it."""
    if PG_URL:
        return
    dropped = [item for item in items if item.get_closest_marker("postgres")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "registry.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A schema of its own on the test PostgreSQL, built by migrations once per run.

    Unreachable is a failure, never a skip. A private schema lets runs share the server.
    """
    assert PG_URL, "REGISTRY_TEST_DATABASE_URL is not set"
    schema = f"registry_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable: {exc}")
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    yield url
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "registry.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture(scope="session")
def keys_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Token keys and the development C2PA credential, made once and copied per test."""
    keys_dir = tmp_path_factory.mktemp("keys-template") / "keys"
    init_keys(keys_dir)
    create_dev_credential(keys_dir / "c2pa")
    return keys_dir


@pytest.fixture
def settings(tmp_path: Path, database_url: str, keys_template: Path) -> Settings:
    data_dir = tmp_path / "data"
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        issuer="http://registry.test",
        max_json_bytes=64 * 1024,
        _env_file=None,  # type: ignore[call-arg]
    )
    shutil.copytree(keys_template, settings.keys_dir)  # type: ignore[arg-type]
    return settings


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A scratch directory for the files a test makes."""
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    state_of(app).database.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a loopback port (for the client, CLI and browser)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def studio(app: Flask, client: FlaskClient) -> Studio:
    """An organization with an all-scopes API client and a fresh access token."""
    return Studio.create(app, client, name="Northwind Studios")


@pytest.fixture
def other_studio(app: Flask, client: FlaskClient) -> Studio:
    return Studio.create(app, client, name="Rival Pictures")


@pytest.fixture
def counts(app: Flask):  # type: ignore[no-untyped-def]
    """Call to get the row count of every table (to prove that nothing was written)."""
    return lambda: table_counts(app)
