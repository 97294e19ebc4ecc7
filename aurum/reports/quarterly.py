"""The quarterly review pack: phase completion assessment, features delivered against 12–15, KPI changes over the
quarter, and a Markdown draft of the quarter's achievements for the engineering blog (attached as a file)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from aurum.core.context import Context
from aurum.core.periods import quarter_key, quarter_start
from aurum.kpis import blocks, formatting
from aurum.kpis import service as kpis
from aurum.kpis.catalog import Kpi
from aurum.kpis.movement import Movement, movements, value_at
from aurum.kpis.status import state_of
from aurum.recognition import kudos as recognition
from aurum.reports import roadmap
from aurum.reports.common import File, Report, bullet_list, core_kpis
from storage import recognition as recognition_repo
from storage import snapshots
from storage.recognition import Achievement, Kudos

FEATURES = "features_delivered_per_quarter"


@dataclass(frozen=True)
class PhaseChange:
    phase: roadmap.PhaseProgress
    met_at_start: int


@dataclass(frozen=True)
class Quarterly:
    label: str
    period: str
    since: datetime
    until: datetime
    phases: list[PhaseChange]
    roadmap: roadmap.Roadmap
    features: float | None
    features_kpi: Kpi
    changes: list[Movement]
    achievements: list[Achievement]
    kudos: list[Kudos]

    @property
    def features_verdict(self) -> str:
        target = self.features_kpi.target
        if self.features is None or target is None:
            return "no data"
        if target.met(self.features):
            return "✅ on target"
        return "below target" if target.low is not None and self.features < target.low else "above target"


def compute(ctx: Context, session: Session, team_id: str, until: datetime | None = None) -> Quarterly:
    until = until or ctx.now()
    local = until.astimezone(ctx.tz)
    since = quarter_start(ctx, local)
    statuses = kpis.statuses(ctx, session, team_id)
    plan = roadmap.compute(ctx, session, team_id, statuses)
    phases = []
    for phase in plan.phases:
        before = [value_at(session, team_id, s.kpi.key, since, ctx.squad) for s in phase.metrics]
        met = sum(1 for s, v in zip(phase.metrics, before, strict=True) if state_of(s.kpi, v) == "on_track")
        phases.append(PhaseChange(phase, met))
    feature = snapshots.latest(session, team_id, FEATURES, before=until, squad=ctx.squad)
    return Quarterly(
        label=f"Q{(local.month - 1) // 3 + 1} {local.year}", period=quarter_key(local), since=since, until=until,
        phases=phases, roadmap=plan,
        features=feature.value if feature is not None and feature.at >= since else None,
        features_kpi=ctx.catalog.get(FEATURES),
        changes=[m for m in movements(ctx, session, team_id, since, until, core_kpis(ctx)) if m.end is not None],
        achievements=recognition_repo.achievements_between(session, team_id, since, until),
        kudos=recognition_repo.kudos_between(session, team_id, since, until),
    )


def build(ctx: Context, session: Session, team_id: str, until: datetime | None = None) -> Report:
    data = compute(ctx, session, team_id, until)
    draft = blog_draft(data).encode("utf-8")
    return Report("quarterly", f"Quarterly review pack — {data.label}", render(data),
                  [File(draft, f"aurum-{data.period.lower()}-achievements.md",
                        f"Engineering blog draft — {data.label} achievements")])


# --- rendering ------------------------------------------------------------------------------------------------------


def phase_lines(data: Quarterly) -> list[str]:
    lines = []
    for change in data.phases:
        phase = change.phase
        total = len(phase.metrics)
        lines.append(f"*Phase {phase.number}: {blocks.escape(phase.name)}* — {phase.met}/{total} success metrics met "
                     f"({formatting.number(phase.percent)}%; {change.met_at_start}/{total} at the start of the "
                     f"quarter) · {phase.status}")
    return lines


def features_line(data: Quarterly) -> str:
    kpi = data.features_kpi
    if data.features is None:
        return f"*Features delivered*: none recorded this quarter (target {formatting.target(kpi)})"
    return (f"*Features delivered*: {formatting.value(kpi, data.features)} against the "
            f"{formatting.target(kpi)} target — {data.features_verdict}")


def render(data: Quarterly) -> list[dict]:
    improved = sorted((m for m in data.changes if (m.score or 0) > 0), key=lambda m: -(m.score or 0))
    regressed = sorted((m for m in data.changes if (m.score or 0) < 0), key=lambda m: m.score or 0)  # biggest first
    out = [
        blocks.header(f"🧭 Quarterly review pack — {data.label}"),
        blocks.section(f"{roadmap.summary_line(data.roadmap)}\n{features_line(data)}"),
        blocks.section("*Phase completion assessment*\n" + bullet_list(phase_lines(data), "")),
        blocks.section("*KPIs that improved this quarter*\n" + bullet_list([m.line() for m in improved], "None.")),
        blocks.section("*KPIs that regressed this quarter*\n" + bullet_list([m.line() for m in regressed], "None.")),
        blocks.section("*Achievements & recognition*\n" + bullet_list(
            recognition.roll_lines(data.kudos, data.achievements, limit=10),
            "No achievements or kudos recorded this quarter.")),
        blocks.section("*Agenda for the strategic review*\n• Phase completion assessment\n• Roadmap adjustments\n"
                       "• Resource planning"),
        blocks.context(f"Quarter {data.period} · 📝 Blog draft attached in the thread (Markdown)"),
    ]
    return blocks.capped(out)


def _md(text: str) -> str:
    """User text in the Markdown draft: no raw HTML."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def blog_draft(data: Quarterly) -> str:
    improved = sorted((m for m in data.changes if (m.score or 0) > 0), key=lambda m: -(m.score or 0))
    lines = [f"# {data.label} at Aurum engineering: what we shipped and what moved", "",
             "_Draft generated by Aurum from the roadmap metrics — check names and numbers before publishing._", "",
             "## Highlights", ""]
    highlights = [f"- **{a.title}**: {_md(a.detail)}" for a in data.achievements]
    if data.features is not None:
        highlights.append(f"- We delivered **{formatting.value(data.features_kpi, data.features)}** this quarter "
                          f"(target {formatting.target(data.features_kpi)}).")
    highlights += [f"- {m.kpi.name} reached its target: {formatting.value(m.kpi, m.end)}."  # type: ignore[arg-type]
                   for m in data.changes if m.reached_target]
    lines += highlights or ["- A steady quarter: no new target reached."]
    lines += ["", "## By the numbers", "", "| Metric | Start of quarter | End of quarter | Change |",
              "|---|---|---|---|"]
    for move in improved[:10]:
        start = formatting.value(move.kpi, move.start) if move.start is not None else "—"
        lines.append(f"| {move.kpi.name} | {start} | {formatting.value(move.kpi, move.end)} | "  # type: ignore[arg-type]
                     f"{move.change_text()} |")
    lines += ["", "## Roadmap progress", ""]
    lines += [f"- Phase {c.phase.number} ({c.phase.name}): {c.phase.met} of {len(c.phase.metrics)} success metrics "
              f"met, up from {c.met_at_start}." for c in data.phases]
    if data.kudos:
        lines += ["", "## Thank you", ""]
        lines += [f"- {recognition.AWARDS.get(k.award, k.award)}: @{k.receiver} — {_md(k.reason)}"
                  for k in data.kudos[:15]]
    lines += ["", "_Celebrate: team lunch for the milestones, shout-outs at the all-hands, and a conference talk "
              "proposal for the biggest win._", ""]
    return "\n".join(lines)
