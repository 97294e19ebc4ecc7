"""Block Kit for alerts: the one message of an episode, its thread replies, and the /alerts listings. Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from aurum.alerts.rules import AlertRule
from aurum.kpis import formatting
from aurum.kpis.blocks import MAX_BLOCKS, actions, button, capped, context, escape, header, section
from aurum.kpis.catalog import Kpi
from storage.alerts import AlertEpisode, AlertState

ACK = "alert_ack"
SNOOZE = "alert_snooze"
USEFUL = "alert_useful"
NOISE = "alert_noise"
ACTIONS_BLOCK = "alert_actions"
SNOOZES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "1d": timedelta(days=1)}
SEVERITY_EMOJI = {"critical": "🔴", "warning": "🟠", "info": "🔵"}
OPS = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "==": "=", "!=": "≠"}


def amount(kpi: Kpi | None, value: float | None) -> str:
    if value is None:
        return "no data"
    return formatting.value(kpi, value) if kpi is not None else formatting.number(value)


def threshold_text(kpi: Kpi | None, op: str | None, threshold: float | None) -> str:
    if op is None or threshold is None:
        return ""
    return f"{OPS.get(op, op)}{amount(kpi, threshold)}"


def when(at: datetime, tz) -> str:
    return at.astimezone(tz).strftime("%a %d %b %H:%M %Z")


def title(episode: AlertEpisode) -> str:
    if episode.status == "resolved":
        return f"✅ Resolved · {episode.rule}"
    if episode.no_data:
        return f"⚪ No data · {episode.rule}"
    return f"{SEVERITY_EMOJI.get(episode.severity, '🔴')} {episode.severity.capitalize()} · {episode.rule}"


def text(episode: AlertEpisode, kpi: Kpi | None) -> str:
    """The notification line (what a phone shows)."""
    state = "resolved" if episode.status == "resolved" else "firing"
    value = amount(kpi, episode.value)
    limit = threshold_text(kpi, episode.op, episode.threshold)
    detail = episode.summary or (f"{value} (threshold {limit})" if limit else value)
    return f"{title(episode).split(' ', 1)[0]} {episode.rule} {state}: {detail}"


def _status_notes(episode: AlertEpisode, tz, now: datetime | None) -> list[str]:
    notes = []
    if episode.acked_at and episode.acked_by:
        notes.append(f"👀 Acknowledged by <@{episode.acked_by}> at {when(episode.acked_at, tz)}")
    if episode.snoozed_until and (now is None or episode.snoozed_until > now) and episode.status == "firing":
        notes.append(f"😴 Snoozed by <@{episode.snoozed_by}> until {when(episode.snoozed_until, tz)}")
    if episode.feedback:
        verdict = "👍 useful" if episode.feedback == "useful" else "👎 noise"
        notes.append(f"Feedback: {verdict} (<@{episode.feedback_by}>)")
    return notes


def episode_blocks(episode: AlertEpisode, kpi: Kpi | None, tz, *, test: bool = False,
                   now: datetime | None = None) -> list[dict]:
    """The episode's one message. With `now`, a snooze that has ended is no longer shown."""
    fields = [f"*Severity*\n{episode.severity}"]
    if episode.source == "rule":
        value_field = f"*Value*\n{amount(kpi, episode.value)}"
        limit = threshold_text(kpi, episode.op, episode.threshold)
        fields.insert(0, value_field + (f" (threshold {limit})" if limit else ""))
    if episode.status == "resolved" and episode.resolved_at:
        lasted = formatting.duration(episode.resolved_at - episode.fired_at)
        fields.append(f"*Fired*\n{when(episode.fired_at, tz)}")
        fields.append(f"*Resolved*\n{when(episode.resolved_at, tz)} (after {lasted})")
    else:
        fields.append(f"*Firing since*\n{when(episode.fired_at, tz)}")
        if episode.started_at < episode.fired_at:
            fields.append(f"*Condition true since*\n{when(episode.started_at, tz)}")
    if kpi is not None:
        fields.append(f"*KPI*\n{escape(kpi.name)} (`{kpi.key}`)")
    heading = ("🧪 Test · " + episode.rule) if test else title(episode)
    blocks = [header(heading), section(escape(episode.summary or episode.rule), fields)]
    notes = []
    if episode.runbook:
        notes.append(f"📘 <{escape(episode.runbook)}|Runbook>")
    if episode.link:
        notes.append(f"🔗 <{escape(episode.link)}|Source>")
    labels = json.loads(episode.labels or "{}")
    shown = {k: v for k, v in labels.items() if k not in ("alertname", "severity")}
    if shown:
        notes.append("Labels: " + ", ".join(f"`{escape(k)}={escape(str(v))}`" for k, v in sorted(shown.items())))
    if test:
        notes.append("This is a test notification: nothing is firing and nobody was paged.")
    notes += _status_notes(episode, tz, now)
    if notes:
        blocks.append(context(*notes))
    if not test:
        blocks.append(_buttons(episode))
    return capped(blocks)


