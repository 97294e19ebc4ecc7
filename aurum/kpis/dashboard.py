"""The seed's Technical Metrics Dashboard: API performance, system health, quality gates (for `/kpi dashboard`,
its live version and the App Home)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.core.context import Context
from aurum.kpis import blocks, charts
from aurum.kpis import service as kpis
from aurum.kpis.catalog import Kpi
from aurum.kpis.status import KpiStatus

DASHBOARD_GROUPS = [
    ("API performance", ["api_response_time_p95", "api_response_time_p99", "requests_per_second",
                         "api_error_rate_percentage"]),
    ("System health", ["cpu_usage_percentage", "memory_usage_percentage", "disk_usage_percentage",
                       "network_io_mb_per_second"]),
]
QUALITY_GATES = ["test_coverage_percentage", "technical_debt_percentage", "ci_success_rate_percentage",
                 "api_documentation_coverage_percentage"]
CHART_KPIS = ["api_response_time_p95", "api_response_time_p99", "test_coverage_percentage",
              "api_error_rate_percentage"]
CHART_WINDOW = timedelta(days=7)
CHART_TITLE = "Technical metrics, last 7 days"


@dataclass(frozen=True)
class Technical:
    groups: list[tuple[str, list[KpiStatus]]]
    gates: list[KpiStatus]
    as_of: datetime | None  # the newest value shown

    def blocks(self, now: datetime, chart_note: str | None = None) -> list[dict]:
        return blocks.dashboard(self.groups, self.gates, now, chart_note=chart_note)


def technical(ctx: Context, session: Session, team_id: str,
              statuses: dict[str, KpiStatus] | None = None) -> Technical:
    statuses = statuses if statuses is not None else kpis.statuses(ctx, session, team_id)
    groups = [(title, [statuses[k] for k in keys if k in statuses]) for title, keys in DASHBOARD_GROUPS]
    gates = [statuses[k] for k in QUALITY_GATES if k in statuses]
    shown = [s for _, items in groups for s in items] + gates
    times = [s.latest.at for s in shown if s.latest is not None]
    return Technical(groups=groups, gates=gates, as_of=max(times) if times else None)


def gates_passing(gates: Sequence[KpiStatus]) -> tuple[list[KpiStatus], list[KpiStatus]]:
    """(passing, failing) among the gates that have data."""
    with_data = [g for g in gates if g.latest is not None]
    return [g for g in with_data if g.meets_target], [g for g in with_data if not g.meets_target]


def chart_panels(ctx: Context, session: Session, team_id: str) -> list[tuple[Kpi, list[tuple[datetime, float]]]]:
    since = ctx.now() - CHART_WINDOW
    return [(ctx.catalog.get(k), kpis.series_since(session, team_id, k, since, ctx.squad)) for k in CHART_KPIS
            if k in ctx.catalog.kpis]


def chart(ctx: Context, panels) -> bytes:
    return charts.panel_chart(panels, ctx.tz, CHART_TITLE)


def chart_alt_text(ctx: Context, panels) -> str:
    return charts.panels_alt_text(panels, ctx.tz, CHART_TITLE)
