"""What people do with alerts: acknowledge, snooze, give feedback, silence a rule, send a test, list them.

Each function runs in the caller's transaction and answers through the outbox.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.alerts import blocks as alert_blocks
from aurum.alerts import escalation, notify
from aurum.alerts.evaluation import holding, kpi_for, rendered_annotations
from aurum.alerts.rules import AlertRule
from aurum.core import ingest, outbox
from aurum.core.context import Context
from aurum.core.errors import InputError
from storage import alerts as repo
from storage import snapshots
from storage.alerts import AlertEpisode, AlertSilence
from storage.rollups import SnapshotBase

ACCURACY_KPI = "alert_accuracy_percentage"
ACCURACY_WINDOW = repo.FEEDBACK_WINDOW
MAX_SILENCE = timedelta(days=30)


def _episode(session: Session, team_id: str, episode_id: int) -> AlertEpisode:
    episode = repo.episode(session, team_id, episode_id, lock=True)
    if episode is None:
        raise InputError("That alert is not known here any more.")
    return episode


def refresh(ctx: Context, session: Session, episode: AlertEpisode) -> None:
    """Show a person's own action on the message at once (an edit notifies nobody), then catch up on the rest."""
    if episode.post_key is not None:
        message_text, message_blocks, digest = notify.render(ctx, episode)
        if digest != episode.shown:
            for key in notify.post_keys(episode):
                outbox.update(session, episode.team_id, key, message_text, message_blocks)
            episode.shown = digest
    notify.sync(ctx, session, episode)
    session.add(episode)


def acknowledge(ctx: Context, session: Session, team_id: str, episode_id: int, user: str) -> AlertEpisode:
    episode = _episode(session, team_id, episode_id)
    if episode.acked_at is None and episode.status == "firing":
        episode.acked_by, episode.acked_at = user, ctx.now()
        escalation.acknowledged(session, episode, notify.escalation_targets(ctx, episode))
    refresh(ctx, session, episode)
    return episode


def snooze(ctx: Context, session: Session, team_id: str, episode_id: int, user: str, label: str) -> AlertEpisode:
    if label not in alert_blocks.SNOOZES:
        raise InputError(f"Snooze for {', '.join(alert_blocks.SNOOZES)}.")
    episode = _episode(session, team_id, episode_id)
    if episode.status == "firing":
        episode.snoozed_until, episode.snoozed_by = ctx.now() + alert_blocks.SNOOZES[label], user
    refresh(ctx, session, episode)
    return episode


@dataclass(frozen=True)
class Accuracy:
    useful: int
    noise: int

    @property
    def percent(self) -> float | None:
        total = self.useful + self.noise
        return 100.0 * self.useful / total if total else None

    def describe(self) -> str:
        if self.percent is None:
            return "Alert accuracy: no feedback in the last 30 days (use 👍 Useful / 👎 Noise on an alert)."
        return (f"Alert accuracy (last 30 days): {self.percent:.0f}% useful — {self.useful} useful, "
                f"{self.noise} noise (target >90%).")


def accuracy(session: Session, team_id: str, now: datetime) -> Accuracy:
    counts = repo.feedback_counts(session, team_id, now - ACCURACY_WINDOW)
    return Accuracy(useful=counts.get("useful", 0), noise=counts.get("noise", 0))


def feedback(ctx: Context, session: Session, team_id: str, episode_id: int, user: str, verdict: str) -> Accuracy:
    """Record useful/noise (the latest click counts) and store the alert-accuracy KPI it changes."""
    if verdict not in ("useful", "noise"):
        raise InputError("Feedback is useful or noise.")
    episode = _episode(session, team_id, episode_id)
    now = ctx.now()
    episode.feedback, episode.feedback_by, episode.feedback_at = verdict, user, now
    session.add(episode)
    session.flush()
    result = accuracy(session, team_id, now)
    if result.percent is not None and ACCURACY_KPI in ctx.catalog.kpis:
        ingest.store(ctx, session, team_id, [SnapshotBase(kpi=ACCURACY_KPI, value=round(result.percent, 2), at=now,
                                                          source="alert_feedback")])
    refresh(ctx, session, episode)
    return result


