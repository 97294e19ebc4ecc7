"""The seed's monthly "Executive Dashboard": roadmap completion, velocity and its trend, quality gates, budget, key
metrics, achievements, risks, next month's focus and the month's recognition roll."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.core.context import Context
from aurum.core.periods import month_key
from aurum.kpis import blocks, formatting
from aurum.kpis import service as kpis
from aurum.kpis.dashboard import QUALITY_GATES, gates_passing
from aurum.kpis.movement import Movement, movement, movements
from aurum.kpis.status import KpiStatus
from aurum.recognition import achievements as recorded
from aurum.recognition import kudos as recognition
from aurum.reports import budget as budgets
from aurum.reports import charts as report_charts
from aurum.reports import inputs, narrative, roadmap, sprints
from aurum.reports.common import File, Report, bullet_list, core_kpis, not_available
from aurum.squads import org as org_kpis
from storage import recognition as recognition_repo
from storage import snapshots
from storage import sprints as sprint_repo

WINDOW = narrative.MONTH
KEY_METRICS = ["api_response_time_p95", "test_coverage_percentage", "service_availability_percentage",
               "incident_recovery_time_minutes", "api_error_rate_percentage", "deployments_per_week",
               "technical_debt_percentage"]
BUDGET = budgets.KPI
CHART_SPRINTS = 12


@dataclass(frozen=True)
class Risk:
    level: str  # High | Medium | Low
    text: str


@dataclass(frozen=True)
class Executive:
    label: str
    period: str
    since: datetime
    until: datetime
    roadmap: roadmap.Roadmap
    velocity: Movement
    gates: list[KpiStatus]
    budget: KpiStatus
    key_metrics: list[tuple[KpiStatus, Movement]]
    achievements: list[str]
    risks: list[Risk]
    critical_alerts: list[inputs.AlertSummary] | None
    focus: list[KpiStatus]
    roll: list[str]
    stakeholders: inputs.SurveySummary | None
    entered_budget: budgets.Budget | None = None  # `/report budget`; else the budget KPI alone
    written: dict[str, list[str]] = field(default_factory=dict)  # note kind → lines people wrote (narrative)


def compute(ctx: Context, session: Session, team_id: str, until: datetime | None = None,
            org: bool = True) -> Executive:
    """`org`: the KPI values are the organisation's (every team's, rolled up: aurum.squads.org); else ctx's team's."""
    until = until or ctx.now()
    since = until - WINDOW
    statuses = org_kpis.statuses(ctx, session, team_id) if org else kpis.statuses(ctx, session, team_id)
    moves = {m.kpi.key: m for m in movements(ctx, session, team_id, since, until, core_kpis(ctx))}
    velocity = movement(session, team_id, ctx.catalog.get(sprints.VELOCITY), since, until)
    achieved = recorded.between(session, team_id, since, until)
    achievements = [f"✅ {m.kpi.name} reached its target: {formatting.value(m.kpi, m.end)}"  # type: ignore[arg-type]
                    for m in moves.values() if m.reached_target and m.kpi.key not in achieved.crossed]
    achievements += [f"🏅 {a.title}: {blocks.escape(a.detail)}" for a in achieved.achievements]
    closed = sprint_repo.closed_between(session, team_id, since, until)
    if closed:
        achievements.append(f"🏁 {len(closed)} sprint{'s' if len(closed) != 1 else ''} closed: "
                            + ", ".join(blocks.escape(s.name) for s in closed))
    alerts = inputs.active_alerts(ctx, session, team_id)
    return Executive(
        label=until.astimezone(ctx.tz).strftime("%B %Y"), period=month_key(until.astimezone(ctx.tz)),
        since=since, until=until,
        roadmap=roadmap.compute(ctx, session, team_id, statuses),
        velocity=velocity,
        gates=[statuses[k] for k in QUALITY_GATES if k in statuses],
        budget=statuses[BUDGET] if BUDGET in statuses else kpis.status(ctx, session, team_id, ctx.catalog.get(BUDGET)),
        key_metrics=[(statuses[k], moves.get(k) or movement(session, team_id, ctx.catalog.get(k), since, until))
                     for k in KEY_METRICS if k in statuses],
        achievements=achievements,
        risks=risks(statuses, moves),
        critical_alerts=None if alerts is None else [a for a in alerts if a.severity == "critical"],
        focus=focus(ctx, statuses),
        roll=recognition.roll_lines(recognition_repo.kudos_between(session, team_id, since, until), []),
        stakeholders=inputs.stakeholder_summary(ctx, session, team_id, since, until),
        entered_budget=budgets.current(ctx, session, team_id, until),
        written={kind: narrative.written_lines(ctx, session, team_id, narrative.between(ctx, session, team_id, kind,
                                                                                        since, until))
                 for kind in ("achievement", "risk", "focus")},
    )


def risks(statuses: dict[str, KpiStatus], moves: dict[str, Movement]) -> list[Risk]:
    found = []
    for key, move in moves.items():
        status = statuses.get(key)
        if status is None or status.latest is None:
            continue
        detail = f"{status.kpi.name} at {formatting.value(status.kpi, status.latest.value)} " \
                 f"(target {formatting.target(status.kpi)})"
        if status.state == "off_track" and move.regressed:
            found.append(Risk("High", f"{detail}, off track and regressing ({move.change_text()} this month)"))
        elif status.state == "off_track":
            found.append(Risk("Medium", f"{detail}, off track"))
        elif move.regressed or move.fell_off_target:
            found.append(Risk("Low", f"{detail}, regressing ({move.change_text()} this month)"))
    order = {"High": 0, "Medium": 1, "Low": 2}
    return sorted(found, key=lambda r: order[r.level])


def _gap(status: KpiStatus) -> float:
    """How far from target, for ordering: 100 − progress, or the relative gap to the target boundary."""
    if status.progress_pct is not None:
        return 100.0 - status.progress_pct
    if status.latest is None or status.kpi.target is None:
        return 0.0
    boundary = status.kpi.target.nearest(status.latest.value)
    return abs(status.latest.value - boundary) / (abs(boundary) or 1.0) * 100.0


def focus(ctx: Context, statuses: dict[str, KpiStatus], count: int = 3) -> list[KpiStatus]:
    """Next month's focus: the KPIs (and current-phase metrics) with data that are furthest from their target."""
    chosen = {k.key for k in core_kpis(ctx)} | {k.key for k in ctx.catalog.phase_metrics(ctx.config.current_phase)}
    missing = [s for key, s in statuses.items() if key in chosen and s.latest is not None and not s.meets_target
               and s.kpi.target is not None]
    return sorted(missing, key=_gap, reverse=True)[:count]


