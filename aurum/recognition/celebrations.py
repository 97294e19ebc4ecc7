"""Celebrations: a shout-out when a KPI reaches its target or stretch goal — once per crossing, and again only after
it fell back and reached it anew — plus Quality Milestones and phase completion. Which values count is decided in
aurum.recognition.milestones (the card's status; no 🎉 for a recovery or for too few samples). Runs as a snapshot
listener, in the transaction that stores the values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.core import outbox
from aurum.core.context import Context
from aurum.kpis import blocks, formatting
from aurum.kpis.catalog import Kpi
from aurum.recognition import kudos as recognition
from aurum.recognition.achievements import crossing_key
from aurum.recognition.milestones import STRETCH, TARGET, reached, recovery_only
from storage import recognition as repo
from storage import snapshots
from storage.rollups import SnapshotBase
from storage.types import DEFAULT_SQUAD

PHASE = "phase"
QUALITY_MILESTONE = {"test_coverage_percentage", "api_response_time_p95", "api_response_time_p99",
                     "technical_debt_percentage"}


def on_snapshots(ctx: Context, session: Session, team_id: str, points: Sequence[SnapshotBase]) -> None:
    """The listener: compare each touched KPI's newest value with its stored crossing state (the workspace's, kept
    for its default team's values: another team's snapshots are left alone)."""
    if ctx.squad != DEFAULT_SQUAD:
        return
    keys = sorted({p.kpi for p in points if p.kpi in ctx.catalog.kpis})
    tracked = [k for k in keys if ctx.catalog.get(k).target is not None or ctx.catalog.get(k).stretch is not None]
    if not tracked:
        return
    earliest = min(p.at for p in points)
    state = repo.crossings(session, team_id, tracked)
    for key in tracked:
        kpi = ctx.catalog.get(key)
        latest = snapshots.latest(session, team_id, key, squad=ctx.squad)
        if latest is None:
            continue
        now_met = reached(ctx, session, team_id, kpi, latest.value, latest.at)
        for level, met in now_met.items():
            row = state.get((key, level))
            if row is None:
                # First sight: what held before this batch decides; no history means no celebration.
                before = snapshots.latest(session, team_id, key, before=_just_before(earliest), squad=ctx.squad)
                was = reached(ctx, session, team_id, kpi, before.value, before.at).get(level, False) \
                    if before is not None else met
                row = repo.new_crossing(session, team_id, key, level, was, latest.at)
                if row is None:
                    continue
            if met == row.reached:
                continue
            row.reached, row.changed_at = met, latest.at
            if met:
                row.crossings += 1
                if not recovery_only(kpi):  # a problem count back at 0 is a recovery, not a milestone
                    _celebrate(ctx, session, team_id, kpi, level, latest.value, latest.at, row.crossings)
            session.add(row)
    phases = {ctx.catalog.get(k).phase for k in tracked} - {None}
    for number in sorted(phases):  # type: ignore[type-var]
        _check_phase(ctx, session, team_id, number)  # type: ignore[arg-type]


def _just_before(at: datetime) -> datetime:
    return at - timedelta(microseconds=1)


def _celebrate(ctx: Context, session: Session, team_id: str, kpi: Kpi, level: str, value: float, at: datetime,
               count: int) -> None:
    shown = formatting.value(kpi, value)
    if level == STRETCH:
        title, goal = f"{kpi.name} beat its {kpi.stretch_label}", formatting.value(kpi, kpi.stretch)  # type: ignore[arg-type]
        kind = "kpi_stretch"
    else:
        title, goal = f"{kpi.name} reached its target", formatting.target(kpi)
        kind = "quality_milestone" if kpi.key in QUALITY_MILESTONE else "kpi_target"
    detail = f"{kpi.name} is at {shown} ({level} {goal})"
    label = "🏅 Quality Milestone — " if kind == "quality_milestone" else "🎯 "
    key = crossing_key(kpi.key, level, count)
    baseline = formatting.value(kpi, kpi.baseline) if kpi.baseline is not None else "—"
    message = [blocks.header(f"{label}{title}!"),
               blocks.section(f"*{kpi.name}* is now *{shown}* — {level} {goal}. Baseline was {baseline}."),
               blocks.context(f"Crossing #{count} · celebrate it at the next all-hands 🥳")]
    outbox.post(session, team_id, recognition.celebrations_channel(ctx), f"🎉 {title}: {shown}", message, key=key)
    recognition.achieve(ctx, session, team_id, kind, key, detail, title=title, announce=False, at=at)


def _check_phase(ctx: Context, session: Session, team_id: str, number: int) -> None:
    metrics = ctx.catalog.phase_metrics(number)
    values = [snapshots.latest(session, team_id, k.key, squad=ctx.squad) for k in metrics]
    complete = bool(metrics) and all(v is not None and reached(ctx, session, team_id, k, v.value, v.at).get(TARGET)
                                     for k, v in zip(metrics, values, strict=True))
    key = f"phase:{number}"
    row = repo.crossings(session, team_id, [key]).get((key, PHASE))
    if row is None:
        row = repo.new_crossing(session, team_id, key, PHASE, False, ctx.now())
        if row is None:
            return
    if complete == row.reached:
        return
    row.reached, row.changed_at = complete, ctx.now()
    session.add(row)
    if complete:
        row.crossings += 1
        phase = next(p for p in ctx.catalog.phases if p.number == number)
        recognition.achieve(ctx, session, team_id, "phase_complete", f"phase_complete:{number}:{row.crossings}",
                            f"Phase {number} ({phase.name}): all {len(metrics)} success metrics meet their targets",
                            title=f"Phase {number} complete: {phase.name}")
