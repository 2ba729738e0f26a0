"""Engine, per-request session and the column types shared by every table.

The request owns the transaction: services ``add``/``flush``, never commit; every successful
response commits it (``init_app``) and everything else rolls it back.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from registry.errors import Conflict, RegistryError, ServiceUnavailable
from registry.metrics import DATABASE_ERRORS


class JSONDocument(sa.TypeDecorator[Any]):
    """JSON: JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.

    Like ``sa.JSON().with_variant(JSONB(), "postgresql")``, without importing SQLAlchemy's
    PostgreSQL dialects (and their asyncio drivers) into a worker that runs on SQLite.
    """

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return self.impl_instance


JSONColumn = JSONDocument()
# Execution option of a connection that only reads (SQLite then skips the write lock).
READ_ONLY = "registry_read_only"


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


@dataclass(frozen=True)
class Deadlines:
    """PostgreSQL's deadlines in seconds (None: none); SQLite has its busy timeout only.

    ``connect`` bounds opening a connection (libpq's connect_timeout, whole seconds); the
    statement and lock timeouts are the server's own and cancel the statement that overran.
    """

    connect: int | None = None
    statement: float | None = None
    lock: float | None = None

    def libpq_options(self, existing: str | None = None) -> str | None:
        """The ``options`` connection parameter: ``existing`` (e.g. a search_path) and ours."""
        ours = [
            f"-c {name}={int(seconds * 1000)}"
            for name, seconds in (
                ("statement_timeout", self.statement),
                ("lock_timeout", self.lock),
            )
            if seconds
        ]
        return " ".join([existing, *ours] if existing else ours) or None


def create_db_engine(
    url: str, *, pool_size: int = 10, deadlines: Deadlines | None = None
) -> Engine:
    """An engine for ``url``: SQLite with foreign keys, WAL and immediate transactions.

    On either backend, an ``OperationalError`` (unreachable, connection lost, a statement or
    lock timeout, SQLite's busy timeout) surfaces as ``ServiceUnavailable`` (a 503 problem).
    """
    # hide_parameters: a failed statement's log line and exception never carry its values
    # (names, reasons: personal data).
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_pre_ping=False,
            hide_parameters=True,
        )
        _configure_sqlite(engine)
    else:
        engine = sa.create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_recycle=1800,
            hide_parameters=True,
            connect_args=_postgres_connect_args(url, deadlines or Deadlines()),
        )
    sa.event.listen(engine, "handle_error", _unavailable_database)
    return engine


def _postgres_connect_args(url: str, deadlines: Deadlines) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    if deadlines.connect:
        arguments["connect_timeout"] = deadlines.connect
    existing = sa.make_url(url).query.get("options")
    # connect_args replace the URL's own parameters: keep its options (e.g. a search_path).
    options = deadlines.libpq_options(existing if isinstance(existing, str) else None)
    if options:
        arguments["options"] = options
    return arguments


def _unavailable_database(context: sa.engine.ExceptionContext) -> BaseException | None:
    """The one place where the database's operational failures become a 503 problem.

    Pool pre-pings are left alone: the pool reconnects when one fails.
    """
    if context.is_pre_ping:
        return None
    error = context.sqlalchemy_exception
    if isinstance(error, sa.exc.OperationalError):
        DATABASE_ERRORS.labels("OperationalError").inc()
        return ServiceUnavailable("the database is not available; retry later")
    # A constraint refusing a row is an answer (a conflict), not a database failure.
    if not isinstance(error, sa.exc.IntegrityError):
        DATABASE_ERRORS.labels(type(error).__name__).inc()
    return None


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
        # A read-only connection (Database.read) must not queue behind a writer: in WAL mode
        # a deferred BEGIN reads a snapshot at once.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class ReadConnections:
    """One autocommit connection per thread for single-statement public reads (PostgreSQL).

    The hottest public read (a grant's status) costs one round trip and little else: each
    thread keeps its own connection (a gthread worker has a fixed set of threads, so there is
    no pool to check out from), each statement is prepared once per connection, and it runs
    through libpq's ``PQexecPrepared`` (psycopg's ``pq`` layer, which releases the GIL while it
    waits) with psycopg's own loaders for the row. A connection the server dropped is
    replaced and the read retried once.
    """

    def __init__(self, url: str, *, deadlines: Deadlines | None = None) -> None:
        from psycopg import pq  # only PostgreSQL deployments load the driver

        self._ok = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)
        self._tuples_ok = pq.ExecStatus.TUPLES_OK
        self._connection_ok = pq.ConnStatus.OK
        parsed = sa.make_url(url)
        self._conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        # As the engine's connections: the same deadlines (see ``Deadlines``).
        self._deadlines = deadlines or Deadlines()
        existing = parsed.query.get("options")
        self._options = self._deadlines.libpq_options(
            existing if isinstance(existing, str) else None
        )
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[Any] = []

    def fetchone(self, statement: PreparedRead, params: Sequence[str]) -> tuple[Any, ...] | None:
        """The first row of ``statement`` for text ``params``, or None."""
        encoded = [value.encode() for value in params]
        for attempt in (1, 2):
            try:
                connection, prepared, transformer = self._thread_connection()
                pgconn = connection.pgconn
                if statement.name not in prepared:
                    self._check(pgconn, pgconn.prepare(statement.name, statement.sql))
                    prepared.add(statement.name)
                result = pgconn.exec_prepared(statement.name, encoded)
                self._check(pgconn, result)
            except _ConnectionLost as exc:
                self._discard()
                if attempt == 2:
                    raise ServiceUnavailable("the database is not reachable") from exc
                continue
            if result.status != self._tuples_ok or result.ntuples == 0:
                return None
            transformer.set_pgresult(result)
            return transformer.load_row(0, tuple)  # type: ignore[no-any-return]
        return None

    def _check(self, pgconn: Any, result: Any) -> None:
        if result.status in self._ok:
            return
        message = result.error_message.decode(errors="replace").strip()
        if pgconn.status != self._connection_ok:
            raise _ConnectionLost(message)
        raise RuntimeError(f"public read failed: {message}")

    def _thread_connection(self) -> tuple[Any, set[bytes], Any]:
        state = getattr(self._local, "state", None)
        if state is None:
            import psycopg
            from psycopg.adapt import Transformer

            extra: dict[str, Any] = {"options": self._options} if self._options else {}
            try:
                connection = psycopg.connect(
                    self._conninfo,
                    autocommit=True,
                    connect_timeout=self._deadlines.connect or 10,
                    **extra,
                )
            except psycopg.OperationalError as exc:
                raise _ConnectionLost(str(exc)) from exc
            with self._lock:
                self._opened.append(connection)
            state = self._local.state = (connection, set(), Transformer(connection))
        return state  # type: ignore[no-any-return]

    def _discard(self) -> None:
        state = self._local.__dict__.pop("state", None)
        if state is not None:
            with self._lock:
                self._opened.remove(state[0])
            state[0].close()

    def close(self) -> None:
        """Close every thread's connection (the app is being disposed of)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()


class _ConnectionLost(Exception):
    """The read connection is gone (or could not be opened)."""


@dataclass(frozen=True)
class PreparedRead:
    """A SELECT compiled once for :class:`ReadConnections`: name, SQL, columns, parameters."""

    name: bytes
    sql: bytes
    columns: list[str]
    params: list[str]


def _numeric_dollar_dialect() -> sa.Dialect:
    """PostgreSQL SQL with libpq's own placeholders ($1, $2, ...), as PQprepare takes it."""
    from sqlalchemy.dialects.postgresql import psycopg

    return psycopg.dialect(paramstyle="numeric_dollar")  # type: ignore[no-any-return]


class Database:
    """The engines and session factory of one app."""

    def __init__(
        self,
        *,
        url: str,
        pool_size: int = 10,
        read_url: str | None = None,
        deadlines: Deadlines | None = None,
    ) -> None:
        self.url = url
        self.engine = create_db_engine(url, pool_size=pool_size, deadlines=deadlines)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._compiled: dict[Any, PreparedRead] = {}
        # SQLite reads are in-process already; PostgreSQL reads may go to a replica.
        self._reads = (
            None
            if self.engine.dialect.name == "sqlite"
            else ReadConnections(read_url or url, deadlines=deadlines)
        )

    # ``statement`` is a Select; SQLAlchemy 2.1 types it variadically, which Any spans.
    def read(self, statement: Any, params: dict[str, str]) -> dict[str, Any] | None:
        """First row of one read-only statement with text parameters, as a dict.

        On PostgreSQL this bypasses SQLAlchemy's execution layer and pool (see
        :class:`ReadConnections`): on the public status path they cost more CPU than the
        query itself.
        """
        if self._reads is None:
            with self.engine.connect().execution_options(**{READ_ONLY: True}) as connection:
                row = connection.execute(statement, params).first()
            return dict(row._mapping) if row is not None else None
        prepared = self._compiled.get(statement)
        if prepared is None:
            compiled = statement.compile(dialect=_numeric_dollar_dialect())
            sql = str(compiled).encode()
            prepared = self._compiled[statement] = PreparedRead(
                # Named by its text: threads compiling at once agree on the name.
                name=b"registry_read_" + hashlib.sha256(sql).hexdigest()[:24].encode(),
                sql=sql,
                columns=[column.key for column in statement.selected_columns],
                params=list(compiled.positiontup or ()),
            )
        values = self._reads.fetchone(prepared, [params[name] for name in prepared.params])
        return dict(zip(prepared.columns, values, strict=True)) if values is not None else None

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
        """Raise ServiceUnavailable when the database cannot answer (it may block while a
        frozen server holds the connection: /readyz waits for it only so long)."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except (sa.exc.SQLAlchemyError, ServiceUnavailable) as exc:
            raise ServiceUnavailable("the database is not reachable") from exc

    def dispose(self) -> None:
        self.engine.dispose()
        if self._reads is not None:
            self._reads.close()


def init_app(app: Flask) -> None:
    """The request transaction: committed after every successful response, else rolled back."""
    app.after_request(_commit_on_success)
    app.teardown_appcontext(_close_session)


def get_database() -> Database:
    from registry.state import app_state

    return app_state().database


def get_session() -> Session:
    """The request's session, opened on first use."""
    session = g.get("db_session")
    if session is None:
        session = get_database().sessionmaker()
        g.db_session = session
    return session  # type: ignore[no-any-return]


def commit_request() -> None:
    """Commit the request's transaction now, if it opened one (409 when a constraint fails).

    Every successful response commits anyway (``_commit_on_success``); a view calls this
    itself only to act on the outcome, as the idempotency replay does.
    """
    session = g.get("db_session")
    if session is None or not session.in_transaction():
        return
    try:
        session.commit()
    except sa.exc.IntegrityError as exc:
        session.rollback()
        raise Conflict("the change conflicts with the current state; retry") from exc


def _commit_on_success(response: Response) -> Response:
    """Commit unless the response is an error: no route can forget to, or commit a failure.

    An error response (4xx, 5xx) leaves the transaction to ``_close_session``, which rolls
    it back; so does an exception, which Flask turns into an error response first.
    """
    if response.status_code >= 400:
        return response
    try:
        commit_request()
    except RegistryError as error:
        from registry.http_errors import problem_response

        return problem_response(error)
    return response


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
