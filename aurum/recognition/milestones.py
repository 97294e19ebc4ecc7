"""Which values are worth a celebration.

- The card's status decides whether a KPI meets its target (aurum.kpis.status.state_of, the one rule): a value above
  a band (velocity 70 against 40–60) is "at risk" on the card, so it is neither a target reached nor a stretch goal
  beaten, even where the seed's stretch goal (65) lies above the band.
- A KPI that counts problems with a target of 0 (deployment failures, dependency conflicts) back at 0 is a recovery,
  not a milestone: the DeploymentFailed alert reports the deployments' as resolved, and zero conflicts counts toward
  Phase 1, whose completion is celebrated.
- A ratio KPI needs enough samples behind its value: one 👍 on one alert is 100 % alert accuracy but says nothing.
  `reports.celebration_min_samples` (default 10) votes within the value's window are needed first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from aurum.core.context import Context
from aurum.kpis.catalog import Kpi
from aurum.kpis.status import state_of
from storage import alerts as alerts_repo

TARGET, STRETCH = "target", "stretch"


def _alert_votes(session: Session, team_id: str, at: datetime) -> int:
    """The 👍/👎 votes behind the alert accuracy of `at` (alerts fired within its window)."""
    return sum(alerts_repo.feedback_counts(session, team_id, at - alerts_repo.FEEDBACK_WINDOW).values())


# Ratio KPIs and how many samples stand behind their value at a moment.
SAMPLES: dict[str, Callable[[Session, str, datetime], int]] = {
    "alert_accuracy_percentage": _alert_votes,
}


def beyond_stretch(kpi: Kpi, value: float) -> bool:
    if kpi.stretch is None:
        return False
    return value >= kpi.stretch if kpi.direction == "higher" else value <= kpi.stretch


def recovery_only(kpi: Kpi) -> bool:
    """A count of problems whose target is none at all: meeting it again is a recovery, not a milestone."""
    target = kpi.target
    return kpi.direction == "lower" and target is not None and target.op in ("<=", "=") and target.high == 0


def levels(kpi: Kpi, value: float) -> dict[str, bool]:
    """Whether the value meets the target and beats the stretch goal, as the KPI's card shows it."""
    on_target = state_of(kpi, value) == "on_track"
    found = {}
    if kpi.target is not None:
        found[TARGET] = on_target
    if kpi.stretch is not None:
        found[STRETCH] = beyond_stretch(kpi, value) and (kpi.target is None or on_target)
    return found


def enough_samples(ctx: Context, session: Session, team_id: str, kpi: Kpi, at: datetime) -> bool:
    count = SAMPLES.get(kpi.key)
    return count is None or count(session, team_id, at) >= ctx.config.reports.celebration_min_samples


def reached(ctx: Context, session: Session, team_id: str, kpi: Kpi, value: float, at: datetime) -> dict[str, bool]:
    """The levels a value of `at` counts as reaching: none while a ratio KPI has too few samples behind it."""
    meaningful = enough_samples(ctx, session, team_id, kpi, at)
    return {level: met and meaningful for level, met in levels(kpi, value).items()}
