"""The goals a forecast answers for — the target's boundary, the next phase target, the stretch goal — and the
date the forecast crosses each, with its 80 % interval.

A goal is "reached on day d" when the expected daily mean of day d meets it. The interval runs from the first
day the favourable 10 % quantile meets it (a 10 % chance by then) to the first day the unfavourable one does
(a 90 % chance by then).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from aurum.forecast.intervals import Forecast
from aurum.forecast.series import to_datetime
from aurum.kpis.catalog import Kpi, Target
from aurum.kpis.status import next_phase_target

MAX_HORIZON_DAYS = 730
CrossingState = Literal["met", "expected", "unreachable"]


@dataclass(frozen=True)
class Goal:
    label: str  # "target", "phase 2 target", "final target", …
    value: float  # the boundary to reach
    toward: int  # +1: the value has to rise to reach it, −1: fall
    meets: Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Crossing:
    goal: Goal
    state: CrossingState
    date: date | None = None  # expected day
    earliest: dt.date | None = None  # 10 % chance by then (dt.date: the field `date` hides the type here)
    latest: dt.date | None = None  # 90 % chance by then; None: later than MAX_HORIZON_DAYS
    reason: str = ""  # why unreachable


def _target_meets(target: Target) -> Callable[[np.ndarray], np.ndarray]:
    low, high = target.low, target.high
    ops: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "<": lambda v: v < high, "<=": lambda v: v <= high, ">": lambda v: v > low, ">=": lambda v: v >= low,
        "=": lambda v: v == low, "range": lambda v: (v >= low) & (v <= high),
    }
    return ops[target.op]


def _bound(kpi: Kpi, value: float) -> Callable[[np.ndarray], np.ndarray]:
    return (lambda v: v >= value) if kpi.direction == "higher" else (lambda v: v <= value)


def _toward(kpi: Kpi, boundary: float, latest: float | None) -> int:
    if latest is None or latest == boundary:
        return 1 if kpi.direction == "higher" else -1
    return 1 if boundary > latest else -1


def goals(kpi: Kpi, latest: float | None, current_phase: int) -> list[Goal]:
    """Target boundary, next phase target and stretch goal, in that order (those the KPI has)."""
    found: list[Goal] = []
    phase = next_phase_target(kpi, latest, current_phase)
    if kpi.target is not None:
        boundary = kpi.target.nearest(latest if latest is not None else kpi.baseline or 0.0)
        label = "target"
        if phase is not None and phase[1] == boundary:  # MTTR: target <30 and phase 2 target 30 are one goal
            label, phase = f"target and phase {phase[0]} target", None
        found.append(Goal(label, boundary, _toward(kpi, boundary, latest), _target_meets(kpi.target)))
    if phase is not None:
        number, value = phase
        found.append(Goal(f"phase {number} target", value, _toward(kpi, value, latest), _bound(kpi, value)))
    if kpi.stretch is not None:
        found.append(Goal(kpi.stretch_label, kpi.stretch, _toward(kpi, kpi.stretch, latest),
                          _bound(kpi, kpi.stretch)))
    return found


def local_date(t: float, tz) -> date:
    return to_datetime(t).astimezone(tz).date()


def future_days(forecast: Forecast, days: int = MAX_HORIZON_DAYS) -> np.ndarray:
    return forecast.origin_day + np.arange(1, days + 1)


def crossing(forecast: Forecast, goal: Goal, latest: float | None, tz,
             path: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None) -> Crossing:
    """When the forecast reaches a goal; `path` (t, mean, low, high over the next days) may be shared."""
    if latest is not None and bool(goal.meets(np.array([latest]))[0]):
        return Crossing(goal, "met")
    t, mean, low, high = path if path is not None else daily_path(forecast)
    favourable, unfavourable = (high, low) if goal.toward > 0 else (low, high)

    def first(values: np.ndarray) -> date | None:
        hits = np.flatnonzero(goal.meets(values))
        return local_date(t[hits[0]], tz) if len(hits) else None

    expected = first(mean)
    if expected is None:
        heading = forecast.fit.slope * goal.toward
        reason = "moving away from it" if heading < 0 else "flat" if heading == 0 else "more than 2 years away"
        return Crossing(goal, "unreachable", earliest=first(favourable), reason=reason)
    return Crossing(goal, "expected", date=expected, earliest=first(favourable) or expected,
                    latest=first(unfavourable))


def daily_path(forecast: Forecast, days: int = MAX_HORIZON_DAYS
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t = forecast.day_time(future_days(forecast, days))
    mean, low, high = forecast.predict(t)
    return t, mean, low, high
