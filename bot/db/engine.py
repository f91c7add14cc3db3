"""Database engine and sessions, for SQLite (embedded default) and PostgreSQL alike."""
from __future__ import annotations

import os
import threading
import weakref
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from sqlalchemy import Integer, Table, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session, create_engine

T = TypeVar("T")

# A database that accepts connections and never answers must not hold a request for minutes: give up on
# connecting, on a pool checkout and on one statement after these (a webhook then answers 503, and the
# provider retries later).
CONNECT_TIMEOUT_S = 5
POOL_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 30_000


def make_engine(url: str, **kw) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys so several threads can share it.

    Bound parameters are never written into error messages or logs: they hold names, phone numbers and
    message texts."""
    kw.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kw)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # pysqlite's own lazy BEGIN breaks SAVEPOINTs (a booking savepoint could commit the whole
            # transaction early): take transaction control ourselves, as SQLAlchemy documents.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # IMMEDIATE takes the write lock up front: concurrent writers wait (busy timeout) instead of
            # failing with "database is locked" when a read transaction later tries to write.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No ping before each use (a round trip per checkout, as dear as the webhook's own statement): when
    # the server restarted, the first statement on a stale connection fails, SQLAlchemy then drops every
    # pooled connection, and callers on the hot paths try once more (retry_on_disconnect).
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_S, "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                    **kw.pop("connect_args", {})}
    if not event.contains(Session, "before_flush", _ids_ahead):
        event.listen(Session, "before_flush", _ids_ahead)
    return create_engine(url, pool_size=5, max_overflow=5, pool_timeout=POOL_TIMEOUT_S, connect_args=connect_args,
                         **kw)


def _ids_ahead(session: Session, _context, _instances) -> None:
    """On PostgreSQL, give the new rows of a flush their ids from the table's sequence, one statement a table.

    Without ids the ORM writes several new rows of a table as one INSERT … VALUES (…), (…) … RETURNING id, whose
    text changes with the number of rows: psycopg parses it again each time (too long for its cache) and the
    server plans it again. With the ids known it is one prepared INSERT run for every row. Measured on the
    turns' 35 outbox rows a batch, in one process, side by side: 316 us of CPU a row flushed without, 231 with
    (docs/performance.md, "LINE webhook"). A single new row keeps its INSERT … RETURNING (one round trip either way).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    new: dict = {}
    for obj in session.new:
        state = inspect(obj)
        new.setdefault(state.mapper, []).append(state)
    for mapper, states in new.items():
        column = mapper.primary_key[0]
        if len(mapper.primary_key) != 1 or not isinstance(column.type, Integer) or column.autoincrement is False:
            continue
        key = mapper.get_property_by_column(column).key
        states = [state for state in states if state.dict.get(key) is None]
        if len(states) < 2:
            continue
        ids = sorted(session.connection().execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, :column)) FROM generate_series(1, :n)"),
            {"table": column.table.name, "column": column.name, "n": len(states)}).scalars())
        if None in ids:  # no sequence behind the column: the database gives the ids, as before
            continue
        for state, row_id in zip(sorted(states, key=lambda s: s.insert_order), ids):
            setattr(state.obj(), key, row_id)  # in the order the rows were added, as the INSERTs would have


def retry_on_disconnect(work: Callable[[], T]) -> T:
    """Run `work`; once more when it failed because the connection had gone (a database restart)."""
    try:
        return work()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        return work()


def one_or_many(rows: list[dict]) -> dict | list[dict]:
    """Parameters for Connection/Session.execute: a single row as a plain execute, several as an executemany (with
    psycopg an executemany runs in pipeline mode, whose set-up costs more than the one round trip it saves)."""
    return rows[0] if len(rows) == 1 else rows


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A connection for one statement that is atomic by itself: on PostgreSQL without BEGIN and COMMIT
    (two round trips fewer), on SQLite inside the usual write-locked transaction."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn
    else:
        with engine.begin() as conn:
            yield conn


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def copy_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert rows (column key -> value, the same keys in each) with PostgreSQL's COPY, in the session's transaction.

    For the rows a batch writes that nothing reads back in it (what candidates said, bot.service.inbound_log):
    an executemany INSERT costs 72 us of CPU a row in psycopg's pipeline and SQLAlchemy's execution, COPY 24
    (measured side by side in one process, 35 rows a batch). Each value is converted as SQLAlchemy binds it for
    its column (naive UTC times, JSON); what the session holds unwritten is flushed first, as a query's
    autoflush would (a new applicant these rows refer to). Errors come as SQLAlchemy's.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    keys = list(rows[0])
    columns = [table.c[key] for key in keys]
    converts = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
    quote = dialect.identifier_preparer.quote
    sql = (f"COPY {dialect.identifier_preparer.format_table(table)} ({', '.join(quote(c.name) for c in columns)}) "
           "FROM STDIN")
    session.flush()
    raw = session.connection().connection
    try:
        with raw.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row([value if convert is None else convert(value)
                                for value, convert in zip(map(row.__getitem__, keys), converts)])
    except dialect.loaded_dbapi.Error as exc:
        error = _as_sqlalchemy_error(dialect, sql, exc, raw.driver_connection)
        if error.connection_invalidated:
            raw.invalidate(exc)
        raise error from exc


