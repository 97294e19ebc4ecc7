"""Demo history: 26 weeks of every KPI moving from the seed's baseline toward its target, with noise, and the
sprints behind the velocity."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.kpis.catalog import Catalog, Kpi
from storage import snapshots
from storage.rollups import SnapshotBase
from storage.sprints import Sprint

WEEKS = 26
SOURCE = "demo"
# Where the seed's own dashboards show each metric today; other KPIs end part of the way to their goal.
SEED_NOW = {
    "api_response_time_p95": 285, "api_response_time_p99": 450, "requests_per_second": 127,
    "api_error_rate_percentage": 0.08, "cpu_usage_percentage": 45, "memory_usage_percentage": 62,
    "disk_usage_percentage": 34, "network_io_mb_per_second": 125, "test_coverage_percentage": 81,
    "service_availability_percentage": 99.7, "incident_recovery_time_minutes": 38,
    "story_points_completed_per_sprint": 52, "code_review_time_days": 2.1, "ci_success_rate_percentage": 94,
    "budget_utilization_percentage": 67,
}
CADENCE = {"points": timedelta(days=14), "features": timedelta(days=7)}
FAST = {"ms", "rps", "mb_per_s"}


def _endpoints(kpi: Kpi, rng: random.Random) -> tuple[float, float]:
    goal = kpi.goal if kpi.goal is not None else (kpi.target.nearest(0) if kpi.target else None)
    end = SEED_NOW.get(kpi.key)
    if goal is None:
        level = end if end is not None else 50.0
        return level, level
    start = kpi.baseline
    if start is None:
        worse = 1.25 if kpi.direction == "lower" else 0.75
        start = goal * worse if goal else (1.0 if kpi.direction == "lower" else 0.0)
    if end is None:
        end = start + (goal - start) * rng.uniform(0.45, 1.15)
    return start, end


def _step(kpi: Kpi) -> timedelta:
    if kpi.unit in CADENCE:
        return CADENCE[kpi.unit]
    return timedelta(hours=6) if kpi.unit in FAST or kpi.category == "system" else timedelta(days=1)


def _clip(kpi: Kpi, value: float) -> float:
    """Into the values the KPI can hold (its range), whole numbers for counted units."""
    low, high = kpi.allowed
    value = min(high, value) if high is not None else value
    value = max(low, value) if low is not None else value
    return round(value) if kpi.unit in ("points", "features", "count", "lines") else round(value, 3)


def history(catalog: Catalog, now: datetime, seed: int = 42) -> list[SnapshotBase]:
    rng = random.Random(seed)
    points: list[SnapshotBase] = []
    begin = now - timedelta(weeks=WEEKS)
    for kpi in catalog:
        start, end = _endpoints(kpi, rng)
        step = _step(kpi)
        spread = max(abs(end - start) * 0.08, abs(end) * 0.01, 1e-3)
        if kpi.unit == "percent" and max(start, end) > 99:
            spread = max(abs(end - start) * 0.1, 0.02)
        steps = int((now - begin) / step)
        for i in range(steps + 1):
            at = now - step * (steps - i)
            progress = i / steps if steps else 1.0
            noise = rng.gauss(0, spread) if i < steps else 0.0
            points.append(SnapshotBase(kpi=kpi.key, value=_clip(kpi, start + (end - start) * progress + noise),
                                       at=at.replace(microsecond=0), source=SOURCE))
    return points


def has_data(session: Session, team_id: str) -> bool:
    return snapshots.any_stored(session, team_id)


def sprints(points: list[SnapshotBase], now: datetime, seed: int = 7) -> list[Sprint]:
    """A closed sprint for each velocity snapshot (completed = the snapshot, committed a little above or below it),
    and an active sprint starting at the last one."""
    rng = random.Random(seed)
    velocity = sorted((p for p in points if p.kpi == "story_points_completed_per_sprint"), key=lambda p: p.at)
    found = []
    for number, point in enumerate(velocity, start=1):
        found.append(Sprint(team_id="", external_id=f"demo-{number}", name=f"Sprint {number}", state="closed",
                            start_at=point.at - CADENCE["points"], end_at=point.at, completed_at=point.at,
                            committed_points=float(round(point.value + rng.choice([-2, 0, 2, 3, 5, 8]))),
                            completed_points=point.value, source=SOURCE))
    number = len(found) + 1
    found.append(Sprint(team_id="", external_id=f"demo-{number}", name=f"Sprint {number}", state="active",
                        start_at=now, end_at=now + CADENCE["points"], committed_points=50.0, completed_points=0.0,
                        source=SOURCE))
    return found


def load(session: Session, catalog: Catalog, team_id: str, now: datetime) -> int:
    """Demo snapshots (their count is returned) and the sprints behind the velocity history."""
    points = history(catalog, now)
    for sprint in sprints(points, now):
        sprint.team_id = team_id
        session.add(sprint)
    return snapshots.add_many(session, team_id, points)
