"""Source health for people: `/kpi sources`, the stale note on a KPI card, and `aurum collect`'s report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from aurum.collectors import runner
from aurum.core.context import Context
from aurum.kpis import blocks, formatting
from aurum.kpis.status import KpiStatus
from storage import sources as repo
from storage.sources import SourceHealth


@dataclass(frozen=True)
class SourceState:
    name: str
    label: str
    configured: bool
    schedule: str | None
    next_run: datetime | None
    health: SourceHealth | None

    @property
    def failing(self) -> bool:
        return repo.failing(self.health)


def states(ctx: Context, session: Session, team_id: str) -> list[SourceState]:
    rows = repo.all_health(session, team_id)
    found = []
    for name in runner.SOURCES:
        configured = ctx.config.sources.configured(name)
        found.append(SourceState(name=name, label=runner.LABELS[name], configured=configured,
                                 schedule=runner.schedule(ctx, name) if configured else None,
                                 next_run=runner.next_run(ctx, name) if configured else None,
                                 health=rows.get(name)))
    return found


def stale_note(session: Session, team_id: str, status: KpiStatus, now: datetime) -> str | None:
    """Why a KPI card shows an old value: its source's last error, in words."""
    if status.latest is None:
        return None
    row = repo.all_health(session, team_id).get(status.latest.source)
    if row is None or row.last_error_at is None or not repo.failing(row):
        return None
    since = formatting.age(row.last_error_at, now)
    return (f"⚠️ *{runner.LABELS.get(row.source, row.source)}* failed {since}: {blocks.escape(row.last_error or '')}. "
            f"Showing the last good value, from {formatting.age(status.latest.at, now)}.")


def _line(state: SourceState, now: datetime, tz) -> str:
    if not state.configured:
        return f"⚪ *{state.label}* — not configured (`sources.{state.name}` in the config file)"
    health = state.health
    emoji = "🔴" if state.failing else "🟡" if health and health.last_error and not state.failing else \
        "🟢" if health and health.last_success_at else "⚪"
    parts = [f"{emoji} *{state.label}* `{state.schedule}`"]
    if health and health.last_success_at:
        parts.append(f"last success {formatting.age(health.last_success_at, now)} ({health.last_stored} values)")
    else:
        parts.append("never succeeded yet")
    if health and health.last_error and health.last_error_at:
        parts.append(f"last error {formatting.age(health.last_error_at, now)}: {blocks.escape(health.last_error)}")
    if state.next_run:
        parts.append(f"next run {state.next_run.astimezone(tz).strftime('%a %H:%M %Z')}")
    return " · ".join(parts)


def overview(items: list[SourceState], now: datetime, tz) -> list[dict]:
    configured = [s for s in items if s.configured]
    lines = [_line(s, now, tz) for s in configured] or ["No source is configured yet."]
    idle = [s for s in items if not s.configured]
    result = [blocks.header("Data sources"), blocks.section("\n".join(lines))]
    if idle:
        result.append(blocks.context("Not configured: " + ", ".join(f"{s.label} (`{s.name}`)" for s in idle)
                                     + ". Values can also be pushed to `/api/v1/metrics` or typed with `/kpi record`."))
    return blocks.capped(result)
