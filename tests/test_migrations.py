"""Migrations upgrade an empty database to the models' schema, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers every table
from storage.db import make_engine
from storage.migrate import HEAD, alembic_config, current_revisions, head_revisions, upgrade, upgrade_if_behind
from tests.support import POSTGRES_ENV, ROOT, fresh_postgres_database, process_env


def _check_upgrade_from_empty(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
        assert current_revisions(engine) == heads
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
        tables = set(inspect(engine).get_table_names())
        assert {"kpi_snapshot", "queued_task", "job_claim", "workspace", "sprint"} <= tables
        upgrade(engine)  # a second upgrade is a no-op
    finally:
        engine.dispose()


def test_head_names_the_newest_migration():
    assert head_revisions() == {HEAD}


def test_a_start_upgrades_a_database_behind_and_leaves_one_at_head_alone(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'behind.db'}")
    try:
        assert current_revisions(engine) == set()
        upgrade(engine, "0007")
        upgrade_if_behind(engine)
        assert current_revisions(engine) == {HEAD}
        # At head, a start reads the version and never imports Alembic (a web process stays smaller and starts sooner).
        check = ("import sys; from storage.db import make_engine; from storage.migrate import upgrade_if_behind; "
                 f"upgrade_if_behind(make_engine({str(engine.url)!r})); assert 'alembic' not in sys.modules")
        subprocess.run([sys.executable, "-c", check], cwd=ROOT, check=True, env=process_env())
    finally:
        engine.dispose()


def test_all_migrations_are_applied_in_one_transaction(tmp_path):
    """A second process starting at the same moment waits for the whole run (its write lock), never for one step,
    so it cannot apply a migration the first has already applied."""
    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    try:
        begins: list[str] = []
        event.listen(engine, "begin", lambda conn: begins.append("begin"))
        upgrade(engine)
        assert len(begins) == 1
        assert current_revisions(engine) == {HEAD}
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
