"""Fixtures: every database test runs on SQLite and, when REGISTRY_TEST_DATABASE_URL is set,
on that PostgreSQL too. Databases are built by Alembic migrations, never by create_all."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from registry import create_app, migrate
from registry.keys.keyring import init_keys
from registry.settings import Settings
from tests.factories import Studio, table_counts

# TEMPORARY until tests/s3server.py lands (being written in parallel).
pytest_plugins = ["tests.s3server"] if (Path(__file__).parent / "s3server.py").exists() else []

PG_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
TABLES = (
    "idempotency_records",
    "consent_grants",
    "subjects",
    "api_clients",
    "audit_events",
    "organizations",
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "registry.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[sa.Engine]:
    """PostgreSQL rebuilt from migrations once per run; unreachable is a failure, not a skip."""
    assert PG_URL, "REGISTRY_TEST_DATABASE_URL is not set"
    engine = sa.create_engine(PG_URL)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable: {exc}")
    migrate.upgrade(PG_URL)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "registry.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    engine: sa.Engine = request.getfixturevalue("postgres_engine")
    yield str(PG_URL)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    data_dir = tmp_path / "data"
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        issuer="http://registry.test",
        max_json_bytes=64 * 1024,
        _env_file=None,  # type: ignore[call-arg]
    )
    init_keys(settings.keys_dir)  # type: ignore[arg-type]
    return settings


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["registry.db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


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
