"""Block Kit for forecasts: pure builders over aurum.kpis.blocks' helpers, validated with slack_sdk in the tests."""

from __future__ import annotations

from collections.abc import Sequence

from aurum.forecast import text
from aurum.forecast.service import KpiForecast, KpiOutlook, PhaseOutlook
from aurum.kpis import blocks

DEFINITION = ("Expected = the daily mean the trend points to; 80 %: the range the value falls in 8 times out of 10, "
              "judged on this KPI's own past forecasts.")


def forecast_card(result: KpiForecast, tz, chart_note: str | None = None) -> list[dict]:
    """`/kpi <name> forecast`: trend, when each goal is reached, the value on a date, how the intervals are made."""
    kpi = result.kpi
    lines = text.forecast_lines(result, tz)
    notes = [f"`{kpi.aliases[0] if kpi.aliases else kpi.key}` · {DEFINITION}"]
    if chart_note:
        notes.append(chart_note)
    return [blocks.header(f"{text.ICON} {kpi.name}: forecast"), blocks.section("\n".join(lines)),
            blocks.context(*notes)]


def forecast_text(result: KpiForecast) -> str:
    """Notification text for the forecast card."""
    line = text.card_line(result)
    return f"{result.kpi.name} forecast" + (f": {text.plain(line.removeprefix(text.ICON).strip())}" if line else "")


def outlook_blocks(outlooks: Sequence[KpiOutlook], phases: Sequence[PhaseOutlook] = ()) -> list[dict]:
    """A section others can drop into the weekly summary, the executive dashboard or /roadmap."""
    found = [blocks.section(f"{text.ICON} {blocks.escape(text.outlook_summary(outlooks))}")]
    if phases:
        found.append(blocks.section("\n".join(text.phase_line(p) for p in phases)))
    return found
