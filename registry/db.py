"""Engine, per-request session and the column types shared by every table.

The request owns the transaction: services ``add``/``flush``; the API layer commits once the
view has succeeded and rolls back otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from registry.errors import ServiceUnavailable

JSONColumn = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``url``: SQLite with foreign keys, WAL and immediate transactions."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=False
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800
    )


def _configure_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event own transactions (pysqlite's own BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A deferred transaction that reads then writes fails at once under a concurrent
        # writer (SQLITE_BUSY_SNAPSHOT); taking the write lock up front makes writers queue.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_read_engine(url: str, *, pool_size: int) -> Engine:
    """An engine for single-statement public reads: autocommit, no pre-ping.

    A read then costs one round trip instead of four (ping, BEGIN, SELECT, COMMIT); a
    connection the server dropped is retried once by :meth:`Database.read`.
    """
    return sa.create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        pool_recycle=1800,
    )


class Database:
    """The engines and session factory of one app."""

    def __init__(self, *, url: str, pool_size: int = 10, read_url: str | None = None) -> None:
        self.url = url
        self.engine = create_db_engine(url, pool_size=pool_size)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._compiled: dict[Any, str] = {}
        # SQLite reads are in-process already; PostgreSQL reads may go to a replica.
        self.read_engine = (
            self.engine
            if url.startswith("sqlite")
            else create_read_engine(read_url or url, pool_size=pool_size)
        )

    # ``statement`` is a Select; SQLAlchemy 2.1 types it variadically, which Any spans.
    def read(self, statement: Any, params: dict[str, Any]) -> dict[str, Any] | None:
        """First row of one read-only statement on the read engine, as a dict.

        On PostgreSQL this goes straight to the driver with SQL compiled once: SQLAlchemy's
        execution layer costs more CPU than the query itself on the public status path.
        """
        engine = self.read_engine
        if engine.dialect.name != "postgresql":
            with engine.connect() as session_connection:
                row = session_connection.execute(statement, params).first()
            return dict(row._mapping) if row is not None else None
        sql = self._compiled.get(statement)
        if sql is None:
            sql = self._compiled[statement] = str(statement.compile(dialect=engine.dialect))
        for attempt in (1, 2):
            connection = engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute(sql, params)
                values = cursor.fetchone()
                names = [column[0] for column in cursor.description or ()]
                cursor.close()
                return dict(zip(names, values, strict=True)) if values is not None else None
            except engine.dialect.loaded_dbapi.OperationalError as exc:
                connection.invalidate()  # the server dropped it; a fresh one is tried once
                if attempt == 2:
                    raise ServiceUnavailable("the database is not reachable") from exc
            finally:
                connection.close()
        return None

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session that commits on success (CLI commands and background work)."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> None:
        """Raise ServiceUnavailable when the database cannot answer."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except sa.exc.SQLAlchemyError as exc:
            raise ServiceUnavailable("the database is not reachable") from exc

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def init_app(app: Flask, database: Database) -> None:
    app.extensions["registry.db"] = database
    app.teardown_appcontext(_close_session)


def get_database() -> Database:
    return current_app.extensions["registry.db"]  # type: ignore[no-any-return]


def get_session() -> Session:
    """The request's session, opened on first use."""
    session = g.get("db_session")
    if session is None:
        session = get_database().sessionmaker()
        g.db_session = session
    return session  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