def _buttons(episode: AlertEpisode) -> dict:
    value = str(episode.id)
    elements = []
    if episode.status == "firing":
        if not episode.acked_at:
            elements.append(button("Acknowledge", ACK, value, style="primary"))
        elements += [button(f"Snooze {label}", f"{SNOOZE}_{label}", f"{value}:{label}") for label in SNOOZES]
    elements += [button("👍 Useful", USEFUL, value), button("👎 Noise", NOISE, value)]
    return actions(f"{ACTIONS_BLOCK}_{value}", *elements)


def resolved_reply(episode: AlertEpisode, kpi: Kpi | None, tz) -> str:
    assert episode.resolved_at is not None
    lasted = formatting.duration(episode.resolved_at - episode.fired_at)
    return (f"✅ Resolved after {lasted} (fired {when(episode.fired_at, tz)}, "
            f"resolved {when(episode.resolved_at, tz)}). Last value {amount(kpi, episode.value)}.")


def reminder(episode: AlertEpisode, kpi: Kpi | None, now: datetime) -> str:
    lasted = formatting.duration(now - episode.fired_at)
    limit = threshold_text(kpi, episode.op, episode.threshold)
    against = f" (threshold {limit})" if limit else ""
    return (f"⏰ Still firing after {lasted}: {amount(kpi, episode.value)}{against}. "
            "Acknowledge to stop these reminders, or snooze.")


def state_line(rule_name: str, state: AlertState, kpi: Kpi | None, tz) -> str:
    emoji = "🔥" if state.state == "firing" else "⏳"
    since = state.fired_at if state.state == "firing" else state.active_at
    since_text = f" since {when(since, tz)}" if since else ""
    return f"{emoji} *{escape(rule_name)}* {state.state}{since_text} — {amount(kpi, state.value)}"


def holding_line(rule_name: str, kpi: Kpi | None, value: float | None) -> str:
    return f"🔥 *{escape(rule_name)}* holds now — {amount(kpi, value)}"


def current(lines: Sequence[str]) -> list[dict]:
    if not lines:
        return [section("✅ Nothing is firing or pending.")]
    return capped([header("Alerts firing and pending"), section("\n".join(lines))])


def rule_line(rule: AlertRule, state: str, channels: Sequence[str], silenced: str | None) -> str:
    parts = [f"*{rule.name}* ({rule.severity}) `{escape(rule.condition)}`"]
    if rule.for_:
        parts.append(f"for {formatting.duration(rule.for_)}")
    if rule.keep_firing_for:
        parts.append(f"keep firing {formatting.duration(rule.keep_firing_for)}")
    parts.append("→ " + ", ".join(escape(c) for c in channels))
    if rule.escalation:
        parts.append("+ " + ", ".join(rule.escalation))
    if rule.business_hours_only:
        parts.append("(business hours)")
    icon = {"firing": "🔥", "pending": "⏳"}.get(state, "🟢")
    line = f"{icon} " + " ".join(parts) + f" · *{state}*"
    if not rule.enabled:
        line = f"⏸️ ~{line[2:]}~ disabled"
    if silenced:
        line += f" · 🔕 {silenced}"
    return line


def rules_listing(lines: Sequence[str]) -> list[dict]:
    return capped([header("Alert rules"), *(section(chunk) for chunk in _chunks(lines))])


def history_line(episode: AlertEpisode, kpi: Kpi | None, tz) -> str:
    if episode.resolved_at:
        span = f"{when(episode.fired_at, tz)}, lasted {formatting.duration(episode.resolved_at - episode.fired_at)}"
    else:
        span = f"{when(episode.fired_at, tz)}, still firing"
    extra = []
    if episode.acked_by:
        extra.append(f"acked by <@{episode.acked_by}>")
    if episode.feedback:
        extra.append(episode.feedback)
    tail = f" ({', '.join(extra)})" if extra else ""
    icon = "✅" if episode.status == "resolved" else SEVERITY_EMOJI.get(episode.severity, "🔴")
    return f"{icon} *{escape(episode.rule)}* {span} — last value {amount(kpi, episode.value)}{tail}"


def history(lines: Sequence[str], heading: str, accuracy: str) -> list[dict]:
    if not lines:
        return [section(f"No alert episodes {heading}."), context(accuracy)]
    return capped([header(f"Alert history {heading}"), *(section(c) for c in _chunks(lines)), context(accuracy)])


def with_note(blocks: list[dict], note: str) -> list[dict]:
    """A listing with a closing note (which team's values it shows), kept within the block cap."""
    if not note:
        return blocks
    return [*blocks[: MAX_BLOCKS - 1], context(note)]


def _chunks(lines: Sequence[str], limit: int = 2900) -> list[str]:
    chunks: list[str] = []
    current_chunk = ""
    for line in lines:
        if current_chunk and len(current_chunk) + len(line) + 1 > limit:
            chunks.append(current_chunk)
            current_chunk = ""
        current_chunk = f"{current_chunk}\n{line}" if current_chunk else line[:limit]
    if current_chunk:
        chunks.append(current_chunk)
    return chunks
