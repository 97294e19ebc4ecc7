"""Migrations upgrade an empty database to the models' schema, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers every table
from storage.db import make_engine
from storage.migrate import alembic_config, current_revisions, upgrade
from tests.support import POSTGRES_ENV, fresh_postgres_database


def _check_upgrade_from_empty(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
        assert current_revisions(engine) == heads
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
        tables = set(inspect(engine).get_table_names())
        assert {"kpi_snapshot", "outbox_message", "job_claim", "workspace", "sprint"} <= tables
        upgrade(engine)  # a second upgrade is a no-op
    finally:
        engine.dispose()


def test_sqlite_upgrade_from_empty_in_wal_mode(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    _check_upgrade_from_empty(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_ENV not in os.environ, reason=f"{POSTGRES_ENV} is not set (.ci/run sets it)")
def test_postgres_upgrade_from_empty():
    _check_upgrade_from_empty(fresh_postgres_database())
