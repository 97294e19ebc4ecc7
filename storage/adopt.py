"""One workspace adopting another's rows: the data stored under the console workspace before Slack was connected
moves to the real workspace when that is registered (bot/runtime.py, bot/installations.py).

Every table with a team_id column takes part (storage.purge.team_tables, so tables added later are covered). Where
the move would break a unique key that holds team_id — the same snapshot (KPI, source, time), job period, alert,
survey period, … in both workspaces — the real workspace's row is kept and the console's is dropped. The rollups are
rebuilt from the snapshots afterwards, and the console's workspace row goes last. Running it again moves nothing.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import CursorResult, Table, and_, delete, exists, select, text, update
from sqlalchemy.sql.schema import PrimaryKeyConstraint, UniqueConstraint
from sqlmodel import Session

from storage import rollups
from storage.purge import team_tables
from storage.rollups import KpiDay, KpiHour, KpiSnapshot
from storage.surveys import SurveyAnswer, SurveyRespondent, SurveyRun
from storage.types import table_of
from storage.workspaces import CONSOLE_TEAM, Workspace, ensure, known_team_ids

# Tables whose rows are derived from others: dropped under the old team, rebuilt under the new one.
DERIVED = {table_of(KpiHour).name, table_of(KpiDay).name}


def has_rows(session: Session, team_id: str) -> bool:
    """True when any table except the workspace list holds a row of the team."""
    skip = {table_of(Workspace).name}
    return any(session.execute(select(table.c.team_id).where(table.c.team_id == team_id).limit(1)).first()
               for table in team_tables() if table.name not in skip)


def teams_with_data(session: Session) -> set[str]:
    """Every team id that has a row in any table (registered as a workspace or not)."""
    found: set[str] = set()
    for table in team_tables():
        found.update(session.scalars(select(table.c.team_id).distinct()))
    return found


def _team_keys(table: Table) -> list[list[str]]:
    """The other columns of each unique key (constraint or index) of `table` that includes team_id."""
    keys = [[c.name for c in constraint.columns] for constraint in table.constraints
            if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint)]
    keys += [[c.name for c in index.columns] for index in table.indexes if index.unique]
    return [[c for c in key if c != "team_id"] for key in keys if "team_id" in key]


def _drop_clashes(session: Session, table: Table, source: str, target: str) -> int:
    """Delete the source's rows whose unique key the target already holds (the target's row is kept)."""
    dropped = 0
    for others in _team_keys(table):
        if not others:
            continue
        twin = table.alias("twin")
        same = and_(twin.c.team_id == target, *(twin.c[c] == table.c[c] for c in others))
        result = session.execute(delete(table).where(table.c.team_id == source, exists().where(same)))
        dropped += cast(CursorResult, result).rowcount or 0
    return dropped


def _drop_clashing_runs(session: Session, source: str, target: str) -> int:
    """A survey period run in both workspaces: keep the target's run, drop the source's with its respondents and
    answers (anonymous answer sets are never merged into another run)."""
    run, twin = table_of(SurveyRun), table_of(SurveyRun).alias("twin")
    clashing = select(run.c.id).where(run.c.team_id == source, exists().where(
        twin.c.team_id == target, twin.c.survey == run.c.survey, twin.c.period == run.c.period))
    ids: list[int] = list(session.scalars(clashing))
    if not ids:
        return 0
    for child in (table_of(SurveyAnswer), table_of(SurveyRespondent)):
        session.execute(delete(child).where(child.c.run_id.in_(ids)))
    session.execute(delete(run).where(run.c.id.in_(ids)))
    return len(ids)


def adopt(session: Session, source: str, target: str) -> dict[str, tuple[int, int]]:
    """Move every row of team `source` to team `target`, in the caller's transaction. Returns, per table with rows
    of the source, (rows moved, rows dropped because the target already had that key). Idempotent."""
    if source == target or not has_rows(session, source):
        if source != target:
            session.execute(delete(table_of(Workspace)).where(table_of(Workspace).c.team_id == source))
        return {}
    if session.get_bind().dialect.name == "postgresql":  # two processes registering at once: one adopts
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"adopt:{source}"})
    report: dict[str, tuple[int, int]] = {}
    runs_dropped = _drop_clashing_runs(session, source, target)
    moved_snapshots = False
    for table in team_tables():  # children before parents
        if table.name == table_of(Workspace).name:
            continue
        if table.name in DERIVED:
            session.execute(delete(table).where(table.c.team_id == source))
            continue
        dropped = _drop_clashes(session, table, source, target)
        result = session.execute(update(table).where(table.c.team_id == source).values(team_id=target))
        moved = cast(CursorResult, result).rowcount or 0
        if table.name == table_of(SurveyRun).name:
            dropped += runs_dropped
        if moved or dropped:
            report[table.name] = (moved, dropped)
            moved_snapshots = moved_snapshots or (table.name == table_of(KpiSnapshot).name and moved > 0)
    if moved_snapshots:
        rollups.rebuild(session, target)
    session.execute(delete(table_of(Workspace)).where(table_of(Workspace).c.team_id == source))
    return report


def register(session: Session, team_id: str, name: str = "", *, token_sha256: str | None = None,
             adopt_console: bool = True) -> dict[str, tuple[int, int]]:
    """Register a workspace (storage.workspaces.ensure) and, unless it is the console's own or `adopt_console` is
    False, let it adopt the console workspace's rows. Returns what was adopted, per table (see adopt)."""
    ensure(session, team_id, name, token_sha256)
    if team_id == CONSOLE_TEAM or not adopt_console:
        return {}
    return adopt(session, CONSOLE_TEAM, team_id)


def only_real_workspace(session: Session, team_id: str) -> bool:
    """True when `team_id` is the one workspace known besides the console's (an OAuth install adopts the console's
    rows only then: with several workspaces, whose they were is not known)."""
    return [t for t in known_team_ids(session) if t != CONSOLE_TEAM] == [team_id]
