"""The seed's "Team Weekly Status": sprint progress, burndown, velocity, wins, blockers, commitments, team metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.core.context import Context
from aurum.core.periods import week_key, week_start
from aurum.kpis import blocks, charts, formatting
from aurum.kpis import service as kpis
from aurum.kpis.charts import COLORS, Line
from aurum.kpis.movement import Movement, movements
from aurum.kpis.status import KpiStatus
from aurum.recognition import achievements as recorded
from aurum.recognition import kudos as recognition
from aurum.reports import charts as report_charts
from aurum.reports import inputs, narrative, sprints
from aurum.reports.common import File, Report, bullet_list, core_kpis, not_available
from storage import notes, snapshots
from storage.notes import TeamNote
from storage.recognition import Achievement

WINDOW = narrative.WEEK
CHART_WINDOW = timedelta(weeks=8)
TEAM_METRICS = ["code_review_time_days", "ci_success_rate_percentage", "test_coverage_percentage"]
CHART_KPIS = ["test_coverage_percentage", "ci_success_rate_percentage"]
MAX_WINS = 6


@dataclass(frozen=True)
class Weekly:
    since: datetime
    until: datetime
    period: str
    week_of: str
    sprint: sprints.Progress | None
    velocity: sprints.VelocityAverage | None
    wins: list[Movement]
    achievements: list[Achievement]
    blockers: list[TeamNote]
    survey: inputs.SurveySummary | None
    commitments: list[TeamNote]
    team: dict[str, KpiStatus]
    coverage_week: Movement | None
    suggestions: list[recognition.Suggestion] = field(default_factory=list)
    release: inputs.ReleaseSummary | None = None
    written: dict[str, list[str]] = field(default_factory=dict)  # note kind → lines people wrote (narrative)


def compute(ctx: Context, session: Session, team_id: str, until: datetime | None = None) -> Weekly:
    until = until or ctx.now()
    since = until - WINDOW
    local = until.astimezone(ctx.tz)
    moves = movements(ctx, session, team_id, since, until, core_kpis(ctx))
    achieved = recorded.between(session, team_id, since, until)
    wins = sorted((m for m in moves if (m.reached_target or m.improved) and m.kpi.key not in achieved.crossed),
                  key=lambda m: (not m.reached_target, -(m.score or 0)))[:MAX_WINS]
    team = {k: kpis.status(ctx, session, team_id, ctx.catalog.get(k)) for k in TEAM_METRICS}
    coverage = next((m for m in moves if m.kpi.key == "test_coverage_percentage"), None)
    sources = {}
    for key, _ in recognition.SUGGESTED_BY.values():
        row = snapshots.latest(session, team_id, key, before=until, squad=ctx.squad)
        if row is not None:
            sources[key] = row.source
    period = week_key(local)
    return Weekly(
        since=since, until=until, period=period,
        week_of=formatting.local_date(datetime.combine(week_start(local), datetime.min.time(), ctx.tz), ctx.tz),
        sprint=sprints.current(session, team_id, until, ctx.squad),
        velocity=sprints.velocity_average(session, team_id, until, squad=ctx.squad),
        wins=wins,
        achievements=achieved.achievements,
        blockers=notes.open_notes(session, team_id, notes.BLOCKER, squad=ctx.squad),
        survey=inputs.survey_summary(ctx, session, team_id, since, until),
        commitments=notes.added_between(session, team_id, notes.COMMITMENT, since, until, squad=ctx.squad),
        team=team, coverage_week=coverage,
        suggestions=recognition.suggestions(moves, sources, period),
        release=inputs.releases(ctx, session, team_id, since, until),
        written={kind: narrative.written_lines(ctx, session, team_id, narrative.between(ctx, session, team_id, kind,
                                                                                        since, until))
                 for kind in ("win", "risk", "commitment")},
    )


def chart(ctx: Context, session: Session, team_id: str, until: datetime) -> File:
    """Coverage and CI success over 8 weeks with their targets (both in percent: one axes)."""
    series, references, said = [], [], []
    for key, color in zip(CHART_KPIS, (COLORS["line"], "#bf3989"), strict=True):
        kpi = ctx.catalog.get(key)
        points = snapshots.series(session, team_id, key, since=until - CHART_WINDOW, until=until, squad=ctx.squad)
        series.append(report_charts.Series(kpi.name, points))
        said.append(charts.kpi_summary(kpi, points, ctx.tz))
        if kpi.target is not None:
            references.append(Line(f"{kpi.name} target {formatting.target(kpi)}", kpi.target.nearest(0), color))
    title = "Coverage and CI success, last 8 weeks"
    return File(report_charts.lines(series, references, ctx.tz, title, "%"), "weekly-team-metrics.png", title,
                charts.alt_text(f"Line chart, {title}, one line per KPI. {'; '.join(said)}."))


def build(ctx: Context, session: Session, team_id: str, until: datetime | None = None) -> Report:
    data = compute(ctx, session, team_id, until)
    return Report("weekly", f"Team weekly status — week of {data.week_of}", render(data),
                  [chart(ctx, session, team_id, data.until)])


# --- rendering ------------------------------------------------------------------------------------------------------


def sprint_lines(data: Weekly) -> list[str]:
    lines = []
    progress = data.sprint
    if progress is None:
        lines.append("No active sprint (`/sprint start <name> [committed points]`, or the Jira collector).")
    else:
        name = blocks.escape(progress.sprint.name)
        if progress.committed:
            lines.append(f"*{name}*: {formatting.number(progress.completed)}/{formatting.number(progress.committed)}"
                         f" story points completed ({formatting.number(progress.percent or 0)}%)")
            state = "On track for the sprint goal" if progress.on_track else "Behind the sprint goal"
            lines.append(f"*Burndown*: {state} (day {progress.day} of {progress.days}; "
                         f"{formatting.number(round(progress.expected or 0))} points expected by now)")
        else:
            lines.append(f"*{name}*: {formatting.number(progress.completed)} story points completed "
                         "(no commitment recorded)")
    if data.velocity is not None:
        source = "closed sprints" if data.velocity.source == "sprints" else "velocity snapshots"
        lines.append(f"*Velocity*: {len(data.velocity.values)}-sprint average: "
                     f"{formatting.number(data.velocity.value)} points (from {source}; target 40–60)")
    else:
        lines.append("*Velocity*: no closed sprint yet")
    return lines


def win_lines(data: Weekly) -> list[str]:
    lines = []
    for move in data.wins:
        verb = "reached its target" if move.reached_target else "improved"
        lines.append(f"🎉 {move.line()} — {verb}")
    lines += [f"🏅 *{a.title}*: {blocks.escape(a.detail)}" for a in data.achievements]
    if data.release is not None and data.release.deployments and not data.release.incidents:
        lines.append(f"🚀 *Release Success*: {data.release.deployments} deployments, no incident")
    return lines + data.written.get("win", [])


def blocker_lines(data: Weekly) -> list[str]:
    lines = [f"*BLOCKER* #{b.id}: {blocks.escape_keep_mentions(b.text)} — <@{b.author}>, "
             f"{formatting.age(b.created_at, data.until)}" for b in data.blockers]
    if data.survey is not None:
        lines += [f"*IMPEDIMENT* (survey): {blocks.escape(text)}" for text in data.survey.blockers]
    return lines + [f"*RISK* {line}" for line in data.written.get("risk", [])]


def team_metric_fields(data: Weekly) -> list[str]:
    fields = []
    labels = {"code_review_time_days": "Code reviews", "ci_success_rate_percentage": "CI success rate",
              "test_coverage_percentage": "Test coverage"}
    for key, status in data.team.items():
        kpi = status.kpi
        value = formatting.value(kpi, status.latest.value) if status.latest else "no data"
        extra = ""
        if key == "test_coverage_percentage" and data.coverage_week and data.coverage_week.change is not None:
            extra = f" ({data.coverage_week.change_text()} this week)"
        suffix = " average" if key == "code_review_time_days" and status.latest else ""
        fields.append(f"{status.emoji} *{labels[key]}*\n{value}{suffix}{extra} (target {formatting.target(kpi)})")
    if data.survey is not None:
        survey = data.survey
        fields.append(f"📝 *Team survey {survey.period}*\n{survey.scores_text()}\n{survey.answered_text()}")
    return fields


def render(data: Weekly) -> list[dict]:
    out = [
        blocks.header(f"📋 Team weekly status — week of {data.week_of}"),
        blocks.section("*Sprint progress*\n" + bullet_list(sprint_lines(data), "")),
        blocks.section("*This week's wins*\n" + bullet_list(
            win_lines(data), "No KPI reached its target or improved notably this week.")),
    ]
    survey_note = "" if data.survey is not None else "\n" + not_available("Survey blockers")
    out.append(blocks.section("*Blockers & impediments*\n" + bullet_list(
        blocker_lines(data), "None recorded — `/blocker add <text>` records one.") + survey_note))
    out.append(blocks.section("*Next week's commitments*\n" + bullet_list(
        data.written.get("commitment", []),
        "None recorded yet — add them with `/sprint commit <text>` (e.g. at the Friday review).")))
    out.append(blocks.section("*Team metrics*", team_metric_fields(data)))
    if data.suggestions:
        out.append(blocks.section("*Kudos candidates from this week's data* — confirm with one click"))
        out += recognition.suggestion_blocks(data.suggestions)
    out.append(blocks.context(f"Week {data.period} · 📈 Chart in the thread · `/report weekly preview` any time"))
    return blocks.capped(out)
