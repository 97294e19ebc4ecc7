"""Evaluating the rules: on every new batch of snapshots (a listener inside the ingest transaction) and on the
one-minute tick. Each rule's alert state is kept in `alert_state`; a firing opens an `alert_episode`, whose
message `aurum.alerts.notify` keeps up to date.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from aurum.alerts import engine, notify
from aurum.alerts.rules import AlertRule, fresh_values, render
from aurum.core.context import Context
from aurum.kpis.catalog import Kpi
from aurum.kpis.formatting import number
from storage import alerts as repo
from storage import snapshots
from storage.alerts import AlertEpisode
from storage.rollups import SnapshotBase
from storage.types import DEFAULT_SQUAD

if TYPE_CHECKING:
    from sqlalchemy import Row

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    rule: str
    transition: engine.Transition
    at: datetime


def _state(row: Row | None) -> engine.State:
    if row is None:
        return engine.INACTIVE
    return engine.State(row.state, row.active_at, row.fired_at, row.keep_firing_since, row.value, row.no_data)


@dataclass
class _Touched:
    """A rule whose state changed at this evaluation: what to store and what to tell."""

    rule: AlertRule
    row: Row | None  # its stored state; None when it has none yet
    state: engine.State
    transition: engine.Transition | None
    episode: AlertEpisode | None = None

    def stored(self, now: datetime) -> dict:
        state = self.state
        episode_id = self.episode.id if self.episode is not None else (self.row.episode_id if self.row else None)
        return {"id": self.row.id if self.row else None, "rule": self.rule.name,
                "fingerprint": self.rule.fingerprint, "state": state.state, "active_at": state.active_at,
                "fired_at": state.fired_at, "keep_firing_since": state.keep_firing_since, "value": state.value,
                "no_data": state.no_data, "episode_id": episode_id, "updated_at": now}


def rendered_annotations(ctx: Context, rule: AlertRule, value: float | None) -> dict[str, str]:
    return annotations_of(rule, value, ctx.config.alerts.runbook_base_url)


def annotations_of(rule: AlertRule, value: float | None, runbook_base_url: str | None) -> dict[str, str]:
    variables = {"value": "no data" if value is None else number(value), "threshold": number(rule.threshold),
                 "labels": rule.all_labels, "kpi": rule.kpi or rule.expr,
                 "runbook_base": (runbook_base_url or "").rstrip("/")}
    rendered = {name: render(template, variables) for name, template in rule.annotations.items()}
    if value is None and "summary" in rendered:  # not "latency is no data ms": say what is missing
        rendered["summary"] = (f"No data for {rule.kpi or rule.expr}: the condition (threshold "
                               f"{number(rule.threshold)}) cannot be checked")
    return rendered


def new_episode(ctx: Context, team_id: str, rule: AlertRule, state: engine.State, now: datetime) -> AlertEpisode:
    notes = rendered_annotations(ctx, rule, state.value)
    return AlertEpisode(
        team_id=team_id, rule=rule.name, fingerprint=rule.fingerprint, source="rule", severity=rule.severity,
        kpi=rule.kpi, op=rule.op, threshold=rule.threshold, value=state.value, no_data=state.no_data,
        summary=notes.get("summary", ""), runbook=notes.get("runbook", ""), link="",
        labels=json.dumps(rule.all_labels), channels=json.dumps(rule.channels),
        started_at=state.active_at or now, fired_at=state.fired_at or now)


def evaluate(ctx: Context, session: Session, team_id: str, now: datetime | None = None,
             kpis: set[str] | None = None, rules: Sequence[AlertRule] | None = None) -> list[Change]:
    """Evaluate the rules (those reading `kpis`, when given) at `now` and act on every transition.

    The cost does not grow with queries per rule: one query for the latest values, one for the rules' states,
    then, only when something changed, one for their episodes and one for the silences, one batched insert of
    the new episodes and one batched write of the states; the outbox rows follow with the transaction's flush."""
    now = now or ctx.now()
    candidates = rules if rules is not None else ctx.config.alerts.enabled()
    chosen = [r for r in candidates if kpis is None or not r.kpis.isdisjoint(kpis)]
    if not chosen:
        return []
    values = latest_values(ctx, session, team_id, chosen, now)
    rows = repo.state_rows(session, team_id, {r.name for r in chosen}, lock=True)
    changes: list[Change] = []
    touched: list[_Touched] = []
    fresh_by_age: dict[timedelta, dict[str, float | None]] = {}
    missing_policy = ctx.config.alerts.missing_policy
    for rule in chosen:
        row = rows.get((rule.name, rule.fingerprint))
        fresh = fresh_by_age.get(rule.max_age)
        if fresh is None:
            fresh = fresh_by_age[rule.max_age] = fresh_values(values, now, rule.max_age)
        value, holds = rule.judge(fresh)
        if holds is False and (row is None or row.state == "inactive"):
            continue  # the common case, and what engine.step says too: inactive stays inactive
        current = _state(row)
        result = engine.step(current, holds, value, now, rule.for_, rule.keep_firing_for, missing_policy(rule))
        if result.state == current:
            continue
        touched.append(_Touched(rule, row, result.state, result.transition))
        if result.transition is not None:
            changes.append(Change(rule.name, result.transition, now))
    if touched:
        _apply(ctx, session, team_id, touched, now)
    return changes


