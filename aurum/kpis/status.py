"""Where a KPI stands: latest value, status against target, change, progress from baseline, next phase target.

Status rule (also in the README):
- on track  — the latest value meets the target (inside the band, or on the right side of the bound);
- at risk   — it misses the target but has closed at least half of the gap between the baseline and the
              target's boundary (without a baseline: it is within 10% of the boundary);
- off track — it misses the target and has closed less than half of that gap (or moved away from it);
- no data   — nothing has been recorded yet; KPIs without a target are shown as "tracked".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from aurum.kpis.catalog import Kpi

State = Literal["on_track", "at_risk", "off_track", "no_data", "tracked"]
EMOJI: dict[str, str] = {
    "on_track": "🟢", "at_risk": "🟡", "off_track": "🔴", "no_data": "⚪", "tracked": "🔵",
}
LABEL: dict[str, str] = {
    "on_track": "on track", "at_risk": "at risk", "off_track": "off track", "no_data": "no data", "tracked": "tracked",
}
STALE_AFTER = timedelta(days=2)


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float
    source: str = "manual"


@dataclass(frozen=True)
class KpiStatus:
    kpi: Kpi
    latest: Point | None
    previous: Point | None
    state: State
    change_abs: float | None
    change_pct: float | None
    progress_pct: float | None
    next_phase: tuple[int, float] | None
    stale: bool

    @property
    def emoji(self) -> str:
        return EMOJI[self.state]

    @property
    def label(self) -> str:
        return LABEL[self.state]

    @property
    def improving(self) -> bool | None:
        if not self.change_abs:
            return None
        return (self.change_abs > 0) == (self.kpi.direction == "higher")

    @property
    def meets_target(self) -> bool:
        return self.state == "on_track"


def state_of(kpi: Kpi, value: float | None) -> State:
    if value is None:
        return "no_data"
    if kpi.target is None:
        return "tracked"
    if kpi.target.met(value):
        return "on_track"
    boundary = kpi.target.nearest(value)
    if kpi.baseline is not None and kpi.baseline != boundary:
        closed = (value - kpi.baseline) / (boundary - kpi.baseline)
        return "at_risk" if closed >= 0.5 else "off_track"
    scale = abs(boundary) or 1.0
    return "at_risk" if abs(value - boundary) / scale <= 0.10 else "off_track"


def progress(kpi: Kpi, value: float) -> float | None:
    """Share of the way from baseline to goal, in percent (over 100 past the goal)."""
    if kpi.baseline is None or kpi.goal is None or kpi.goal == kpi.baseline:
        return None
    return (value - kpi.baseline) / (kpi.goal - kpi.baseline) * 100.0


def next_phase_target(kpi: Kpi, value: float | None, current_phase: int) -> tuple[int, float] | None:
    """The first phase target, from the current phase on, that the latest value does not meet yet."""
    for phase in sorted(p for p in kpi.phase_targets if p >= current_phase):
        goal = kpi.phase_targets[phase]
        reached = value is not None and (value >= goal if kpi.direction == "higher" else value <= goal)
        if not reached:
            return phase, goal
    return None


def evaluate(
    kpi: Kpi, latest: Point | None, previous: Point | None, now: datetime, current_phase: int = 1
) -> KpiStatus:
    value = latest.value if latest else None
    change_abs = change_pct = None
    if latest and previous:
        change_abs = latest.value - previous.value
        change_pct = change_abs / abs(previous.value) * 100.0 if previous.value else None
    return KpiStatus(
        kpi=kpi,
        latest=latest,
        previous=previous,
        state=state_of(kpi, value),
        change_abs=change_abs,
        change_pct=change_pct,
        progress_pct=progress(kpi, value) if value is not None else None,
        next_phase=next_phase_target(kpi, value, current_phase),
        stale=bool(latest and now - latest.at > STALE_AFTER),
    )