def chart(ctx: Context, session: Session, team_id: str, until: datetime) -> File:
    """Velocity per sprint (closed sprints, or the velocity snapshots) with the 40–60 band and a 3-sprint average."""
    closed = list(reversed(sprint_repo.closed(session, team_id, until=until, limit=CHART_SPRINTS)))
    if closed:
        names = [s.name for s in closed]
        committed = [s.committed_points for s in closed]
        completed = [float(s.completed_points or 0) for s in closed]
    else:
        points = list(snapshots.series(session, team_id, sprints.VELOCITY, since=until - timedelta(weeks=26),
                                       until=until, squad=ctx.squad))[-CHART_SPRINTS:]
        names = [f"{at.astimezone(ctx.tz):%d %b}" for at, _ in points]
        committed, completed = [None] * len(points), [v for _, v in points]
    average = [sum(completed[i - 2: i + 1]) / 3 if i >= 2 else None for i in range(len(completed))]
    title = "Velocity per sprint"
    return File(report_charts.sprint_bars(names, committed, completed, (40, 60), title, average),
                "velocity-trend.png", title, report_charts.velocity_alt_text(title, names, completed, (40, 60)))


def build(ctx: Context, session: Session, team_id: str, until: datetime | None = None, org: bool = True) -> Report:
    data = compute(ctx, session, team_id, until, org)
    return Report("exec", f"Aurum development dashboard — {data.label}", render(ctx, data),
                  [chart(ctx, session, team_id, data.until)])


# --- rendering ------------------------------------------------------------------------------------------------------


def velocity_line(data: Executive) -> str:
    move = data.velocity
    if move.end is None:
        return "*Velocity*: no sprint data yet"
    trend = ""
    if move.start:
        pct = (move.end - move.start) / move.start * 100
        trend = f" ({'↑' if pct > 0 else '↓' if pct < 0 else '→'}{formatting.number(abs(pct))}% vs last month)"
    return f"*Velocity*: {formatting.number(move.end)} story points/sprint{trend}"


