"""`/kpi`: help and catalogue, KPI cards with charts, the technical dashboard, manual entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aurum.collectors import health
from aurum.core import outbox
from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.core.recent import Recent
from aurum.forecast.goals import MAX_HORIZON_DAYS
from aurum.kpis import blocks, charts, formatting, live
from aurum.kpis import dashboard as technical_dashboard
from aurum.kpis import service as kpis
from aurum.kpis.catalog import Kpi
from aurum.kpis.service import PERIODS
from aurum.squads import teams as squads
from commands.common import Asker, button, only_admins, post_here, reply, slash_command, team_context, tell

COMMAND = "/kpi"
CHARTS: Recent[bytes] = Recent()  # PNGs of unchanged data are drawn once
FORECAST_HISTORY = timedelta(days=90)
FORMS = (
    "Try `/kpi latency`, `/kpi latency 90d`, `/kpi latency private`, `/kpi latency forecast 2027-03-01`, "
    "`/kpi dashboard`, `/kpi dashboard live 4`, `/kpi sources`, "
    "`/kpi record latency 240` or `/kpi record coverage 81.5 at 2026-11-27T14:00`; add `team:<key>` for another "
    "team's. Periods: "
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
class Forecast:
    kpi: Kpi
    on: date | None = None
    private: bool = False


@dataclass(frozen=True)
class Dashboard:
    pass


@dataclass(frozen=True)
class Sources:
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


def parse(ctx: Context, text: str) -> Help | Show | Forecast | Dashboard | LiveDashboard | Sources | Record:
    words = text.split()
    if not words or words[0].lower() == "help":
        return Help()
    head = words[0].lower()
    if head == "dashboard" and len(words) == 1:
        return Dashboard()
    if head == "sources" and len(words) == 1:
        return Sources()
    if head == "dashboard":
        return _parse_live(ctx, words[1:])
    if head == "record":
        return _parse_record(ctx, words[1:])
    kpi = _resolve(ctx, words[0])
    if len(words) > 1 and words[1].lower() == "forecast":
        return _parse_forecast(ctx, kpi, words[2:])
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


def _parse_forecast(ctx: Context, kpi: Kpi, words: list[str]) -> Forecast:
    usage = "Usage: `/kpi <name> forecast [date] [private]`, e.g. `/kpi latency forecast 2027-03-01`."
    on, private = None, False
    for word in words:
        if word.lower() == "private":
            private = True
            continue
        if on is not None:
            raise InputError(usage)
        try:
            on = kpis.parse_time(word, ctx).astimezone(ctx.tz).date()
        except InputError:
            raise InputError(f"'{blocks.escape(word)}' is not a date. {usage}") from None
        today = ctx.now().astimezone(ctx.tz).date()
        if on <= today:
            raise InputError(f"{on.isoformat()} is not in the future; give a later date. {usage}")
        if on > today + timedelta(days=MAX_HORIZON_DAYS):
            furthest = (today + timedelta(days=MAX_HORIZON_DAYS)).isoformat()
            raise InputError(f"{on.isoformat()} is too far ahead: forecasts look at most two years ahead (until "
                             f"{furthest}), past that a trend says nothing. Give an earlier date. {usage}")
    return Forecast(kpi=kpi, on=on, private=private)


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
    value = kpis.parse_value(words[1])
    kpis.check(kpi, value)  # answered in the ack: nothing is queued, stored or celebrated
    return Record(kpi=kpi, value=value, at=at)


def register(app: Any, ctx: Context) -> None:
    slash_command(app, ctx, COMMAND, lambda text, _asker: parse(ctx, text), handle, teams=True)

    def answer_stop(body: dict[str, Any]) -> None:
        asker = Asker.from_body(body)
        value = body["actions"][0].get("value", "")
        with ctx.transaction() as session:
            stopped = value.isdigit() and live.stop(ctx, session, asker.team_id, int(value), asker.user_id)
        if not stopped:
            tell(ctx, asker, "That live dashboard had already stopped.")

    button(app, ctx, live.STOP_ACTION, answer_stop)


def handle(ctx: Context, asker: Asker,
           request: Help | Show | Forecast | Dashboard | LiveDashboard | Sources | Record) -> str | None:
    ctx, squad = team_context(ctx, asker)
    if isinstance(request, Help):
        with ctx.reading() as session:
            statuses = kpis.statuses(ctx, session, asker.team_id)
        tell(ctx, asker, "Aurum KPIs", blocks.catalog_overview(ctx.catalog, statuses))
    elif isinstance(request, Show) and request.explain:
        tell(ctx, asker, f"How {blocks.escape(request.kpi.name)} is measured",
             blocks.kpi_help(ctx.catalog, request.kpi))
    elif isinstance(request, Show):
        show(ctx, asker, request, squad.label)
    elif isinstance(request, Forecast):
        show_forecast(ctx, asker, request)
    elif isinstance(request, Dashboard):
        dashboard(ctx, asker)
    elif isinstance(request, Sources):
        with ctx.reading() as session:
            states = health.states(ctx, session, asker.team_id)
        tell(ctx, asker, "Data sources", health.overview(states, ctx.now(), ctx.tz))
    elif isinstance(request, LiveDashboard):
        if squad != squads.default_squad(ctx.config):
            raise InputError(f"A live dashboard shows the default team ({squads.default_squad(ctx.config).label}) "
                             f"only; `/kpi dashboard team:{squad.key}` shows {squad.label}'s once.")
        live_dashboard(ctx, asker, request.hours)
    else:
        return record(ctx, asker, request)
    return None


def show(ctx: Context, asker: Asker, request: Show, team: str = "") -> None:
    # The forecast (NumPy) is imported by the process that makes cards, never by a web process that only acks.
    from aurum.forecast import charts as forecast_charts
    from aurum.forecast import service as forecasting
    from aurum.forecast import text as forecast_text

    kpi = request.kpi
    with ctx.reading() as session:
        view = kpis.view(ctx, session, asker.team_id, kpi, request.period)
        problem = health.stale_note(session, asker.team_id, view.status, ctx.now())
        forecast = forecasting.forecast_kpi(ctx, session, asker.team_id, kpi)
    chart = forecast_charts.period_chart(ctx, view, forecast)
    png = CHARTS.get_or_make((asker.team_id, ctx.squad, *chart.key), chart.png)
    line = forecast_text.card_line(forecast)
    extra = [text for text in (f"Team: {blocks.escape(team)}" if team else "", problem, line) if text]
    card = blocks.kpi_card(view.status, request.period, ctx.now(), ctx.tz, chart_note=_chart_note(request.private),
                           extra=extra)
    filename = f"{ctx.catalog.short_name(kpi)}-{request.period}.png"
    _post_with_chart(ctx, asker, blocks.kpi_text(view.status), card, png, filename, chart.title, request.private,
                     chart.alt_text())


def show_forecast(ctx: Context, asker: Asker, request: Forecast) -> None:
    """`/kpi <name> forecast [date]`: the forecast card, with the chart of the last 90 days and the projection."""
    from aurum.forecast import blocks as forecast_blocks
    from aurum.forecast import service as forecasting

    kpi = request.kpi
    with ctx.reading() as session:
        result = forecasting.forecast_kpi(ctx, session, asker.team_id, kpi, on=request.on)
        points = kpis.series_since(session, asker.team_id, kpi.key, ctx.now() - FORECAST_HISTORY, ctx.squad)
    if not result.available:  # nothing to chart: say what is missing
        card, text = forecast_blocks.forecast_card(result, ctx.tz), forecast_blocks.forecast_text(result)
        if request.private:
            tell(ctx, asker, text, card)
        else:
            _post(ctx, asker, text, card)
        return
    until = max(forecasting.chart_until(result, _today(ctx), 60, 365), request.on or _today(ctx))
    title = formatting.plain(charts.span_title(f"{kpi.name}: last 90 days and forecast", points,
                                               ctx.now() - FORECAST_HISTORY, ctx.tz))
    png = charts.kpi_chart(kpi, points, ctx.tz, title, forecast=forecasting.projection(result, until, ctx.tz))
    card = forecast_blocks.forecast_card(result, ctx.tz, chart_note=_chart_note(request.private))
    filename = f"{ctx.catalog.short_name(kpi)}-forecast.png"
    alt = charts.kpi_alt_text(kpi, points, ctx.tz, title, f"The forecast runs as a dashed line in its 80 % band to "
                                                          f"{until:%d %b %Y}.")
    _post_with_chart(ctx, asker, forecast_blocks.forecast_text(result), card, png, filename, title, request.private,
                     alt)


def _today(ctx: Context) -> date:
    return ctx.now().astimezone(ctx.tz).date()


def _chart_note(private: bool) -> str:
    return "📈 Chart sent to you by DM" if private else "📈 Chart in the thread"


def _post(ctx: Context, asker: Asker, text: str, card: list[dict]) -> None:
    with ctx.transaction() as session:
        post_here(session, asker, text, card)


def _post_with_chart(ctx: Context, asker: Asker, text: str, card: list[dict], png: bytes, filename: str, title: str,
                     private: bool, alt_text: str) -> None:
    """A card in the channel with its chart in the thread, or (private) an ephemeral card with the chart by DM."""
    with ctx.transaction() as session:
        if private:
            reply(session, asker, text, card)
            outbox.upload(session, asker.team_id, asker.user_id, png, filename=filename, title=title, alt_text=alt_text)
        else:
            key = post_here(session, asker, text, card)
            outbox.upload(session, asker.team_id, asker.channel_id, png, filename=filename, title=title,
                          thread_key=key, alt_text=alt_text)


def dashboard(ctx: Context, asker: Asker) -> None:
    with ctx.reading() as session:
        data = technical_dashboard.technical(ctx, session, asker.team_id)
        panels = technical_dashboard.chart_panels(ctx, session, asker.team_id)
    png = technical_dashboard.chart(ctx, panels)
    message = data.blocks(ctx.now(), chart_note="📈 Chart in the thread")
    with ctx.transaction() as session:
        key = post_here(session, asker, "Technical metrics dashboard", message)
        outbox.upload(session, asker.team_id, asker.channel_id, png, filename="dashboard.png",
                      title=technical_dashboard.CHART_TITLE, thread_key=key,
                      alt_text=technical_dashboard.chart_alt_text(ctx, panels))


def live_dashboard(ctx: Context, asker: Asker, hours: int) -> None:
    """Post the dashboard and keep editing it (aurum.kpis.live); its chart once, in the thread."""
    with ctx.reading() as session:
        panels = technical_dashboard.chart_panels(ctx, session, asker.team_id)
    png = technical_dashboard.chart(ctx, panels)
    try:
        with ctx.transaction() as session:
            live.start(ctx, session, asker.team_id, asker.channel_id, asker.user_id, hours, chart=png,
                       chart_alt=technical_dashboard.chart_alt_text(ctx, panels))
    except InputError as exc:
        tell(ctx, asker, str(exc))


def record(ctx: Context, asker: Asker, request: Record) -> str | None:
    """Store a value by hand; a KPI marked `protected: true` takes an admin."""
    if request.kpi.protected and only_admins(ctx, asker, f"record values of {blocks.escape(request.kpi.name)}"):
        return "refused"
    try:
        with ctx.transaction() as session:
            point = kpis.record(ctx, session, asker.team_id, request.kpi, request.value, request.at,
                                source=f"manual:{asker.user_id}")
            status = kpis.status(ctx, session, asker.team_id, request.kpi)
            reply(session, asker, blocks.kpi_text(status),
                        blocks.recorded(status, point.at, ctx.tz, value=point.value))
    except InputError as exc:
        tell(ctx, asker, str(exc))
        return "input_error"
    return None
