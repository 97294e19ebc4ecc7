"""Block Kit builders: pure functions, values in, dicts out. Validated by slack_sdk.models in the tests."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from aurum.kpis import formatting
from aurum.kpis.catalog import Catalog, Kpi
from aurum.kpis.formatting import escape, plain
from aurum.kpis.status import KpiStatus

MAX_BLOCKS = 50
SECTION_LIMIT = 3000


_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)(?:\|[^&]*)?&gt;")


def escape_keep_mentions(text: str) -> str:
    """escape(), but a plain user mention (`<@U123>` or `<@U123|ana>`) stays a mention: blockers name who is on it."""
    return _MENTION.sub(lambda m: f"<@{m.group(1)}>", escape(text))


def header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": plain(text)[:150], "emoji": True}}


def section(text: str, fields: Iterable[str] = ()) -> dict:
    block: dict = {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}
    field_list = [{"type": "mrkdwn", "text": f[:2000]} for f in fields][:10]
    if field_list:
        block["fields"] = field_list
    return block


def context(*texts: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t[:SECTION_LIMIT]} for t in texts][:10]}


def divider() -> dict:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> dict:
    element = {"type": "button", "text": {"type": "plain_text", "text": plain(text)[:75], "emoji": True},
               "action_id": action_id, "value": value[:2000]}
    if style:
        element["style"] = style
    return element


def actions(block_id: str, *elements: dict) -> dict:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)[:25]}


def capped(blocks: list[dict], note: str = "…more in the App Home tab") -> list[dict]:
    """Keep a message within Slack's 50-block cap."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 1], context(note)]


def value_line(status: KpiStatus) -> str:
    kpi = status.kpi
    if status.latest is None:
        return "no data yet"
    return formatting.value(kpi, status.latest.value)


def trend_text(status: KpiStatus) -> str:
    if status.change_abs is None:
        return "no earlier value to compare"
    mood = {True: "better", False: "worse", None: "unchanged"}[status.improving]
    return f"{formatting.change(status.kpi, status.change_abs, status.change_pct)} ({mood})"


def kpi_card(status: KpiStatus, period: str, now: datetime, tz, chart_note: str | None = None,
             extra: Iterable[str] = ()) -> list[dict]:
    kpi = status.kpi
    fields = [
        f"*Value*\n{value_line(status)}",
        f"*Target*\n{formatting.target(kpi)}",
        f"*Baseline*\n{formatting.value(kpi, kpi.baseline) if kpi.baseline is not None else '—'}",
        f"*Status*\n{status.emoji} {status.label}",
        f"*Change over {period}*\n{trend_text(status)}",
    ]
    if status.progress_pct is not None:
        fields.append(f"*Progress*\n{formatting.progress(status.progress_pct)} from baseline to "
                      f"{formatting.value(kpi, kpi.goal)}")  # type: ignore[arg-type]
    if status.next_phase is not None:
        phase, goal = status.next_phase
        fields.append(f"*Next phase target*\nPhase {phase}: {formatting.value(kpi, goal)}")
    if kpi.stretch is not None:
        fields.append(f"*{escape(kpi.stretch_label.capitalize())}*\n{formatting.value(kpi, kpi.stretch)}")
    alias = escape(kpi.aliases[0] if kpi.aliases else kpi.key)
    blocks = [header(f"{status.emoji} {kpi.name}"),
              section(f"`{alias}` · {escape(kpi.definition or kpi.key)}", fields[:10])]
    blocks.extend(section(line) for line in extra)
    if status.latest is not None:
        stale = " ⚠️ *stale*" if status.stale else ""
        updated = f"Source: {escape(status.latest.source)} · updated {formatting.age(status.latest.at, now)}{stale}"
    else:
        updated = f"Source: {escape(kpi.source)} · nothing recorded yet (`/kpi record {alias} <value>`)"
    notes = [updated, f"Period: {period}"]
    if chart_note:
        notes.append(chart_note)
    blocks.append(context(*notes))
    return blocks


def kpi_text(status: KpiStatus) -> str:
    """Notification text for a KPI card."""
    kpi = status.kpi
    goal = f"target {formatting.target(kpi)}, " if kpi.target is not None else ""
    return f"{escape(kpi.name)}: {value_line(status)} ({goal}{status.label})"


def status_line(catalog: Catalog, status: KpiStatus) -> str:
    kpi = status.kpi
    return (f"{status.emoji} *{escape(kpi.name)}* `{escape(catalog.short_name(kpi))}` — {value_line(status)}"
            f"{formatting.target_note(kpi)}")


