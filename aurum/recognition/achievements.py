"""A period's team achievements for the reports, one line each: a KPI that crossed its target (or stretch goal)
twice in the period, or a phase completed twice, is one achievement, and the reports leave out the KPI movement
("reached its target") that would repeat a recorded crossing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage import recognition as repo
from storage.recognition import Achievement

CROSSING = "celebrate"
PHASE_COMPLETE = "phase_complete"


def crossing_key(kpi: str, level: str, count: int) -> str:
    """The achievement key of a KPI's `count`-th crossing of a level (target or stretch)."""
    return f"{CROSSING}:{kpi}:{level}:{count}"


def crossed(row: Achievement) -> str | None:
    """The KPI whose crossing an achievement records, if it records one."""
    parts = row.key.split(":")
    return parts[1] if len(parts) == 4 and parts[0] == CROSSING else None


def _identity(row: Achievement) -> str:
    """Repeats of one achievement share it: a KPI level's crossings, a phase's completions (the count is dropped)."""
    if crossed(row) is not None or row.kind == PHASE_COMPLETE:
        return row.key.rsplit(":", 1)[0]
    return row.key


@dataclass(frozen=True)
class Period:
    achievements: list[Achievement]  # newest first, one per achievement
    crossed: frozenset[str]  # KPIs with a recorded crossing: their movement would say it again


def between(session: Session, team_id: str, since: datetime, until: datetime) -> Period:
    seen: set[str] = set()
    kept = []
    for row in repo.achievements_between(session, team_id, since, until):  # newest first: the latest repeat stays
        identity = _identity(row)
        if identity not in seen:
            seen.add(identity)
            kept.append(row)
    return Period(kept, frozenset(k for k in map(crossed, kept) if k is not None))
