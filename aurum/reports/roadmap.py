"""Roadmap completion: each phase's success metrics and the share of them met (the `/roadmap` command, the executive
dashboard and the quarterly pack)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from aurum.core.context import Context
from aurum.kpis import blocks, formatting
from aurum.kpis import service as kpis
from aurum.kpis.status import KpiStatus
from aurum.reports import inputs


@dataclass(frozen=True)
class PhaseProgress:
    number: int
    name: str
    metrics: list[KpiStatus]
    outlook: str | None = None

    @property
    def met(self) -> int:
        return sum(1 for s in self.metrics if s.meets_target)

    @property
    def percent(self) -> float:
        return self.met / len(self.metrics) * 100.0 if self.metrics else 0.0

    @property
    def complete(self) -> bool:
        return bool(self.metrics) and self.met == len(self.metrics)

    @property
    def status(self) -> str:
        if self.complete:
            return "✅ complete"
        if any(s.latest is not None for s in self.metrics):
            return "🚧 in progress"
        return "⚪ not started"


@dataclass(frozen=True)
class Roadmap:
    phases: list[PhaseProgress]
    current_phase: int

    @property
    def met(self) -> int:
        return sum(p.met for p in self.phases)

    @property
    def total(self) -> int:
        return sum(len(p.metrics) for p in self.phases)

    @property
    def percent(self) -> float:
        """Roadmap completion: the share of all phases' success metrics met."""
        return self.met / self.total * 100.0 if self.total else 0.0

    def phase(self, number: int) -> PhaseProgress | None:
        return next((p for p in self.phases if p.number == number), None)


def compute(ctx: Context, session: Session, team_id: str, statuses: dict[str, KpiStatus] | None = None,
            with_outlook: bool = True) -> Roadmap:
    statuses = statuses if statuses is not None else kpis.statuses(ctx, session, team_id)
    phases = []
    for phase in ctx.catalog.phases:
        metrics = [statuses[m] for m in phase.metrics if m in statuses]
        outlook = inputs.phase_outlook(ctx, session, team_id, phase.number) if with_outlook else None
        phases.append(PhaseProgress(phase.number, phase.name, metrics, outlook))
    return Roadmap(phases, ctx.config.current_phase)


def summary_line(roadmap: Roadmap) -> str:
    """`Roadmap completion: 23% (Phase 1: 78% complete)` as the seed's executive dashboard writes it."""
    current = roadmap.phase(roadmap.current_phase)
    tail = f" (Phase {current.number}: {formatting.number(current.percent)}% complete)" if current else ""
    return f"*Roadmap completion*: {formatting.number(roadmap.percent)}%{tail}"


def metric_line(status: KpiStatus) -> str:
    kpi = status.kpi
    value = formatting.value(kpi, status.latest.value) if status.latest else "no data"
    return f"{status.emoji} {kpi.name}: {value}{formatting.target_note(kpi)}"


def render(roadmap: Roadmap, team: str = "") -> list[dict]:
    """`team`: the team's name, in the header ("" for a workspace without teams)."""
    out = [blocks.header(f"🗺️ Roadmap{f' of {team}' if team else ''}: phases 1–4"),
           blocks.section(f"{summary_line(roadmap)} — {roadmap.met} of {roadmap.total} phase success metrics met. "
                          f"Current phase: {roadmap.current_phase}.")]
    for phase in roadmap.phases:
        marker = " ← current" if phase.number == roadmap.current_phase else ""
        head = (f"*Phase {phase.number}: {blocks.escape(phase.name)}* — {formatting.number(phase.percent)}% "
                f"({phase.met}/{len(phase.metrics)} metrics met) · {phase.status}{marker}")
        lines = [metric_line(s) for s in phase.metrics]
        out.append(blocks.section(head + "\n" + "\n".join(lines)))
        if phase.outlook:
            out.append(blocks.context(f"Outlook: {blocks.escape(phase.outlook)}"))
    if not any(p.outlook for p in roadmap.phases):
        out.append(blocks.context(f"Expected completion dates: {inputs.NOT_AVAILABLE} · "
                                  "record phase metrics with `/kpi record <name> <value>`"))
    return blocks.capped(out)
