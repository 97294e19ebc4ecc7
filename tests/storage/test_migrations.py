"""Migrations upgrade an empty database to the models' schema, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, Text, event, insert, inspect, select, text
from sqlmodel import SQLModel

import storage.schema  # noqa: F401 - registers every table
from storage.db import make_engine
from storage.migrate import HEAD, alembic_config, current_revisions, head_revisions, upgrade, upgrade_if_behind
from storage.types import UTCDateTime
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


# ----- 0009: the outbox and the alert tasks become one task queue ---------------------------------------------------

T0 = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)
_QUEUED = ("team_id", "key", "kind", "payload", "status", "attempts", "next_attempt_at", "claimed_until",
           "last_error", "created_at")


def _queue_table(name: str, *extra: tuple[str, Any]) -> Table:
    types = {"attempts": Integer(), "next_attempt_at": UTCDateTime(), "claimed_until": UTCDateTime(),
             "created_at": UTCDateTime(), "sent_at": UTCDateTime(), "done_at": UTCDateTime(),
             "finished_at": UTCDateTime()}
    names = [*_QUEUED, *(name for name, _ in extra)]
    return Table(name, MetaData(), *(Column(c, types.get(c, Text())) for c in names))


OUTBOX_0008 = _queue_table("outbox_message", ("channel", 0), ("parent_key", 0), ("ts", 0), ("result_channel", 0),
                           ("sent_at", 0))
ALERT_TASK_0008 = _queue_table("alert_task", ("done_at", 0))
QUEUED_TASK_0009 = _queue_table("queued_task", ("parent_key", 0), ("result", 0), ("finished_at", 0))


def _old_rows() -> tuple[list[dict], list[dict]]:
    """Rows of every status and kind, each field set differently, in both tables (their ids overlap)."""
    outbox = []
    for i, (kind, status) in enumerate([("post", "sent"), ("post", "pending"), ("ephemeral", "dead"),
                                        ("update", "superseded"), ("update", "sending"), ("upload", "sent"),
                                        ("post", "sent")]):
        sent = status == "sent"
        outbox.append({
            "team_id": "T0001" if i % 2 else "T0002", "key": f"{kind}:{i}", "kind": kind,
            "payload": json.dumps({"text": f"message {i} “quoted”", "blocks": None, "user": None}),
            "status": status, "attempts": i, "next_attempt_at": T0 + timedelta(seconds=i),
            "claimed_until": T0 + timedelta(minutes=1) if status == "sending" else None,
            "last_error": "Slack server error 503" if status in ("pending", "dead") else None,
            "created_at": T0 - timedelta(hours=i), "channel": "" if kind == "update" else f"C{i:04}",
            "parent_key": "post:0" if kind in ("update", "upload") else None,
            "ts": f"1733045415.{i:06}" if sent else None,
            "result_channel": ("D0DM" if kind == "upload" else f"C{i:04}") if sent else None,
            "sent_at": T0 + timedelta(seconds=30 + i) if sent else None})
    tasks = []
    for i, (kind, status) in enumerate([("pagerduty", "done"), ("pagerduty", "pending"), ("email", "dead"),
                                        ("chart", "sending")]):
        tasks.append({
            "team_id": "T0001", "key": f"{kind}:{i}:trigger", "kind": kind,
            "payload": json.dumps({"event_action": "trigger", "dedup_key": f"aurum-T0001-Rule-{i}"}),
            "status": status, "attempts": 10 - i, "next_attempt_at": T0 + timedelta(minutes=i),
            "claimed_until": T0 + timedelta(minutes=2) if status == "sending" else None,
            "last_error": "PagerDuty answered 503" if status != "done" else None, "created_at": T0,
            "done_at": T0 + timedelta(seconds=5) if status == "done" else None})
    return outbox, tasks


def _as_queued(outbox: list[dict], tasks: list[dict]) -> list[dict]:
    """What the queue should hold for those rows: a Slack call's channel in its payload, where Slack put it in its
    result; everything else as it was."""
    expected = []
    for row in outbox:
        payload = {**json.loads(row["payload"]), "channel": row["channel"]}
        result = {"channel": row["result_channel"] or row["channel"], "ts": row["ts"]} if row["ts"] else None
        expected.append({**{c: row[c] for c in _QUEUED}, "payload": payload, "parent_key": row["parent_key"],
                         "result": result, "finished_at": row["sent_at"]})
    for row in tasks:
        expected.append({**{c: row[c] for c in _QUEUED}, "payload": json.loads(row["payload"]), "parent_key": None,
                         "result": None, "finished_at": row["done_at"]})
    return expected


def _read(engine, table: Table) -> list[dict]:
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(table))]


def _by_key(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(row["team_id"], row["key"]): row for row in rows}


def _check_queue_migration(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine, "0008")
        outbox, tasks = _old_rows()
        with engine.begin() as conn:
            conn.execute(insert(OUTBOX_0008), outbox)
            conn.execute(insert(ALERT_TASK_0008), tasks)
        upgrade(engine, "0009")
        moved = _read(engine, QUEUED_TASK_0009)
        assert len(moved) == len(outbox) + len(tasks)
        for row in moved:
            row["payload"] = json.loads(row["payload"])
            row["result"] = json.loads(row["result"]) if row["result"] else None
        assert _by_key(moved) == _by_key(_as_queued(outbox, tasks))
        assert {"outbox_message", "alert_task"}.isdisjoint(inspect(engine).get_table_names())

        command.downgrade(alembic_config(engine), "0008")  # and back: the same rows in their old tables
        assert _by_key(_read(engine, OUTBOX_0008)) == _by_key(outbox)
        assert _by_key(_read(engine, ALERT_TASK_0008)) == _by_key(tasks)
    finally:
        engine.dispose()


def test_sqlite_upgrade_moves_the_outbox_and_alert_tasks_into_the_queue(tmp_path):
    _check_queue_migration(f"sqlite:///{tmp_path / 'queue.db'}")


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_ENV not in os.environ, reason=f"{POSTGRES_ENV} is not set (.ci/run sets it)")
def test_postgres_upgrade_moves_the_outbox_and_alert_tasks_into_the_queue():
    _check_queue_migration(fresh_postgres_database())


# ----- 0015: teams inside a workspace ------------------------------------------------------------------------------

_TEAM_ROWS_0010: dict[str, list[dict[str, Any]]] = {
    "kpi_snapshot": [{"id": i, "team_id": team, "kpi": kpi, "value": 10.0 + i, "at": T0 + timedelta(hours=i),
                      "source": "manual", "created_at": T0}
                     for i, (team, kpi) in enumerate([("T0001", "latency"), ("T0001", "coverage"),
                                                      ("T0002", "latency")])],
    "kpi_day": [{"team_id": team, "kpi": "latency", "day": 20423, "count": 1, "total": 10.0 + i, "seconds": 60.0,
                 "low": 10.0 + i, "high": 10.0 + i} for i, team in enumerate(["T0001", "T0002"])],
    "kpi_hour": [{"team_id": "T0001", "kpi": "latency", "hour": 490152 + i, "count": 2, "total": 20.0,
                  "seconds": 120.0, "low": 9.0, "high": 11.0} for i in range(3)],
    "sprint": [{"id": i, "team_id": team, "board": "12", "external_id": f"{100 + i}", "name": f"Sprint {i}",
                "state": "closed", "goal": "", "start_at": T0, "end_at": T0 + timedelta(days=14),
                "completed_at": None, "committed_points": 20.0, "completed_points": 18.0, "source": "jira",
                "created_at": T0} for i, team in enumerate(["T0001", "T0002"])],
    "survey_run": [{"id": 1, "team_id": "T0001", "survey": "team", "period": "2026-W48", "state": "closed",
                    "opens_at": T0, "closes_at": T0 + timedelta(days=3), "closed_at": T0 + timedelta(days=3),
                    "audience": 7, "note": "", "created_at": T0}],
    "team_note": [{"id": i, "team_id": "T0001", "kind": kind, "text": f"{kind} {i}", "author": "U1",
                   "created_at": T0, "done_at": None, "done_by": None}
                  for i, kind in enumerate(["blocker", "commitment"])],
}


def _without_squad(rows: list[dict]) -> list[dict]:
    return sorted(({k: v for k, v in row.items() if k != "squad"} for row in rows), key=repr)


def _team_tables(engine) -> dict[str, Table]:
    """The tables as the database has them now, times read as the models read them (UTC)."""
    found = MetaData()
    found.reflect(engine, only=list(_TEAM_ROWS_0010))
    for table in found.tables.values():
        for column in table.columns:
            if column.name.endswith("_at") or column.name == "at":
                column.type = UTCDateTime()
    return dict(found.tables)


def _check_squad_migration(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine, "0010")
        tables = _team_tables(engine)
        with engine.begin() as conn:
            for name, rows in _TEAM_ROWS_0010.items():
                conn.execute(insert(tables[name]), rows)
        before = {name: _without_squad(_read(engine, tables[name])) for name in _TEAM_ROWS_0010}

        upgrade(engine)
        after = _team_tables(engine)
        for name in _TEAM_ROWS_0010:
            rows = _read(engine, after[name])
            assert len(rows) == len(_TEAM_ROWS_0010[name]), name  # nothing lost, nothing doubled
            assert {row["squad"] for row in rows} == {""}, name  # all the workspace's default team's
            kept = set(before[name][0]) if before[name] else set()  # the 0010 columns (later ones add their own)
            assert [{k: v for k, v in row.items() if k in kept} for row in _without_squad(rows)] == before[name], name
        with engine.begin() as conn:  # another team of the workspace may hold the same KPI point
            conn.execute(insert(after["kpi_snapshot"]), [{**_TEAM_ROWS_0010["kpi_snapshot"][0], "id": 99,
                                                          "squad": "payments"}])
            conn.execute(insert(after["kpi_day"]), [{**_TEAM_ROWS_0010["kpi_day"][0], "squad": "payments"}])

        command.downgrade(alembic_config(engine), "0010")  # and back: the default team's rows, as they were
        assert {name: _without_squad(_read(engine, tables[name])) for name in _TEAM_ROWS_0010} == before
    finally:
        engine.dispose()


def test_sqlite_upgrade_puts_every_row_in_the_workspaces_default_team(tmp_path):
    _check_squad_migration(f"sqlite:///{tmp_path / 'squads.db'}")


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_ENV not in os.environ, reason=f"{POSTGRES_ENV} is not set (.ci/run sets it)")
def test_postgres_upgrade_puts_every_row_in_the_workspaces_default_team():
    _check_squad_migration(fresh_postgres_database())


# ----- 0016: a survey run keeps its questions ----------------------------------------------------------------------

def test_sqlite_upgrade_keeps_runs_and_asks_their_surveys_questions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'questions.db'}")
    try:
        upgrade(engine, "0015")
        runs = Table("survey_run", MetaData(), autoload_with=engine)
        with engine.begin() as conn:
            conn.execute(insert(runs), [{**_TEAM_ROWS_0010["survey_run"][0], "squad": ""}])
        upgrade(engine)
        (row,) = _read(engine, Table("survey_run", MetaData(), autoload_with=engine))
        assert row["questions"] is None and row["period"] == "2026-W48"  # a run from before: the survey's questions
        command.downgrade(alembic_config(engine), "0015")
        (row,) = _read(engine, Table("survey_run", MetaData(), autoload_with=engine))
        assert "questions" not in row and row["period"] == "2026-W48"
    finally:
        engine.dispose()
