"""One Slack message per episode, kept in step with the episode through the outbox.

`sync` compares what an episode's message shows with what it should show and queues the difference, in the
caller's transaction: the first post (plus the chart and the escalations), edits, the resolution reply in the
thread, and the reminders. What holds a notification back: a snooze or a silence (until it ends), and for
business-hours rules, the night and the weekend (the first post waits for the next business morning).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.alerts import blocks as alert_blocks
from aurum.alerts import escalation
from aurum.alerts.rules import AlertRule, BusinessHours
from aurum.core import outbox
from aurum.core.context import Context
from aurum.kpis.catalog import Kpi
from storage import alerts as repo
from storage.alerts import AlertEpisode, AlertSilence


def in_business_hours(at: datetime, tz, hours: BusinessHours) -> bool:
    local = at.astimezone(tz)
    return local.weekday() in hours.days and hours.start <= local.time() < hours.end


def next_business_start(at: datetime, tz, hours: BusinessHours) -> datetime:
    """The next moment business hours begin (now, when they already have)."""
    if in_business_hours(at, tz, hours):
        return at
    local = at.astimezone(tz)
    day = local.date()
    for offset in range(8):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.weekday() not in hours.days:
            continue
        start = datetime.combine(candidate_day, hours.start, tzinfo=tz)
        if start > local:
            return start
    raise AssertionError("business hours have at least one day a week")


def rule_of(ctx: Context, episode: AlertEpisode) -> AlertRule | None:
    return ctx.config.alerts.rules.get(episode.rule) if episode.source == "rule" else None


def kpi_of(ctx: Context, episode: AlertEpisode) -> Kpi | None:
    return ctx.catalog.kpis.get(episode.kpi) if episode.kpi else None


def channels(ctx: Context, episode: AlertEpisode) -> list[str]:
    named = ctx.config.channels.model_dump()
    return [named.get(c, c) for c in json.loads(episode.channels)]


def post_keys(episode: AlertEpisode) -> list[str]:
    """The outbox key of the episode's message in each of its channels (the first is episode.post_key)."""
    assert episode.post_key is not None
    count = max(1, len(json.loads(episode.channels)))
    return [episode.post_key] + [f"{episode.post_key}:{i}" for i in range(1, count)]


def escalation_targets(ctx: Context, episode: AlertEpisode) -> list[str]:
    rule = rule_of(ctx, episode)
    if episode.source == "rule":
        return list(rule.escalation) if rule else []
    return list(ctx.config.alerts.alertmanager_escalation)


def hold(ctx: Context, session: Session, episode: AlertEpisode, now: datetime, *, first_post: bool,
         silences: dict[str, AlertSilence] | None = None) -> datetime | None:
    """Until when notifications of this episode wait; None when they may go now.

    `silences` (rule → active silence) saves a query per episode when the caller has loaded them already."""
    waits = []
    if episode.snoozed_until and episode.snoozed_until > now:
        waits.append(episode.snoozed_until)
    silence = silences.get(episode.rule) if silences is not None else repo.silenced_until(
        session, episode.team_id, episode.rule, now)
    if silence is not None:
        waits.append(silence.until)
    rule = rule_of(ctx, episode)
    if first_post and rule is not None and rule.business_hours_only:
        start = next_business_start(now, ctx.tz, ctx.config.alerts.business_hours)
        if start > now:
            waits.append(start)
    return max(waits) if waits else None


def render(ctx: Context, episode: AlertEpisode, now: datetime | None = None) -> tuple[str, list[dict], str]:
    kpi = kpi_of(ctx, episode)
    message_text = alert_blocks.text(episode, kpi)
    message_blocks = alert_blocks.episode_blocks(episode, kpi, ctx.tz, now=now or ctx.now())
    digest = hashlib.sha256(json.dumps([message_text, message_blocks], sort_keys=True).encode()).hexdigest()[:32]
    return message_text, message_blocks, digest


def sync(ctx: Context, session: Session, episode: AlertEpisode, now: datetime | None = None,
         silences: dict[str, AlertSilence] | None = None) -> None:
    """Bring the episode's Slack message (and its escalations) in line with the episode."""
    if episode.settled:
        return
    now = now or ctx.now()
    if silences is None:
        silences = repo.active_silences(session, episode.team_id, now)
    targets = escalation_targets(ctx, episode)
    if episode.status == "resolved" and episode.escalated:
        escalation.resolved(ctx, session, episode, targets)
    if episode.post_key is None:
        if hold(ctx, session, episode, now, first_post=True, silences=silences) is not None:
            return
        rule = rule_of(ctx, episode)
        if episode.status == "resolved" and not (rule and rule.business_hours_only):
            episode.settled = True  # it fired and resolved while silenced: nothing worth a message now
            session.add(episode)
            return
        _first_post(ctx, session, episode, targets, now)
        return
    if hold(ctx, session, episode, now, first_post=False, silences=silences) is not None:
        return
    message_text, message_blocks, digest = render(ctx, episode, now)
    if digest != episode.shown:
        for key in post_keys(episode):
            outbox.update(session, episode.team_id, key, message_text, message_blocks)
        episode.shown = digest
    if episode.status == "resolved":
        if not episode.resolution_sent:
            reply = alert_blocks.resolved_reply(episode, kpi_of(ctx, episode), ctx.tz)
            outbox.post(session, episode.team_id, "", reply, key=f"{episode.post_key}:resolved",
                        thread_key=episode.post_key)
            episode.resolution_sent = True
        episode.settled = True
    else:
        _remind(ctx, session, episode, now)
    session.add(episode)


def _first_post(ctx: Context, session: Session, episode: AlertEpisode, targets: list[str], now: datetime) -> None:
    message_text, message_blocks, digest = render(ctx, episode, now)
    episode.post_key = f"alert:{episode.id}"
    for key, channel in zip(post_keys(episode), channels(ctx, episode), strict=False):
        outbox.post(session, episode.team_id, channel, message_text, message_blocks, key=key)
    episode.posted_at, episode.shown = now, digest
    if episode.status == "resolved":
        episode.resolution_sent = episode.settled = True  # the message itself tells the whole story
    else:
        rule = rule_of(ctx, episode)
        if rule is not None and rule.chart and episode.kpi:
            escalation.queue_chart(session, episode)
        escalation.triggered(ctx, session, episode, targets)
        episode.escalated = bool(targets)
    session.add(episode)


def _remind(ctx: Context, session: Session, episode: AlertEpisode, now: datetime) -> None:
    if episode.acked_at or episode.posted_at is None:
        return
    rule = rule_of(ctx, episode)
    if rule is not None and rule.business_hours_only and not in_business_hours(
            now, ctx.tz, ctx.config.alerts.business_hours):
        return
    last = episode.last_reminder_at or episode.posted_at
    if now - last < ctx.config.alerts.repeat_every(rule):
        return
    episode.reminders += 1
    episode.last_reminder_at = now
    text = alert_blocks.reminder(episode, kpi_of(ctx, episode), now)
    outbox.post(session, episode.team_id, "", text, key=f"{episode.post_key}:reminder:{episode.reminders}",
                thread_key=episode.post_key)


def sync_all(ctx: Context, session: Session, team_id: str, now: datetime | None = None) -> int:
    """The tick: catch up on everything still open (snoozes ended, mornings come, reminders due)."""
    now = now or ctx.now()
    pending = repo.unsettled(session, team_id)
    silences = repo.active_silences(session, team_id, now)
    for episode in pending:
        sync(ctx, session, episode, now, silences)
    return len(pending)