def latest_values(ctx: Context, session: Session, team_id: str, rules: Sequence[AlertRule],
                  now: datetime) -> dict[str, tuple[datetime, float]]:
    """The newest value of each KPI the rules read (of ctx's team), no older than the oldest any rule accepts."""
    oldest = now - max(rule.max_age for rule in rules)
    return snapshots.latest_in_window(session, team_id, set().union(*(r.kpis for r in rules)), now, oldest,
                                      squad=ctx.squad)


def holding(ctx: Context, session: Session, team_id: str, now: datetime) -> list[tuple[AlertRule, float | None]]:
    """The enabled rules whose condition holds on ctx's team's latest values now, with the rule's value: what fires
    for a team whose values no alert follows (alerts follow the default team's). No state is read or written."""
    rules = ctx.config.alerts.enabled()
    values = latest_values(ctx, session, team_id, rules, now) if rules else {}
    judged = [(rule, *rule.judge(fresh_values(values, now, rule.max_age))) for rule in rules]
    return [(rule, value) for rule, value, holds in judged if holds]


def _apply(ctx: Context, session: Session, team_id: str, touched: list[_Touched], now: datetime) -> None:
    """Store the new states and carry them over to their episodes and messages, in a fixed number of queries."""
    episodes = repo.episodes_by_id(session, team_id, [t.row.episode_id for t in touched
                                                      if t.row is not None and t.row.episode_id])
    opened = []
    for item in touched:
        if item.transition == "firing":
            item.episode = new_episode(ctx, team_id, item.rule, item.state, now)
            opened.append(item.episode)
        elif item.row is not None and item.row.episode_id:
            item.episode = episodes.get(item.row.episode_id)
    if opened:
        session.add_all(opened)
        session.flush()  # their ids: the state rows point at them, the messages are keyed by them
    repo.write_states(session, team_id, [t.stored(now) for t in touched if t.row is not None],
                      [t.stored(now) for t in touched if t.row is None])
    silences = None
    with session.no_autoflush:  # the outbox rows go in with one flush at the end
        for item in touched:
            episode = item.episode
            if episode is None:
                continue
            if item.transition != "firing":
                if episode.status != "firing":
                    continue
                if item.transition == "resolved":
                    episode.status, episode.resolved_at = "resolved", now
                elif item.state.state == "firing":
                    episode.value, episode.no_data = item.state.value, item.state.no_data
                    notes = rendered_annotations(ctx, item.rule, item.state.value)
                    episode.summary = notes.get("summary", episode.summary)
            if silences is None:
                silences = repo.active_silences(session, team_id, now)
            notify.sync(ctx, session, episode, now, silences)


def on_snapshots(ctx: Context, session: Session, team_id: str, points: Sequence[SnapshotBase]) -> None:
    """Snapshot listener: evaluate the rules that read the KPIs just stored, in the same transaction.

    Alerting must never cost the team its data: if evaluation fails, its savepoint is rolled back, the
    snapshots stay, and the next tick evaluates again. Alert rules and their episodes are the workspace's: they read
    its default team's values, so another team's snapshots are left alone."""
    if ctx.squad != DEFAULT_SQUAD:
        return
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