def _as_sqlalchemy_error(dialect, sql: str, exc: Exception, driver) -> DBAPIError:
    """A driver's error on a statement run outside SQLAlchemy's execution, as SQLAlchemy would report it (parameters
    hidden); `connection_invalidated` when the connection is gone, so that retry_on_disconnect tries again."""
    return DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True,
                               connection_invalidated=dialect.is_disconnect(exc, driver, None))


def _close_all(connections: list) -> None:
    """Close the connections this process opened (a forked child leaves its parent's alone)."""
    for pid, driver in connections:
        if pid == os.getpid():
            driver.close()


class DriverStatement:
    """A Core statement compiled once and run on the driver's own cursor, for one row, committing by itself.

    For the one statement every webhook request runs (its event kept before the 200): SQLAlchemy's execution
    around psycopg (a Connection, the isolation level set and reset, the compiled cache looked up, a result
    built) cost as much CPU as psycopg and the round trip together (docs/performance.md, "LINE webhook").
    The SQL, its parameters' conversions (the columns' types, as SQLAlchemy would apply them) and the
    connections (made by the engine's pool) are SQLAlchemy's; a dropped connection is reported as SQLAlchemy
    reports it, so retry_on_disconnect tries once more on a fresh one. PostgreSQL only: SQLite's writes take
    the write lock with BEGIN IMMEDIATE, which a statement outside SQLAlchemy's transaction would bypass.
    """

    def __init__(self, engine: Engine, stmt: Insert, keys: list[str]):
        if engine.dialect.name != "postgresql":
            raise ValueError("DriverStatement runs on PostgreSQL only")
        compiled = stmt.compile(dialect=engine.dialect, column_keys=keys)
        # Weakly: kept per engine (bot.service.inbox), it must not keep its engine alive.
        self._engine, self.sql = weakref.ref(engine), compiled.string
        self._dbapi_error = engine.dialect.loaded_dbapi.Error
        # Each parameter as SQLAlchemy binds it: a timestamp made naive UTC (UTCDateTime), a dict wrapped as JSON.
        self._binds = [(name, bind.key, bind.type.dialect_impl(engine.dialect).bind_processor(engine.dialect))
                       for name, bind in compiled.binds.items()]
        # Each thread keeps a connection of its own, in autocommit, and a cursor on it between runs: checking one
        # out of the pool and in again and switching autocommit on and off cost a fifth of a run (30 us;
        # docs/performance.md, "LINE webhook"). Made by the pool (its connect events ran) and then detached from
        # it, so that it holds no reference to the pool and its engine: they are let go as before, and these
        # connections closed with this object.
        self._held = threading.local()
        self._all: list = []  # every thread's, (pid, connection)
        weakref.finalize(self, _close_all, self._all)

    def run(self, row: dict) -> list[tuple]:
        """Execute for `row` (column key -> value) in its own transaction; the rows it returned."""
        params = {name: row[key] if convert is None else convert(row[key]) for name, key, convert in self._binds}
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the engine of this statement was let go")
        driver, cursor = self._connection(engine)
        try:
            return cursor.execute(self.sql, params).fetchall()  # atomic by itself: no BEGIN and COMMIT
        except self._dbapi_error as exc:
            error = _as_sqlalchemy_error(engine.dialect, self.sql, exc, driver)
            if error.connection_invalidated:  # the server restarted: drop this connection and every one pooled
                self._held.driver = None
                driver.close()
                engine.dispose(close=False)
            raise error from exc

    def _connection(self, engine: Engine):
        """This thread's connection and cursor: new ones in a new process (after a fork) or when it broke."""
        held = getattr(self._held, "driver", None)
        if held is not None:
            pid, driver, cursor = held
            if pid == os.getpid() and not (driver.closed or driver.broken):
                return driver, cursor
            self._held.driver = None
        raw = engine.raw_connection()
        driver = raw.driver_connection
        raw.detach()  # its place in the pool is free again; the connection is ours until closed
        driver.autocommit = True
        self._held.driver = (os.getpid(), driver, driver.cursor())
        self._all[:] = [held for held in self._all if not held[1].closed] + [(os.getpid(), driver)]
        return self._held.driver[1:]