def silence(ctx: Context, session: Session, team_id: str, rule: AlertRule, duration: timedelta, reason: str,
            user: str) -> AlertSilence:
    if duration <= timedelta(0) or duration > MAX_SILENCE:
        raise InputError("Silence for a duration between 1m and 30d, e.g. 2h or 1d.")
    found = AlertSilence(team_id=team_id, rule=rule.name, until=ctx.now() + duration, reason=reason, created_by=user)
    session.add(found)
    session.flush()
    return found


def _current_value(ctx: Context, session: Session, team_id: str, rule: AlertRule) -> float | None:
    now = ctx.now()
    values = snapshots.latest_in_window(session, team_id, rule.kpis, now, now - rule.max_age, squad=ctx.squad)
    return rule.value({kpi: value for kpi, (_at, value) in values.items()})


def send_test(ctx: Context, session: Session, team_id: str, rule: AlertRule) -> list[str]:
    """A test notification in the rule's channels, shaped like the real one; nobody is paged."""
    now = ctx.now()
    value = _current_value(ctx, session, team_id, rule)
    notes = rendered_annotations(ctx, rule, value)
    sample = AlertEpisode(
        id=0, team_id=team_id, rule=rule.name, fingerprint=rule.fingerprint, severity=rule.severity, kpi=rule.kpi,
        op=rule.op, threshold=rule.threshold, value=value, summary=notes.get("summary", ""),
        runbook=notes.get("runbook", ""), labels=json.dumps(rule.all_labels), channels=json.dumps(rule.channels),
        started_at=now, fired_at=now)
    kpi = kpi_for(ctx, rule)
    message_blocks = alert_blocks.episode_blocks(sample, kpi, ctx.tz, test=True)
    targets = notify.channels(ctx, sample)
    for channel in targets:
        outbox.post(session, team_id, channel, "🧪 Test: " + alert_blocks.text(sample, kpi), message_blocks,
                    key=f"alert-test:{uuid.uuid4().hex}")
    return targets


def current_lines(ctx: Context, session: Session, team_id: str) -> list[str]:
    lines = []
    for state in repo.active_states(session, team_id):
        rule = ctx.config.alerts.rules.get(state.rule)
        kpi = kpi_for(ctx, rule) if rule else None
        lines.append(alert_blocks.state_line(state.rule, state, kpi, ctx.tz))
    return sorted(lines, key=lambda line: not line.startswith("🔥"))


def holding_lines(ctx: Context, session: Session, team_id: str) -> list[str]:
    """The rules whose condition holds on ctx's team's latest values (see evaluation.holding)."""
    return [alert_blocks.holding_line(rule.name, kpi_for(ctx, rule), value)
            for rule, value in holding(ctx, session, team_id, ctx.now())]


def rule_lines(ctx: Context, session: Session, team_id: str) -> list[str]:
    now = ctx.now()
    states = {name: s.state for (name, _fp), s in repo.states(session, team_id).items() if s.state != "inactive"}
    silences = repo.active_silences(session, team_id, now)
    named = ctx.config.channels.model_dump()
    lines = []
    for rule in ctx.config.alerts.rules.values():
        silence = silences.get(rule.name)
        note = f"silenced until {alert_blocks.when(silence.until, ctx.tz)}" if silence else None
        lines.append(alert_blocks.rule_line(rule, states.get(rule.name, "inactive"),
                                            [named.get(c, c) for c in rule.channels], note))
    return lines


def history_lines(ctx: Context, session: Session, team_id: str, kpi: str | None, limit: int = 20) -> list[str]:
    rules = [r.name for r in ctx.config.alerts.rules.values() if kpi in r.kpis] if kpi else None
    episodes = repo.history(session, team_id, kpi=kpi, rules=rules, limit=limit)
    return [alert_blocks.history_line(e, ctx.catalog.kpis.get(e.kpi) if e.kpi else None, ctx.tz) for e in episodes]
