"""The chart of a KPI's period with its forecast: what `/kpi <name> [period]` posts beside the card."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from aurum.core.context import Context
from aurum.forecast.service import KpiForecast, chart_until, projection
from aurum.kpis import charts, formatting
from aurum.kpis.catalog import Kpi
from aurum.kpis.service import PERIODS, KpiView


def period_until(result: KpiForecast, points: Sequence[tuple[datetime, float]], now: datetime, tz,
                 period_days: int) -> date:
    """How far the chart of a period projects: half the span its data covers, or to a goal expected within that span;
    so the data always takes most of the chart. A "last 1y" chart of six months of data shows three months of
    forecast, not half a year; a "last 7d" chart three days."""
    shown = period_days if not points else min(period_days, max(1, (now - points[0][0]).days))
    return chart_until(result, now.astimezone(tz).date(), max(shown // 2, 1), shown)


@dataclass(frozen=True)
class PeriodChart:
    kpi: Kpi
    points: list[tuple[datetime, float]]
    title: str  # the KPI, the period and, when the data starts later, since when there is data
    until: date  # the forecast's last day
    result: KpiForecast
    tz: object
    latest: list[tuple[datetime, float]]  # the card's value: a chart of bucket means ends on a mean

    @property
    def key(self) -> tuple:
        """What the picture depends on, for caching it."""
        return self.kpi.key, self.title, self.until, charts.series_key(self.points)

    def png(self) -> bytes:
        return charts.kpi_chart(self.kpi, self.points, self.tz, self.title,
                                forecast=projection(self.result, self.until, self.tz))

    def alt_text(self) -> str:
        return charts.kpi_alt_text(self.kpi, self.latest, self.tz, self.title,
                                   "With the forecast, if any, as a dashed line.")


def period_chart(ctx: Context, view: KpiView, result: KpiForecast) -> PeriodChart:
    kpi = result.kpi
    title = formatting.plain(charts.span_title(f"{kpi.name}, last {view.period}", view.points, view.since, ctx.tz))
    until = period_until(result, view.points, ctx.now(), ctx.tz, PERIODS[view.period].days)
    latest = view.status.latest
    return PeriodChart(kpi, view.points, title, until, result, ctx.tz,
                       [(latest.at, latest.value)] if latest is not None else [])
