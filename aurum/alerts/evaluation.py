"""Evaluating the rules: on every new batch of snapshots (a listener inside the ingest transaction) and on the
one-minute tick. Each rule's alert state is kept in `alert_state`; a firing opens an `alert_episode`, whose
message `aurum.alerts.notify` keeps up to date.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from aurum.alerts import engine, notify
from aurum.alerts.rules import AlertRule, render
from aurum.catalog import Kpi
from aurum.context import Context
from aurum.formatting import number
from storage import alerts as repo
from storage.alerts import AlertEpisode, AlertSilence, AlertState
from storage.models import KpiSnapshot, SnapshotBase

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    rule: str
    transition: engine.Transition
    at: datetime


def latest_values(session: Session, team_id: str, keys: Iterable[str], now: datetime,
                  oldest: datetime) -> dict[str, tuple[datetime, float]]:
    """The newest value at or before `now` (and not before `oldest`) of each KPI, in one query."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    ranked = (
        select(KpiSnapshot.kpi, KpiSnapshot.at, KpiSnapshot.value,
               func.row_number().over(partition_by=KpiSnapshot.kpi,
                                      order_by=(KpiSnapshot.at.desc(), KpiSnapshot.id.desc())).label("rank"))
        .where(KpiSnapshot.team_id == team_id, KpiSnapshot.kpi.in_(wanted), KpiSnapshot.at <= now,
               KpiSnapshot.at >= oldest)
        .subquery()
    )
    rows = session.execute(select(ranked.c.kpi, ranked.c.at, ranked.c.value).where(ranked.c.rank == 1))
    return {kpi: (at, value) for kpi, at, value in rows}


def _state(row: AlertState | None) -> engine.State:
    if row is None:
        return engine.INACTIVE
    return engine.State(row.state, row.active_at, row.fired_at, row.keep_firing_since, row.value,  # type: ignore[arg-type]
                        row.no_data)


def _store(row: AlertState, state: engine.State, now: datetime) -> None:
    row.state, row.active_at, row.fired_at = state.state, state.active_at, state.fired_at
    row.keep_firing_since, row.value, row.no_data, row.updated_at = state.keep_firing_since, state.value, \
        state.no_data, now


def annotations(ctx: Context, rule: AlertRule, value: float | None) -> dict[str, str]:
    variables = {"value": "no data" if value is None else number(value), "threshold": number(rule.threshold),
                 "labels": rule.all_labels, "kpi": rule.kpi or rule.expr,
                 "runbook_base": (ctx.config.alerts.runbook_base_url or "").rstrip("/")}
    return {name: render(template, variables) for name, template in rule.annotations.items()}


def open_episode(ctx: Context, session: Session, team_id: str, rule: AlertRule, state: engine.State,
                 now: datetime) -> AlertEpisode:
    notes = annotations(ctx, rule, state.value)
    episode = AlertEpisode(
        team_id=team_id, rule=rule.name, fingerprint=rule.fingerprint, source="rule", severity=rule.severity,
        kpi=rule.kpi, op=rule.op, threshold=rule.threshold, value=state.value, no_data=state.no_data,
        summary=notes.get("summary", ""), runbook=notes.get("runbook", ""), link="",
        labels=json.dumps(rule.all_labels), channels=json.dumps(rule.channels),
        started_at=state.active_at or now, fired_at=state.fired_at or now)
    session.add(episode)
    session.flush()
    return episode


