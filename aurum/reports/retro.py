"""The sprint-end retrospective for scrum masters: velocity against 40–60 and the previous 3 sprints, committed vs
completed, carry-over, KPIs that moved, alerts, the survey trend, discussion points and a chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from aurum.core import outbox
from aurum.core.context import Context
from aurum.kpis import blocks, formatting
from aurum.kpis import service as kpis
from aurum.kpis.dashboard import QUALITY_GATES, gates_passing
from aurum.kpis.movement import Movement, movements
from aurum.kpis.status import KpiStatus
from aurum.recognition import kudos as recognition
from aurum.reports import charts as report_charts
from aurum.reports import inputs, sprints
from aurum.reports.common import File, Report, bullet_list, core_kpis, deliver, not_available
from aurum.squads import teams as squads
from storage import claims, notes
from storage import sprints as sprint_repo
from storage.notes import TeamNote
from storage.sprints import Sprint
from storage.types import DEFAULT_SQUAD

JOB = "sprint_retrospective"  # the claim's job name; the period is the sprint ("sprint-<id>")
HISTORY = 6
MAX_MOVES = 6
CARRY_OVER_NOTE = 0.10


@dataclass(frozen=True)
class Retro:
    sprint: Sprint
    since: datetime
    until: datetime
    committed: float | None
    completed: float | None
    previous: sprints.VelocityAverage | None
    band: tuple[float, float] | None
    moved: list[Movement]
    alerts: list[inputs.AlertSummary] | None
    surveys: list[inputs.SurveySummary] | None
    recurring: list[TeamNote]
    gates: list[KpiStatus]
    history: list[Sprint]

    @property
    def carry_over(self) -> float | None:
        if self.committed is None or self.completed is None:
            return None
        return max(0.0, self.committed - self.completed)

    @property
    def in_band(self) -> bool | None:
        if self.band is None or self.completed is None:
            return None
        return self.band[0] <= self.completed <= self.band[1]

    @property
    def gates_pass(self) -> bool:
        passing, failing = gates_passing(self.gates)
        return bool(passing) and not failing

    @property
    def excellent(self) -> bool:
        """Sprint Excellence: velocity in the target band with every quality gate that has data passing."""
        return bool(self.in_band) and self.gates_pass


def window(sprint: Sprint, now: datetime) -> tuple[datetime, datetime]:
    until = sprint.completed_at or sprint.end_at or now
    since = sprint.start_at or until - sprints.SPRINT_LENGTH
    return since, until


def compute(ctx: Context, session: Session, team_id: str, sprint: Sprint) -> Retro:
    since, until = window(sprint, ctx.now())
    velocity = ctx.catalog.get(sprints.VELOCITY)
    band = None
    if velocity.target and velocity.target.op == "range":
        low, high = velocity.target.low, velocity.target.high
        assert low is not None and high is not None  # Target.parse gives a range both ends
        band = (low, high)
    others = [k for k in core_kpis(ctx) if k.key != sprints.VELOCITY]  # velocity has its own lines
    moves = [m for m in movements(ctx, session, team_id, since, until, others)
             if m.improved or m.regressed or m.reached_target or m.fell_off_target]
    moves.sort(key=lambda m: -abs(m.score or 0))
    history = list(reversed(sprint_repo.closed(session, team_id, until=until, limit=HISTORY, squad=ctx.squad)))
    if sprint.state != sprint_repo.CLOSED:
        history = [*history[-(HISTORY - 1):], sprint]
    recurring = [b for b in notes.open_notes(session, team_id, notes.BLOCKER, squad=ctx.squad) if b.created_at < since]
    return Retro(
        sprint=sprint, since=since, until=until, committed=sprint.committed_points,
        completed=sprint.completed_points, band=band,
        previous=sprints.velocity_average(session, team_id, since, squad=ctx.squad),
        moved=moves[:MAX_MOVES],
        alerts=inputs.alerts_raised(ctx, session, team_id, since, until),
        surveys=inputs.survey_trend(ctx, session, team_id, since, until),
        recurring=recurring,
        gates=[kpis.status(ctx, session, team_id, ctx.catalog.get(k)) for k in QUALITY_GATES],
        history=history,
    )


def chart(data: Retro) -> File:
    names = [s.name for s in data.history]
    completed = [float(s.completed_points or 0) for s in data.history]
    averages: list[float | None] = []
    for i in range(len(completed)):
        window_values = completed[max(0, i - 2): i + 1]
        averages.append(sum(window_values) / len(window_values) if i >= 2 else None)
    title = "Committed vs completed, last sprints"
    png = report_charts.sprint_bars(names, [s.committed_points for s in data.history], completed, data.band, title,
                                    averages)
    return File(png, f"sprint-{data.sprint.id}-velocity.png", title,
                report_charts.velocity_alt_text(title, names, completed, data.band))


def build(ctx: Context, session: Session, team_id: str, sprint: Sprint) -> Report:
    data = compute(ctx, session, team_id, sprint)
    return Report("sprint", f"Sprint retrospective — {blocks.escape(sprint.name)}", render(data), [chart(data)])


def post_once(ctx: Context, session: Session, team_id: str, sprint: Sprint, owner: str) -> str | None:
    """Post the retrospective of a closed sprint once (claimed per sprint): the scrum masters' channel of the
    sprint's team, a DM to each of its scrum masters (the team's own, else `reports.scrum_masters`), and Sprint
    Excellence when earned. None when it was posted before."""
    squad = squads.by_stored(ctx.config, sprint.squad)
    ctx = squads.scope(ctx, squad)
    period = f"sprint-{sprint.id}"
    if claims.find(session, team_id, JOB, period) is not None:
        return None  # posted before: skip without provoking a unique-key error every watch
    claim = claims.try_claim(session, team_id, JOB, period, owner)
    if claim is None:
        return None
    data = compute(ctx, session, team_id, sprint)
    report = Report("sprint", f"Sprint retrospective — {blocks.escape(sprint.name)}", render(data), [chart(data)])
    settings = ctx.config.reports
    key = f"retro:{team_id}:sprint-{sprint.id}"
    deliver(session, team_id, report, squads.channel(ctx.config, squad, settings.retro_channel or "scrum_masters"), key)
    for user in (squad.config.scrum_masters if squad.config else []) or settings.scrum_masters:
        outbox.post(session, team_id, user, report.text, report.blocks, key=f"{key}:dm:{user}")
    if data.excellent:
        recognition.achieve(ctx, session, team_id, "sprint_excellence", f"sprint_excellence:sprint-{sprint.id}",
                            f"{sprint.name}: {formatting.number(data.completed or 0)} points, inside the 40–60 band, "
                            "with every quality gate passing", at=data.until)
    claims.finish(session, claim)
    return key


# --- rendering ------------------------------------------------------------------------------------------------------


def velocity_lines(data: Retro) -> list[str]:
    lines = []
    if data.completed is None:
        lines.append("*Velocity*: no completed points recorded")
    else:
        band = ""
        if data.band is not None:
            verdict = "inside" if data.in_band else "below" if data.completed < data.band[0] else "above"
            band = f" — {verdict} the {data.band[0]:g}–{data.band[1]:g} target"
        lines.append(f"*Velocity*: {formatting.number(data.completed)} points{band}")
    if data.previous is not None and data.completed is not None:
        delta = data.completed - data.previous.value
        arrow = "↑" if delta > 0 else "↓" if delta < 0 else "→"
        lines.append(f"*Previous {len(data.previous.values)}-sprint average*: "
                     f"{formatting.number(data.previous.value)} points ({arrow} {formatting.number(abs(delta))})")
    if data.committed is not None and data.completed is not None:
        rate = data.completed / data.committed * 100 if data.committed else 0
        lines.append(f"*Committed vs completed*: {formatting.number(data.completed)}/"
                     f"{formatting.number(data.committed)} points ({formatting.number(rate)}%)")
        lines.append(f"*Carry-over*: {formatting.number(data.carry_over or 0)} points")
    return lines


def discussion_points(data: Retro) -> list[str]:
    points = []
    if data.in_band is False and data.completed is not None and data.band is not None:
        where = "below" if data.completed < data.band[0] else "above"
        points.append(f"Velocity {formatting.number(data.completed)} is {where} the {data.band[0]:g}–"
                      f"{data.band[1]:g} band: what drove it?")
    if data.committed and (data.carry_over or 0) > CARRY_OVER_NOTE * data.committed:
        points.append(f"{formatting.number(data.carry_over or 0)} points carried over: were stories too big, or was "
                      "scope added mid-sprint?")
    for move in [m for m in data.moved if m.regressed or m.fell_off_target][:3]:
        points.append(f"Regression — {move.line()}: what changed?")
    for blocker in data.recurring[:3]:
        points.append(f"Recurring blocker #{blocker.id}, open since {blocker.created_at:%d %b}: "
                      f"{blocks.escape_keep_mentions(blocker.text)} — escalate?")
    for survey in data.surveys or []:
        points += [f"Survey: {blocks.escape(flag)}" for flag in survey.flags]
    if not points:
        points.append("No regressions or recurring blockers: what made this sprint work, and how do we keep it?")
    return points


def render(data: Retro) -> list[dict]:
    sprint = data.sprint
    dates = f"{sprint.start_at:%d %b} – {data.until:%d %b %Y}" if sprint.start_at else f"closed {data.until:%d %b %Y}"
    out = [blocks.header(f"🔁 Sprint retrospective — {sprint.name}"),
           blocks.context(f"{blocks.escape(dates)} · source: {blocks.escape(sprint.source)}"),
           blocks.section("*Delivery*\n" + bullet_list(velocity_lines(data), ""))]
    if data.excellent:
        out.append(blocks.section("🏆 *Sprint Excellence*: velocity in the target band, every quality gate passing."))
    out.append(blocks.section("*KPIs that moved during the sprint*\n" + bullet_list(
        [("📈 " if (m.score or 0) > 0 else "📉 ") + m.line() for m in data.moved],
        "No KPI moved notably during the sprint.")))
    passing, failing = gates_passing(data.gates)
    gate_text = ("✅ all quality gates with data passing" if passing and not failing else
                 "⚠️ failing: " + ", ".join(f"{g.kpi.name} ({formatting.value(g.kpi, g.latest.value)})"
                                            for g in failing if g.latest) if failing else "⚪ no quality gate data")
    out.append(blocks.section(f"*Quality gates*: {gate_text}"))
    if data.alerts is None:
        alerts = not_available("Alerts")
    else:
        alerts = bullet_list([f"{'🔴' if a.severity == 'critical' else '🟠'} {blocks.escape(a.rule)} — "
                              f"{blocks.escape(a.summary)} ({a.started_at:%d %b %H:%M})" for a in data.alerts],
                             "No alert fired during the sprint.")
    out.append(blocks.section("*Alerts raised*\n" + alerts))
    if data.surveys:
        out.append(blocks.section("*Survey trend across the sprint*\n" + bullet_list(
            [s.line() for s in data.surveys], "")))
    else:
        out.append(blocks.section("*Survey trend across the sprint*\n" + not_available("Survey results")))
    out.append(blocks.section("*Suggested discussion points*\n" + bullet_list(discussion_points(data), "")))
    out.append(blocks.context("📈 Committed vs completed in the thread · `/report sprint preview` any time"))
    return blocks.capped(out)


def latest_closed(session: Session, team_id: str, squad: str = DEFAULT_SQUAD) -> Sprint | None:
    found = sprint_repo.closed(session, team_id, limit=1, squad=squad)
    return found[0] if found else None


def sprint_to_preview(session: Session, team_id: str, squad: str = DEFAULT_SQUAD) -> Sprint | None:
    """The sprint `/report sprint preview` shows: the latest closed one, else the one running."""
    return latest_closed(session, team_id, squad) or sprint_repo.active(session, team_id, squad)
