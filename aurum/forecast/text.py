"""Forecasts in words: the lines Slack cards, `/kpi <name> forecast` and `aurum forecast` print (mrkdwn; the CLI
strips the asterisks), so every surface shows the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from aurum.forecast.goals import Crossing, Goal
from aurum.forecast.intervals import MIN_POINTS, MIN_SPAN_DAYS, Shortage
from aurum.forecast.series import to_datetime
from aurum.forecast.service import HISTORY_DAYS, Estimate, KpiForecast, KpiOutlook, PhaseOutlook, quarter_label
from aurum.kpis import formatting
from aurum.kpis.catalog import Kpi

ICON = "🔮"


def day(on: date) -> str:
    return on.strftime("%d %b %Y").lstrip("0")


def span(first: date, last: date | None) -> str:
    """'20 Jan – 15 Mar 2027', '20 Dec 2026 – 15 Mar 2027', or open-ended past the 2-year horizon."""
    if last is None:
        return f"{day(first)} – not within 2 years"
    if first == last:
        return day(first)
    head = first.strftime("%d %b").lstrip("0") if first.year == last.year else day(first)
    return f"{head} – {day(last)}"


def amount(kpi: Kpi, value: float) -> str:
    return formatting.value(kpi, value)


def value_range(kpi: Kpi, low: float, high: float) -> str:
    return f"{amount(kpi, low)} – {amount(kpi, high)}"


def goal_name(kpi: Kpi, goal: Goal) -> str:
    return f"{amount(kpi, goal.value)} ({goal.label})"


def need(shortage: Shortage) -> str:
    parts = []
    if shortage.more_points:
        parts.append(f"values on {shortage.more_points} more day{'s' if shortage.more_points != 1 else ''}")
    if shortage.more_days:
        parts.append(f"{shortage.more_days} more day{'s' if shortage.more_days != 1 else ''} of history")
    return " and ".join(parts)


def too_little(shortage: Shortage) -> str:
    return (f"Too little data to forecast: {shortage.points} day{'s' if shortage.points != 1 else ''} with data over "
            f"{shortage.span_days:.0f} days so far; need {need(shortage)} "
            f"(a forecast needs {MIN_POINTS} days with values, spanning {MIN_SPAN_DAYS} days).")


def crossing_text(kpi: Kpi, c: Crossing) -> str:
    if c.state == "met":
        return "met now"
    if c.state == "unreachable":
        return f"not reachable at the current trend ({c.reason})"
    assert c.date is not None and c.earliest is not None
    return f"around {day(c.date)}, 80 %: {span(c.earliest, c.latest)}"


def estimate_text(kpi: Kpi, e: Estimate) -> str:
    return f"{amount(kpi, e.value)} expected (80 %: {value_range(kpi, e.low, e.high)})"


def card_line(result: KpiForecast) -> str | None:
    """The one line on the /kpi card: the next goal not met yet, or the value a month ahead."""
    kpi = result.kpi
    if result.shortage is not None:
        return f"{ICON} Forecast: too little data yet — need {need(result.shortage)}."
    if result.forecast is None:
        return None
    pending = next((c for c in result.crossings if c.state != "met"), None)
    if pending is not None and pending.state == "expected":
        return f"{ICON} At this pace: {goal_name(kpi, pending.goal)} {crossing_text(kpi, pending)}"
    if pending is not None:
        return (f"{ICON} At this pace the {pending.goal.label} ({amount(kpi, pending.goal.value)}) is "
                f"{crossing_text(kpi, pending)}")
    return None


def trend_text(result: KpiForecast, tz) -> str:
    kpi, fit = result.kpi, result.forecast.fit  # type: ignore[union-attr]
    weekly = fit.slope * 7
    arrow = "→" if weekly == 0 else "↑" if weekly > 0 else "↓"
    size = (f"{formatting.number(abs(weekly))} pts" if kpi.unit in ("percent", "percent_per_hour")
            else amount(kpi, abs(weekly)))
    days = fit.origin - fit.window_start
    notes = [f"Theil–Sen over the last {days:.0f} days, {fit.points} days with data"]
    if fit.season is not None:
        notes.append("with its weekday pattern")
    if fit.shift_at is not None:
        notes.append(f"level shift on {day(to_datetime(fit.shift_at).astimezone(tz).date())}")
    return f"*Trend:* {arrow} {size} per week ({', '.join(notes)})"


def calibration_text(result: KpiForecast) -> str:
    calibration = result.forecast.calibration  # type: ignore[union-attr]
    if calibration.fallback:
        return ("Few past forecasts to check against yet: the 80 % intervals are Student-t intervals widened by half "
                "and less reliable than usual.")
    return (f"80 % intervals from {calibration.scores:,} errors of this model's own past forecasts "
            f"(the forecast is the expected daily mean).")


def forecast_lines(result: KpiForecast, tz) -> list[str]:
    """Everything `/kpi <name> forecast` and `aurum forecast` say about a KPI."""
    kpi = result.kpi
    if result.shortage is not None:
        return [too_little(result.shortage)]
    if result.forecast is None and result.latest is not None:
        return [f"No values in the last {HISTORY_DAYS} days, so nothing recent to forecast."]
    if result.forecast is None:
        alias = kpi.aliases[0] if kpi.aliases else kpi.key
        return [f"No data yet, so nothing to forecast. Record values with `/kpi record {alias} <value>`."]
    lines = [trend_text(result, tz)]
    for c in result.crossings:
        label = c.goal.label[0].upper() + c.goal.label[1:]
        lines.append(f"*{label} {amount(kpi, c.goal.value)}:* {crossing_text(kpi, c)}")
    if result.on is not None:
        lines.append(f"*On {day(result.on.on)}:* {estimate_text(kpi, result.on)}")
    lines.append(calibration_text(result))
    return lines


def plain(line: str) -> str:
    """mrkdwn → terminal text."""
    return line.replace("*", "").replace("`", "")


def outlook_summary(outlooks: Sequence[KpiOutlook]) -> str:
    """'On track for the Q1 2027 target: 3 of 12 KPIs; at risk: …; off track: …; no forecast: …'."""
    if not outlooks:
        return "No KPIs with targets to forecast."
    label = quarter_label(outlooks[0].deadline)
    groups = {state: [o.kpi.name for o in outlooks if o.state == state]
              for state in ("on_track", "at_risk", "off_track", "unknown")}
    text = f"On track for the {label} target: {len(groups['on_track'])} of {len(outlooks)} KPIs"
    for state, title in (("at_risk", "at risk"), ("off_track", "off track"), ("unknown", "no forecast yet")):
        if groups[state]:
            text += f"; {title}: {', '.join(groups[state])}"
    return text


def phase_line(phase: PhaseOutlook) -> str:
    return f"*Phase {phase.number}: {phase.name}* — {phase_state(phase)}"


def phase_state(phase: PhaseOutlook) -> str:
    """When the phase's success metrics are all expected to meet their targets, or why no date can be given."""
    if phase.state == "done":
        return "every metric meets its target"
    if phase.state == "expected":
        assert phase.date is not None and phase.earliest is not None
        return f"expected around {day(phase.date)}, 80 %: {span(phase.earliest, phase.latest)}"
    names = ", ".join(k.name for k in phase.waiting_for)
    if phase.state == "unreachable":
        return f"not at the current trend: {names} not reaching target"
    return f"no completion date yet: too little data for {names}"