def evaluate(ctx: Context, session: Session, team_id: str, now: datetime | None = None,
             kpis: set[str] | None = None, rules: Sequence[AlertRule] | None = None) -> list[Change]:
    """Evaluate the rules (those reading `kpis`, when given) at `now` and act on every transition."""
    now = now or ctx.now()
    chosen = [r for r in (rules if rules is not None else ctx.config.alerts.enabled())
              if kpis is None or r.kpis & kpis]
    if not chosen:
        return []
    oldest = now - max(rule.max_age for rule in chosen)
    values = latest_values(session, team_id, set().union(*(r.kpis for r in chosen)), now, oldest)
    rows = repo.states(session, team_id, {r.name for r in chosen}, lock=True)
    changes: list[Change] = []
    touched: list[tuple[AlertRule, AlertState, engine.State, engine.Transition | None]] = []
    fresh_by_age: dict[timedelta, dict[str, float | None]] = {}
    for rule in chosen:
        row = rows.get((rule.name, rule.fingerprint))
        current = _state(row)
        fresh = fresh_by_age.get(rule.max_age)
        if fresh is None:
            fresh = fresh_by_age[rule.max_age] = {kpi: value for kpi, (at, value) in values.items()
                                                  if now - at <= rule.max_age}
        value = rule.value(fresh)
        holds = None if value is None else rule.holds(value)
        result = engine.step(current, holds, value, now, rule.for_, rule.keep_firing_for,
                             ctx.config.alerts.missing_policy(rule))
        if result.state == current:
            continue
        if row is None:
            row = repo.add_state(session, AlertState(team_id=team_id, rule=rule.name, fingerprint=rule.fingerprint))
        touched.append((rule, row, result.state, result.transition))
        if result.transition is not None:
            changes.append(Change(rule.name, result.transition, now))
    if not touched:
        return changes
    episodes = repo.episodes_by_id(session, team_id, [row.episode_id for _, row, _, _ in touched if row.episode_id])
    silences = repo.active_silences(session, team_id, now)
    with session.no_autoflush:  # one flush at the end instead of one per query
        for rule, row, state, transition in touched:
            _apply(ctx, session, team_id, rule, row, state, transition, episodes, silences, now)
    return changes


def _apply(ctx: Context, session: Session, team_id: str, rule: AlertRule, row: AlertState, state: engine.State,
           transition: engine.Transition | None, episodes: dict[int, AlertEpisode],
           silences: dict[str, AlertSilence], now: datetime) -> None:
    """Store one alert's new state and carry it over to its episode and message."""
    _store(row, state, now)
    episode = episodes.get(row.episode_id) if row.episode_id else None
    if transition == "firing":
        episode = open_episode(ctx, session, team_id, rule, state, now)
        row.episode_id = episode.id
    elif episode is not None and episode.status == "firing":
        if transition == "resolved":
            episode.status, episode.resolved_at = "resolved", now
        elif state.state == "firing":
            episode.value, episode.no_data = state.value, state.no_data
            episode.summary = annotations(ctx, rule, state.value).get("summary", episode.summary)
    else:
        return
    notify.sync(ctx, session, episode, now, silences)


def on_snapshots(ctx: Context, session: Session, team_id: str, points: Sequence[SnapshotBase]) -> None:
    """Snapshot listener: evaluate the rules that read the KPIs just stored, in the same transaction.

    Alerting must never cost the team its data: if evaluation fails, its savepoint is rolled back, the
    snapshots stay, and the next tick evaluates again."""
    keys = {p.kpi for p in points}
    try:
        with session.begin_nested():
            evaluate(ctx, session, team_id, ctx.now(), kpis=keys)
    except Exception:
        log.exception("alert evaluation failed; the snapshots are kept and the next tick retries",
                      extra={"team_id": team_id, "kpis": sorted(keys)})


def tick(ctx: Context, session: Session, team_id: str, period: str) -> str:
    """The evaluation tick (every minute): all rules, then reminders, ended snoozes and business mornings."""
    now = ctx.now()
    changes = evaluate(ctx, session, team_id, now)
    open_count = notify.sync_all(ctx, session, team_id, now)
    return f"{len(changes)} transitions, {open_count} open episodes"


def kpi_for(ctx: Context, rule: AlertRule) -> Kpi | None:
    return ctx.catalog.kpis.get(rule.kpi) if rule.kpi else None


def jobs() -> list:
    from aurum.jobs import Job

    return [Job("alerts", "Evaluate the alert rules; reminders, snooze ends, business mornings (every minute)",
                "* * * * *", tick)]