def gates_line(data: Executive) -> str:
    passing, failing = gates_passing(data.gates)
    if not passing and not failing:
        return "*Quality gates*: ⚪ no data"
    if not failing:
        return "*Quality gates*: ✅ All gates passing"
    names = ", ".join(g.kpi.name for g in failing)
    return f"*Quality gates*: ⚠️ {len(failing)} of {len(passing) + len(failing)} failing ({names})"


def budget_line(ctx: Context, data: Executive) -> str:
    cur = ctx.config.reports.budget_currency
    if data.entered_budget is not None:
        entered = data.entered_budget
        return (f"*Budget*: {formatting.number(round(entered.used * 100, 1))}% utilized "
                f"({budgets.money(entered.spent, cur)} of {budgets.money(entered.budget, cur)} quarterly)")
    status = data.budget
    if status.latest is None:
        return "*Budget*: not recorded (`/report budget <spent> of <quarterly budget>`)"
    used = status.latest.value
    amount = ""
    total = ctx.config.reports.quarterly_budget
    if total:
        amount = f" ({budgets.money(total * used / 100, cur)} of {budgets.money(total, cur)} quarterly)"
    return f"*Budget*: {formatting.number(used)}% utilized{amount}"


def metrics_table(data: Executive) -> str:
    rows = [("Metric", "Current", "Target", "Trend")]
    for status, move in data.key_metrics:
        kpi = status.kpi
        current = formatting.value(kpi, status.latest.value) if status.latest else "no data"
        rows.append((kpi.name[:26], current, formatting.target(kpi), move.change_text() if move.change is not None
                     else "—"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    return "```\n" + "\n".join(lines) + "\n```"


def render(ctx: Context, data: Executive) -> list[dict]:
    overall = [roadmap.summary_line(data.roadmap), velocity_line(data), gates_line(data), budget_line(ctx, data)]
    phases = " · ".join(f"Phase {p.number}: {formatting.number(p.percent)}%" for p in data.roadmap.phases)
    out = [
        blocks.header(f"📊 Aurum development dashboard — {data.label}"),
        blocks.section("*🎯 Overall progress*\n" + bullet_list(overall, "")),
        blocks.context(f"Phase success metrics met: {phases}"),
        blocks.section("*📈 Key metrics*\n" + metrics_table(data)),
        blocks.section("*🚀 Achievements*\n" + bullet_list(data.achievements + data.written.get("achievement", []),
                                                          "No new target reached this month.")),
    ]
    risk_lines = [f"*{r.level} risk*: {r.text}" for r in data.risks]
    if data.critical_alerts:
        risk_lines = [f"*High risk*: open critical alert — {blocks.escape(a.summary)}" for a in data.critical_alerts] \
            + risk_lines
    risk_lines += data.written.get("risk", [])
    alerts_note = "" if data.critical_alerts is not None else "\n" + not_available("Open critical alerts")
    out.append(blocks.section("*⚠️ Risks & issues*\n" + bullet_list(risk_lines, "No KPI off track or regressing.")
                              + alerts_note))
    focus_lines = [f"{s.kpi.name}: from {formatting.value(s.kpi, s.latest.value)} to {formatting.target(s.kpi)}"
                   for s in data.focus if s.latest] + data.written.get("focus", [])
    out.append(blocks.section("*📅 Next month focus*\n"
                              + bullet_list(focus_lines, "Every tracked KPI meets its target.")))
    if data.entered_budget is not None:
        out.append(blocks.section("*💰 Budget*\n" + bullet_list(
            budgets.lines(data.entered_budget, ctx.config.reports.budget_currency), "")))
    feedback = data.stakeholders.line() if data.stakeholders is not None else not_available("Stakeholder feedback")
    out.append(blocks.section("*🗣️ Stakeholder feedback*\n" + feedback))
    out.append(blocks.section("*👏 Recognition roll for the all-hands*\n" + bullet_list(
        data.roll, "No kudos this month — `/kudos @person <award> <why>`.", limit=12)))
    out.append(blocks.context(f"Month {data.period} · 📈 Velocity trend in the thread · `/roadmap` for every phase"))
    return blocks.capped(out)
