"""An alert rule's dry run: how many times it would have fired over the stored series of the last 30 days, by the
rule engine's own replay (aurum.alerts.ruletest.replay_samples, evaluated every minute as the bot does)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.alerts.rules import AlertRule, MissingData
from aurum.alerts.ruletest import firings, replay_samples
from storage import snapshots

WINDOW = timedelta(days=30)
EVERY = timedelta(minutes=1)  # the alerts job's interval


def fired_times(session: Session, team_id: str, rule: AlertRule, now: datetime, missing: MissingData) -> int:
    start = now - WINDOW
    samples = {kpi: snapshots.series(session, team_id, kpi, start - rule.max_age, now) for kpi in sorted(rule.kpis)}
    states = replay_samples([rule], samples, EVERY, int(WINDOW / EVERY), missing, start=start)
    return firings(states, rule.name)
