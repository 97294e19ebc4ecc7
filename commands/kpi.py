"""`/kpi`: help and catalogue, KPI cards with charts, the technical dashboard, manual entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aurum import blocks, charts, kpis, live, outbox
from aurum import dashboard as technical_dashboard
from aurum.catalog import Kpi
from aurum.context import Context
from aurum.kpis import PERIODS, InputError
from commands.common import Asker, reply_on_error, slash_command, tell

COMMAND = "/kpi"
CHARTS = charts.ChartCache()
FORMS = (
    "Try `/kpi latency`, `/kpi latency 90d`, `/kpi latency private`, `/kpi dashboard`, "
    "`/kpi dashboard live 4`, `/kpi record latency 240` or `/kpi record coverage 81.5 at 2026-11-27T14:00`. Periods: "
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
class LiveDashboard:
    hours: int = live.DEFAULT_HOURS


@dataclass(frozen=True)
class Record:
    kpi: Kpi
    value: float
    at: datetime | None


class UnknownKpi(InputError):
    pass


def parse(ctx: Context, text: str) -> Help | Show | Dashboard | LiveDashboard | Record:
    words = text.split()
    if not words or words[0].lower() == "help":
        return Help()
    head = words[0].lower()
    if head == "dashboard" and len(words) == 1:
        return Dashboard()
    if head == "dashboard":
        return _parse_live(ctx, words[1:])
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


def _parse_live(ctx: Context, words: list[str]) -> LiveDashboard:
    limit = ctx.config.reports.live_hours_max
    usage = f"Usage: `/kpi dashboard live [hours]` — edited every minute for 1 to {limit} hours (default 8)."
    if words[0].lower() != "live" or len(words) > 2 or (len(words) == 2 and not words[1].isdigit()):
        raise InputError(usage)
    hours = int(words[1]) if len(words) == 2 else min(live.DEFAULT_HOURS, limit)
    if not 1 <= hours <= limit:
        raise InputError(usage)
    return LiveDashboard(hours)


def _parse_record(ctx: Context, words: list[str]) -> Record:
    usage = "Usage: `/kpi record <name> <value> [at <ISO time>]`, e.g. `/kpi record latency 240`."
    if len(words) not in (2, 4) or (len(words) == 4 and words[2].lower() != "at"):
        raise InputError(usage)
    kpi = _resolve(ctx, words[0])
    at = kpis.parse_time(words[3], ctx) if len(words) == 4 else None
    return Record(kpi=kpi, value=kpis.parse_value(words[1]), at=at)


def register(app: Any, ctx: Context) -> None:
    slash_command(app, ctx, COMMAND, lambda text, _asker: parse(ctx, text), handle)

    def ack_stop(ack) -> None:
        ack()

    @reply_on_error(ctx)
    def answer_stop(body: dict[str, Any]) -> None:
        asker = Asker.from_body(body)
        value = body["actions"][0].get("value", "")
        with ctx.transaction() as session:
            stopped = value.isdigit() and live.stop(ctx, session, asker.team_id, int(value), asker.user_id)
        if not stopped:
            tell(ctx, asker, "That live dashboard had already stopped.")

    app.action(live.STOP_ACTION)(ack=ack_stop, lazy=[answer_stop])


def handle(ctx: Context, asker: Asker, request: Help | Show | Dashboard | LiveDashboard | Record) -> None:
    if isinstance(request, Help):
        with ctx.reading() as session:
            statuses = kpis.statuses(ctx, session, asker.team_id)
        tell(ctx, asker, "Aurum KPIs", blocks.catalog_overview(ctx.catalog, statuses))
    elif isinstance(request, Show) and request.explain:
        tell(ctx, asker, f"How {request.kpi.name} is measured", blocks.kpi_help(ctx.catalog, request.kpi))
    elif isinstance(request, Show):
        show(ctx, asker, request)
    elif isinstance(request, Dashboard):
        dashboard(ctx, asker)
    elif isinstance(request, LiveDashboard):
        live_dashboard(ctx, asker, request.hours)
    else:
        record(ctx, asker, request)


def show(ctx: Context, asker: Asker, request: Show) -> None:
    kpi = request.kpi
    with ctx.reading() as session:
        view = kpis.view(ctx, session, asker.team_id, kpi, request.period)
    title = f"{kpi.name}, last {request.period}"
    png = CHARTS.get_or_render((asker.team_id, kpi.key, title, charts.series_key(view.points)),
                               lambda: charts.kpi_chart(kpi, view.points, ctx.tz, title))
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
        data = technical_dashboard.technical(ctx, session, asker.team_id)
        panels = technical_dashboard.chart_panels(ctx, session, asker.team_id)
    png = technical_dashboard.chart(ctx, panels)
    message = data.blocks(ctx.now(), chart_note="📈 Chart in the thread")
    with ctx.transaction() as session:
        key = outbox.post(session, asker.team_id, asker.channel_id, "Technical metrics dashboard", message)
        outbox.upload(session, asker.team_id, asker.channel_id, png, filename="dashboard.png",
                      title=technical_dashboard.CHART_TITLE, thread_key=key)


def live_dashboard(ctx: Context, asker: Asker, hours: int) -> None:
    """Post the dashboard and keep editing it (aurum.live); its chart once, in the thread."""
    with ctx.reading() as session:
        panels = technical_dashboard.chart_panels(ctx, session, asker.team_id)
    png = technical_dashboard.chart(ctx, panels)
    try:
        with ctx.transaction() as session:
            live.start(ctx, session, asker.team_id, asker.channel_id, asker.user_id, hours, chart=png)
    except InputError as exc:
        tell(ctx, asker, str(exc))


def record(ctx: Context, asker: Asker, request: Record) -> None:
    try:
        with ctx.transaction() as session:
            point = kpis.record(ctx, session, asker.team_id, request.kpi, request.value, request.at,
                                source=f"manual:{asker.user_id}")
            status = kpis.status(ctx, session, asker.team_id, request.kpi)
            outbox.post(session, asker.team_id, asker.channel_id, blocks.kpi_text(status),
                        blocks.recorded(status, point.at, ctx.tz), user=asker.user_id)
    except InputError as exc:
        tell(ctx, asker, str(exc))
