"""A KPI between two moments: its values, the change, and whether it was a win, a regression or a target reached."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from aurum.core.context import Context
from aurum.kpis import formatting
from aurum.kpis.catalog import Kpi
from aurum.kpis.status import state_of
from storage import snapshots
from storage.types import DEFAULT_SQUAD

NOTABLE = 5.0  # a move of at least 5 points of the baseline→goal way (or 5 % of the value) counts as a win/regression


@dataclass(frozen=True)
class Movement:
    """A KPI between two moments: values, the change, and how much of the way to its goal it moved."""

    kpi: Kpi
    start: float | None
    end: float | None

    @property
    def change(self) -> float | None:
        return None if self.start is None or self.end is None else self.end - self.start

    @property
    def score(self) -> float | None:
        """Points of progress gained (positive = better): share of the baseline→goal way, else relative change."""
        if self.change is None:
            return None
        kpi = self.kpi
        if kpi.baseline is not None and kpi.goal is not None and kpi.goal != kpi.baseline:
            return self.change / (kpi.goal - kpi.baseline) * 100.0
        if not self.start:
            return None
        sign = 1.0 if kpi.direction == "higher" else -1.0
        return sign * self.change / abs(self.start) * 100.0

    @property
    def reached_target(self) -> bool:
        return (self.end is not None and state_of(self.kpi, self.end) == "on_track"
                and (self.start is None or state_of(self.kpi, self.start) != "on_track"))

    @property
    def fell_off_target(self) -> bool:
        return (self.start is not None and self.end is not None and state_of(self.kpi, self.start) == "on_track"
                and state_of(self.kpi, self.end) != "on_track")

    @property
    def improved(self) -> bool:
        return self.score is not None and self.score >= NOTABLE

    @property
    def regressed(self) -> bool:
        return self.score is not None and self.score <= -NOTABLE

    def change_text(self) -> str:
        if self.change is None:
            return "no earlier value"
        pct = self.change / abs(self.start) * 100.0 if self.start else None
        return formatting.change(self.kpi, self.change, pct)

    def line(self) -> str:
        """`API p95 response time: 350 ms → 285 ms (↓ 19%)`."""
        if self.end is None:
            return f"*{self.kpi.name}*: no data"
        if self.start is None:
            return f"*{self.kpi.name}*: {formatting.value(self.kpi, self.end)} (new)"
        return (f"*{self.kpi.name}*: {formatting.value(self.kpi, self.start)} → "
                f"{formatting.value(self.kpi, self.end)} ({self.change_text()})")


def value_at(session: Session, team_id: str, key: str, at: datetime, squad: str = DEFAULT_SQUAD) -> float | None:
    return _value(snapshots.latest(session, team_id, key, before=at, squad=squad))


def movement(session: Session, team_id: str, kpi: Kpi, since: datetime, until: datetime) -> Movement:
    return Movement(kpi, value_at(session, team_id, kpi.key, since), value_at(session, team_id, kpi.key, until))


def movements(ctx: Context, session: Session, team_id: str, since: datetime, until: datetime,
              kpis: Iterable[Kpi] | None = None) -> list[Movement]:
    """Every KPI with a target (or the given ones) from `since` to `until`."""
    chosen = list(kpis) if kpis is not None else [k for k in ctx.catalog if k.target is not None]
    start = snapshots.latest_many(session, team_id, {kpi.key: since for kpi in chosen}, squad=ctx.squad)
    end = snapshots.latest_many(session, team_id, {kpi.key: until for kpi in chosen}, squad=ctx.squad)
    return [Movement(kpi, _value(start.get(kpi.key)), _value(end.get(kpi.key))) for kpi in chosen]


def _value(row) -> float | None:
    return row.value if row is not None else None
