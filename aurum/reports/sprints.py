"""Sprints for the reports: progress and burndown of the active sprint, the 3-sprint velocity average, and the
manual `/sprint start|progress|end` entries (Jira sprints arrive through the collector into the same table)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.core import ingest
from aurum.core.context import Context
from aurum.core.errors import InputError
from storage import snapshots
from storage import sprints as repo
from storage.rollups import SnapshotBase
from storage.sprints import Sprint
from storage.types import DEFAULT_SQUAD

VELOCITY = "story_points_completed_per_sprint"
SPRINT_LENGTH = timedelta(days=14)
BURNDOWN_SLACK = 0.10  # on track while no more than 10 % of the commitment behind the straight line
AVERAGE_OF = 3


@dataclass(frozen=True)
class Progress:
    sprint: Sprint
    committed: float | None
    completed: float
    elapsed: float  # share of the sprint's days gone, 0..1
    day: int
    days: int

    @property
    def percent(self) -> float | None:
        return self.completed / self.committed * 100.0 if self.committed else None

    @property
    def expected(self) -> float | None:
        return self.committed * self.elapsed if self.committed else None

    @property
    def on_track(self) -> bool | None:
        """Burndown: points done against the straight line from the commitment to zero."""
        if not self.committed:
            return None
        return self.completed >= (self.expected or 0.0) - BURNDOWN_SLACK * self.committed


@dataclass(frozen=True)
class VelocityAverage:
    value: float
    values: list[float]
    source: str  # "sprints" | "snapshots"


def progress(sprint: Sprint, now: datetime) -> Progress:
    start = sprint.start_at or now
    end = sprint.end_at or start + SPRINT_LENGTH
    total = max((end - start).total_seconds(), 1.0)
    elapsed = min(1.0, max(0.0, (now - start).total_seconds() / total))
    days = max(1, round(total / 86400))
    return Progress(sprint=sprint, committed=sprint.committed_points, completed=sprint.completed_points or 0.0,
                    elapsed=elapsed, day=min(days, int((now - start).total_seconds() // 86400) + 1), days=days)


def velocity_average(session: Session, team_id: str, until: datetime,
                     count: int = AVERAGE_OF, squad: str = DEFAULT_SQUAD) -> VelocityAverage | None:
    """Mean completed points of the last `count` sprints closed by `until`; without sprints in the table, the last
    `count` velocity snapshots up to `until`."""
    closed = [s for s in repo.closed(session, team_id, until=until, limit=count, squad=squad)
              if s.completed_points is not None]
    if closed:
        values = [float(s.completed_points) for s in closed]  # type: ignore[arg-type]
        return VelocityAverage(sum(values) / len(values), values, "sprints")
    points = snapshots.series(session, team_id, VELOCITY, since=until - SPRINT_LENGTH * (count + 2), until=until,
                              squad=squad)
    values = [v for _, v in points][-count:]
    if not values:
        return None
    return VelocityAverage(sum(values) / len(values), list(reversed(values)), "snapshots")


def current(session: Session, team_id: str, now: datetime, squad: str = DEFAULT_SQUAD) -> Progress | None:
    sprint = repo.active(session, team_id, squad)
    return progress(sprint, now) if sprint is not None else None


# --- manual sprints (/sprint) ---------------------------------------------------------------------------------------


def start(ctx: Context, session: Session, team_id: str, name: str, committed: float | None, by: str) -> Sprint:
    running = repo.active(session, team_id, ctx.squad)
    if running is not None:
        raise InputError(f"Sprint '{running.name}' is still active; close it first with `/sprint end <points done>`.")
    now = ctx.now()
    return repo.add(session, Sprint(team_id=team_id, squad=ctx.squad, board="",
                                    external_id=f"manual-{uuid.uuid4().hex[:12]}", name=name, state=repo.ACTIVE,
                                    start_at=now, end_at=now + SPRINT_LENGTH,
                                    committed_points=committed, completed_points=0.0, source=f"manual:{by}"))


def record_progress(session: Session, team_id: str, completed: float, squad: str = DEFAULT_SQUAD) -> Sprint:
    sprint = repo.active(session, team_id, squad)
    if sprint is None:
        raise InputError("No active sprint. Start one with `/sprint start <name> [committed points]`.")
    sprint.completed_points = completed
    session.add(sprint)
    return sprint


def end(ctx: Context, session: Session, team_id: str, completed: float | None) -> Sprint:
    """Close the active sprint and store its velocity as a KPI snapshot (which the retrospective then reads)."""
    sprint = repo.active(session, team_id, ctx.squad)
    if sprint is None:
        raise InputError("No active sprint to end. Start one with `/sprint start <name> [committed points]`.")
    now = ctx.now()
    if completed is not None:
        sprint.completed_points = completed
    elif not sprint.completed_points:
        raise InputError(f"How many points did '{sprint.name}' complete? `/sprint end 46` closes it with 46.")
    sprint.state, sprint.completed_at = repo.CLOSED, now
    session.add(sprint)
    session.flush()
    if sprint.completed_points is not None:
        ingest.store(ctx, session, team_id, [SnapshotBase(kpi=VELOCITY, value=float(sprint.completed_points), at=now,
                                                          source="sprint")])
    return sprint
