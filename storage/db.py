"""Engine and sessions: SQLite in WAL mode with a busy timeout by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from typing import Protocol

from sqlalchemy import Select, bindparam, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, create_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
BEGIN_ATTEMPTS = 3
# An urgent write (a request's work stored before its ack) asks for SQLite's write lock every URGENT_POLL seconds
# instead of through SQLite's busy handler, whose sleeps grow to 25–100 ms: a lock another process holds for a
# millisecond is then taken a millisecond after, not tens of milliseconds after.
URGENT_POLL = 0.0005
URGENT_WAIT = 5.0
# PostgreSQL: each process keeps POOL_SIZE connections and may open MAX_OVERFLOW more under load.
POOL_SIZE = 5
MAX_OVERFLOW = 10


# SQLite has one writer at a time. Writers of one process queue on this lock (woken in turn) instead of
# SQLite's busy handler, which sleeps and retries: under a long burst of writes an unlucky writer could lose
# every retry until its busy timeout ran out. Writers in other processes still meet the busy timeout.
_WRITE_GATES: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_URGENT: ContextVar[bool] = ContextVar("aurum_urgent_write", default=False)  # inside session_scope(urgent=True)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate_writes)
        _WRITE_GATES[engine] = threading.RLock()
        return engine
    return create_engine(url, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy own transactions; pysqlite's implicit BEGIN would defer the write lock.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate_writes(connection) -> None:
    # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers wait (busy_timeout) instead of
    # failing with "database is locked" when a read transaction tries to upgrade. Reads opened with
    # read_scope() begin deferred and never wait for writers (WAL).
    deferred = connection.get_execution_options().get("aurum_read_only", False)
    if _URGENT.get() and not deferred:
        _begin_urgently(connection)
        return
    for attempt in range(BEGIN_ATTEMPTS):
        try:
            connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")
            return
        except OperationalError as exc:  # still locked after busy_timeout: nothing done yet, so try again
            if "locked" not in str(exc) or attempt == BEGIN_ATTEMPTS - 1:
                raise


def _begin_urgently(connection) -> None:
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + URGENT_WAIT
        while True:
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(URGENT_POLL)
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


@contextmanager
def session_scope(engine: Engine, urgent: bool = False) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on error. `urgent`: someone waits for it (an
    ack): on SQLite, take the write lock as soon as another process lets go of it."""
    gate = _WRITE_GATES.get(engine)
    token = _URGENT.set(urgent)
    try:
        with gate or nullcontext(), Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        _URGENT.reset(token)


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A read-only session: on SQLite it does not take the write lock."""
    with Session(engine.execution_options(aurum_read_only=True), expire_on_commit=False) as session:
        yield session  # closing ends the transaction and keeps loaded objects readable


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - health checks report, never raise
        return False


class KeyedRow(Protocol):
    """A table model with a team_id and a key column (unique together)."""

    id: int | None
    team_id: str
    key: str


_KEY_QUERIES: dict[type, Select] = {}


def key_taken(session: Session, model: type[KeyedRow], team_id: str, key: str) -> bool:
    """Whether a row of `model` (a table with team_id and key columns) holds this key: among the rows added to the
    session and not flushed yet, or in the database. Lets writers queue rows without a flush per row."""
    if any(isinstance(row, model) and row.team_id == team_id and row.key == key for row in session.new):
        return True
    query = _KEY_QUERIES.get(model)
    if query is None:
        query = _KEY_QUERIES[model] = (
            select(col(model.id)).where(col(model.team_id) == bindparam("team_id"), col(model.key) == bindparam("key"))
            .limit(1)
            .execution_options(autoflush=False))
    return session.scalars(query, {"team_id": team_id, "key": key}).first() is not None
