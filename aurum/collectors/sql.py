"""SQL: a read-only query that returns one number, with a statement timeout (e.g. API-migration progress).

PostgreSQL runs it in a READ ONLY transaction with `statement_timeout`; SQLite with `query_only` and a progress
handler that interrupts it at the deadline. Use credentials that can only read, too.
"""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from aurum.collectors.base import Collected, CollectorError, Run
from aurum.collectors.http import finite


def _url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def run_query(source: str, url: str, query: str, column: str | None, timeout: float) -> float | None:
    engine = create_engine(_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            dialect = conn.dialect.name
            if dialect == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
            elif dialect == "sqlite":
                raw = conn.connection.dbapi_connection
                assert raw is not None  # an open connection's DBAPI connection
                raw.execute("PRAGMA query_only = ON")
                deadline = time.monotonic() + timeout
                raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
            result = conn.execute(text(query))
            names = list(result.keys())
            row = result.first()
            conn.rollback()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        if "interrupted" in reason or "statement timeout" in reason:
            reason = f"the query took longer than {timeout:g} s"
        raise CollectorError(source, f"query failed: {reason}") from None
    finally:
        engine.dispose()
    if row is None:
        return None
    if column is None and len(names) != 1:
        raise CollectorError(source, f"the query returns {len(names)} columns; name one with column: "
                                     f"({', '.join(names)})")
    if column is not None and column not in names:
        raise CollectorError(source, f"no column {column!r} in the result ({', '.join(names)})")
    return finite(row[names.index(column) if column else 0])


def collect(run: Run) -> Collected:
    def measure(item) -> float | None:
        return run_query(run.source, item.url, item.query, item.column, item.timeout_seconds)

    return run.each(run.config, measure, "the query returned no number")