HELP_USAGE = (
    "*Usage*\n"
    "• `/kpi <name> [7d|30d|90d|1y]` — a KPI card with a chart, posted in this channel\n"
    "• `/kpi <name> [period] private` — only you see it (chart by DM)\n"
    "• `/kpi <name> help` — how the KPI is measured\n"
    "• `/kpi <name> forecast [date]` — when it reaches its targets at this pace, with 80 % intervals\n"
    "• `/kpi dashboard` — the technical metrics dashboard\n"
    "• `/kpi sources` — where the numbers come from: each source's last success, last error and next run\n"
    "• `/kpi dashboard live [hours]` — the dashboard, edited every minute (default 8 h, Stop button)\n"
    "• `/kpi record <name> <value> [at <ISO time>]` — record a value by hand\n"
    "Status: 🟢 on track · 🟡 at risk · 🔴 off track · ⚪ no data · 🔵 tracked (no target)"
)


def catalog_overview(catalog: Catalog, statuses: dict[str, KpiStatus]) -> list[dict]:
    blocks = [header("Aurum KPIs"), section(HELP_USAGE)]
    for category, kpis in catalog.by_category().items():
        lines = [status_line(catalog, statuses[k.key]) for k in kpis if k.key in statuses]
        if lines:
            blocks.append(section(f"*{escape(catalog.categories.get(category, category))}*\n" + "\n".join(lines)))
    return capped(blocks)


def kpi_help(catalog: Catalog, kpi: Kpi) -> list[dict]:
    lines = [
        f"*Metric key:* `{kpi.key}` · *aliases:* {', '.join(f'`{escape(a)}`' for a in kpi.aliases) or '—'}",
        f"*How it is measured:* {escape(kpi.definition or 'recorded by hand')}",
        f"*Tracked from:* {escape(kpi.source)}",
        f"*Target:* {formatting.target(kpi)} · *better when:* {kpi.direction}",
    ]
    if kpi.baseline is not None:
        lines.append(f"*Baseline:* {formatting.value(kpi, kpi.baseline)}")
    for phase, goal in sorted(kpi.phase_targets.items()):
        lines.append(f"*Phase {phase} target:* {formatting.value(kpi, goal)}")
    if kpi.stretch is not None:
        lines.append(f"*{escape(kpi.stretch_label.capitalize())}:* {formatting.value(kpi, kpi.stretch)}")
    if kpi.notes:
        lines.append(escape(kpi.notes))
    return [header(kpi.name), section("\n".join(lines))]


def unknown_kpi(catalog: Catalog, name: str, suggestions: list[str]) -> str:
    guess = ""
    if suggestions:
        guess = " — did you mean " + " or ".join(f"`{s}`" for s in suggestions) + "?"
    names = ", ".join(f"`{escape(catalog.short_name(k))}`" for k in catalog if k.phase is None)
    return f"Unknown KPI '{escape(name)}'{guess}\nKPIs: {names}\nPhase metrics: `/kpi help` lists them all."


def recorded(status: KpiStatus, at: datetime, tz, value: float | None = None) -> list[dict]:
    """The confirmation of a manual entry: the value as recorded (another entry may be newer), and the status."""
    kpi = status.kpi
    when = at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    shown = formatting.value(kpi, value) if value is not None else value_line(status)
    return [section(f"✅ Recorded *{escape(kpi.name)}* = {shown} at {when}. "
                    f"Status: {status.emoji} {status.label}{formatting.target_note(kpi)}.")]


def dashboard(groups: list[tuple[str, list[KpiStatus]]], gates: list[KpiStatus], now: datetime,
              chart_note: str | None = None) -> list[dict]:
    """The seed's Technical Metrics Dashboard: API performance, system health, quality gates."""
    blocks = [header("📊 Technical metrics dashboard")]
    for title, items in groups:
        fields = [f"{s.emoji} *{escape(s.kpi.name)}*\n{value_line(s)}"
                  + formatting.target_note(s.kpi) for s in items]
        blocks.append(section(f"*{title}*", fields))
    gate_lines = [f"{'✅' if s.state == 'on_track' else '⚠️' if s.latest else '⚪'} *{escape(s.kpi.name)}*: "
                  f"{value_line(s)} (gate {formatting.target(s.kpi)})" for s in gates]
    blocks.append(section("*Quality gates*\n" + "\n".join(gate_lines)))
    notes = [f"As of {now.strftime('%Y-%m-%d %H:%M UTC')}"]
    if chart_note:
        notes.append(chart_note)
    blocks.append(context(*notes))
    return capped(blocks)
