"""`/kpi`: help and catalogue, KPI cards with charts, the technical dashboard, manual entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aurum import blocks, charts, formatting, kpis, outbox
from aurum.catalog import Kpi
from aurum.context import Context
from aurum.kpis import PERIODS, InputError
from commands.common import ANSWERED_IN_ACK, Asker, count, only_admins, reply_on_error, tell

COMMAND = "/kpi"
DASHBOARD_GROUPS = [
    ("API performance", ["api_response_time_p95", "api_response_time_p99", "requests_per_second",
                         "api_error_rate_percentage"]),
    ("System health", ["cpu_usage_percentage", "memory_usage_percentage", "disk_usage_percentage",
                       "network_io_mb_per_second"]),
]
QUALITY_GATES = ["test_coverage_percentage", "technical_debt_percentage", "ci_success_rate_percentage",
                 "api_documentation_coverage_percentage"]
FORMS = (
    "Try `/kpi latency`, `/kpi latency 90d`, `/kpi latency private`, `/kpi dashboard`, "
    "`/kpi record latency 240` or `/kpi record coverage 81.5 at 2026-11-27T14:00`. Periods: "
    + ", ".join(f"`{p}`" for p in PERIODS) + "."
)


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Show:
    kpi: Kpi
    period: str = kpis.DEFAULT_PERIOD
    private: bool = False
    explain: bool = False


@dataclass(frozen=True)
class Dashboard:
    pass


@dataclass(frozen=True)
class Record:
    kpi: Kpi
    value: float
    at: datetime | None


class UnknownKpi(InputError):
    pass


def parse(ctx: Context, text: str) -> Help | Show | Dashboard | Record:
    words = text.split()
    if not words or words[0].lower() == "help":
        return Help()
    head = words[0].lower()
    if head == "dashboard" and len(words) == 1:
        return Dashboard()
    if head == "record":
        return _parse_record(ctx, words[1:])
    kpi = _resolve(ctx, words[0])
    period, private, explain = kpis.DEFAULT_PERIOD, False, False
    for word in (w.lower() for w in words[1:]):
        if word in PERIODS:
            period = word
        elif word == "private":
            private = True
        elif word == "help":
            explain = True
        else:
            raise InputError(f"I don't understand '{blocks.escape(word)}' after `{words[0]}`. {FORMS}")
    return Show(kpi=kpi, period=period, private=private, explain=explain)


def _resolve(ctx: Context, name: str) -> Kpi:
    kpi = ctx.catalog.resolve(name)
    if kpi is None:
        raise UnknownKpi(blocks.unknown_kpi(ctx.catalog, name, ctx.catalog.suggest(name)))
    return kpi


def _parse_record(ctx: Context, words: list[str]) -> Record:
    usage = "Usage: `/kpi record <name> <value> [at <ISO time>]`, e.g. `/kpi record latency 240`."
    if len(words) not in (2, 4) or (len(words) == 4 and words[2].lower() != "at"):
        raise InputError(usage)
    kpi = _resolve(ctx, words[0])
    at = kpis.parse_time(words[3], ctx) if len(words) == 4 else None
    return Record(kpi=kpi, value=kpis.parse_value(words[1]), at=at)


def register(app: Any, ctx: Context) -> None:
    def ack_kpi(ack, body: dict[str, Any]) -> None:
        try:
            parse(ctx, body.get("text", ""))
        except InputError as exc:
            ack(text=str(exc), response_type="ephemeral")
            count(ctx, body, "input_error")
            return
        ack()

    @reply_on_error(ctx)
    def answer_kpi(body: dict[str, Any]) -> str | None:
        asker = Asker.from_body(body)
        try:
            request = parse(ctx, body.get("text", ""))
        except InputError:
            return ANSWERED_IN_ACK
        return handle(ctx, asker, request)

    app.command(COMMAND)(ack=ack_kpi, lazy=[answer_kpi])


def handle(ctx: Context, asker: Asker, request: Help | Show | Dashboard | Record) -> str | None:
    if isinstance(request, Help):
        with ctx.reading() as session:
            statuses = kpis.statuses(ctx, session, asker.team_id)
        tell(ctx, asker, "Aurum KPIs", blocks.catalog_overview(ctx.catalog, statuses))
    elif isinstance(request, Show) and request.explain:
        tell(ctx, asker, f"How {blocks.escape(request.kpi.name)} is measured",
             blocks.kpi_help(ctx.catalog, request.kpi))
    elif isinstance(request, Show):
        show(ctx, asker, request)
    elif isinstance(request, Dashboard):
        dashboard(ctx, asker)
    else:
        return record(ctx, asker, request)
    return None


def show(ctx: Context, asker: Asker, request: Show) -> None:
    kpi = request.kpi
    with ctx.reading() as session:
        view = kpis.view(ctx, session, asker.team_id, kpi, request.period)
    title = formatting.plain(f"{kpi.name}, last {request.period}")
    png = charts.kpi_chart(kpi, view.points, ctx.tz, title)
    name = ctx.catalog.short_name(kpi)
    filename = f"{name}-{request.period}.png"
    note = "📈 Chart sent to you by DM" if request.private else "📈 Chart in the thread"
    card = blocks.kpi_card(view.status, request.period, ctx.now(), ctx.tz, chart_note=note)
    text = blocks.kpi_text(view.status)
    with ctx.transaction() as session:
        if request.private:
            outbox.post(session, asker.team_id, asker.channel_id, text, card, user=asker.user_id)
            outbox.upload(session, asker.team_id, asker.user_id, png, filename=filename, title=title)
        else:
            key = outbox.post(session, asker.team_id, asker.channel_id, text, card)
            outbox.upload(session, asker.team_id, asker.channel_id, png, filename=filename, title=title,
                          thread_key=key)


def dashboard(ctx: Context, asker: Asker) -> None:
    with ctx.reading() as session:
        statuses = kpis.statuses(ctx, session, asker.team_id)
        since = ctx.now() - PERIODS["7d"]
        panels = [(ctx.catalog.get(k), kpis.series_since(session, asker.team_id, k, since))
                  for k in DASHBOARD_GROUPS[0][1][:2] + [QUALITY_GATES[0], "api_error_rate_percentage"]]
    groups = [(title, [statuses[k] for k in keys if k in statuses]) for title, keys in DASHBOARD_GROUPS]
    gates = [statuses[k] for k in QUALITY_GATES if k in statuses]
    png = charts.panel_chart(panels, ctx.tz, "Technical metrics, last 7 days")
    message = blocks.dashboard(groups, gates, ctx.now(), chart_note="📈 Chart in the thread")
    with ctx.transaction() as session:
        key = outbox.post(session, asker.team_id, asker.channel_id, "Technical metrics dashboard", message)
        outbox.upload(session, asker.team_id, asker.channel_id, png, filename="dashboard.png",
                      title="Technical metrics, last 7 days", thread_key=key)


def record(ctx: Context, asker: Asker, request: Record) -> str | None:
    """Store a value by hand; a KPI marked `protected: true` takes an admin."""
    if request.kpi.protected and only_admins(ctx, asker, f"record values of {blocks.escape(request.kpi.name)}"):
        return "refused"
    try:
        with ctx.transaction() as session:
            point = kpis.record(ctx, session, asker.team_id, request.kpi, request.value, request.at,
                                source=f"manual:{asker.user_id}")
            status = kpis.status(ctx, session, asker.team_id, request.kpi)
            outbox.post(session, asker.team_id, asker.channel_id, blocks.kpi_text(status),
                        blocks.recorded(status, point.at, ctx.tz, value=point.value), user=asker.user_id)
    except InputError as exc:
        tell(ctx, asker, str(exc))
        return "input_error"
    return None
