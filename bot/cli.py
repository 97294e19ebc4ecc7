"""The `aurum` command: serve, scheduler, demo console, KPI queries, jobs and database upkeep.

Each command imports the bot's parts it uses inside its function: the composition roots load Slack's SDK,
SQLAlchemy and the domain (3.1–3.7 s here, against 0.9 s for the settings alone), which `aurum --help`,
`aurum db upgrade` and a mistyped command should not wait for.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from bot.settings import Settings, SettingsError, load_settings
from bot.tables import print_table

if TYPE_CHECKING:
    from bot.runtime import Runtime

app = typer.Typer(help="Aurum: roadmap KPIs, surveys, alerts and reports in Slack.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
workspace_app = typer.Typer(help="Workspaces served (OAuth installs) and deleting one's data.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
token_app = typer.Typer(help="API tokens for the bot's HTTP APIs (stored hashed, shown once).", no_args_is_help=True)
app.add_typer(token_app, name="token")
alerts_app = typer.Typer(help="Alert rules (`aurum alert-rules` prints them for Prometheus).", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
config_app = typer.Typer(help="A workspace's settings (those changed in Slack included) as a config file.",
                         no_args_is_help=True)
app.add_typer(config_app, name="config")

DEMO_DATABASE = "aurum-demo.db"
Built = TypeVar("Built")
TeamOption = Annotated[str | None, typer.Option("--team", help="Slack team id (default: the bot token's workspace, "
                                                                  "or the only one installed)")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise _fail(f"Configuration problem:\n{exc}") from None


def _setup_logging(settings: Settings | None = None) -> None:
    from bot.logs import configure

    settings = settings or _settings()
    configure(level=settings.log_level, secrets=settings.secret_values())


def _build(root: Callable[[Settings], Built], settings: Settings | None = None) -> Built:
    try:
        return root(settings or _settings())
    except SettingsError as exc:
        raise _fail(f"Configuration problem:\n{exc}") from None


@contextmanager
def _cli(settings: Settings | None = None, *, existing: bool = False) -> Iterator[Runtime]:
    """The CLI's runtime (bot.compose.build_cli), shut down however the command ends. `existing`: a command that
    reads the bot's data refuses a SQLite file that is not there, rather than create an empty one and read nothing."""
    from bot.compose import build_cli

    settings = settings or _settings()
    if existing:
        _refuse_missing_database(settings)
    with _build(build_cli, settings) as runtime:
        yield runtime


def _refuse_missing_database(settings: Settings) -> None:
    from sqlalchemy.engine import make_url

    from bot.compose import build_context
    from storage.db import make_engine

    url = settings.database_url
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    path = Path(parsed.database).resolve()
    if path.exists():
        return
    # A broken config file is said first, as every command says it: checked against a database in memory.
    in_memory = _build(lambda given: build_context(given, engine=make_engine("sqlite://"), migrate=False), settings)
    in_memory.engine.dispose()
    demo = Path(DEMO_DATABASE)
    hint = (f"This folder holds the demo's data: DATABASE_URL=sqlite:///{DEMO_DATABASE} reads them."
            if demo.exists() and demo.resolve() != path else
            f"To try the bot with demo data, run `aurum demo` (it keeps them in {DEMO_DATABASE}).")
    raise _fail(f"No database at {path} (DATABASE_URL is {url}): nothing was read, and no empty database was "
                "created.\nSet DATABASE_URL to the bot's database (e.g. sqlite:////srv/aurum/aurum.db or "
                f"postgres://…), or run the command in the folder that holds it. {hint}")


def _team(runtime: Runtime, team: str | None) -> str:
    """The workspace a command reads or writes: --team, else the one the settings name (bot.runtime.workspace_to_use:
    a bot token's own workspace, the one OAuth install, or the console's without Slack); refused when unknown."""
    from bot.runtime import WorkspaceUnknown, workspace_to_use

    if team:
        return team
    try:
        return workspace_to_use(runtime)
    except WorkspaceUnknown as exc:
        raise _fail(str(exc)) from None


@app.command()
def serve(port: Annotated[int | None, typer.Option(help="HTTP port (default: PORT or 3000)")] = None,
          host: Annotated[str, typer.Option(help="Interface to listen on")] = "0.0.0.0",
          workers: Annotated[int | None, typer.Option(help="Worker processes (default: WEB_CONCURRENCY or 1)")]
          = None) -> None:
    """Run the HTTP server: Slack requests on /slack/events, OAuth installs, /healthz, /readyz and /metrics."""
    import uvicorn

    from bot.memory import limit_malloc_arenas
    from bot.web import BACKLOG, KEEP_ALIVE, create_web_app

    settings = _settings()
    _setup_logging(settings)
    options = dict(host=host, port=port if port is not None else settings.port, log_config=None, access_log=False,
                   timeout_graceful_shutdown=10, backlog=BACKLOG, timeout_keep_alive=KEEP_ALIVE)
    count = workers or settings.web_concurrency
    limit_malloc_arenas()
    if count > 1:
        try:
            settings.check_for_slack()
        except SettingsError as exc:
            raise _fail(f"Configuration problem:\n{exc}") from None
        uvicorn.run("bot.web:app_from_environment", factory=True, workers=count, **options)  # type: ignore[arg-type]
        return
    from bot.compose import build_web

    uvicorn.run(create_web_app(_build(build_web, settings)), **options)  # type: ignore[arg-type]


@app.command()
def scheduler(metrics_port: Annotated[int | None, typer.Option(help="Serve /metrics (job runs) on this port")]
              = None) -> None:
    """Run the clock process: scheduled jobs, at most once per period across processes."""
    from bot.compose import build_clock
    from bot.scheduler import run_clock

    settings = _settings()
    _setup_logging(settings)
    run_clock(_build(build_clock, settings), metrics_port=metrics_port)


@app.command()
def demo(
    command: Annotated[list[str] | None, typer.Option("--command", "-c", help="Run this command and exit")] = None,
    database: Annotated[str, typer.Option(help="Database for the demo")] = f"sqlite:///{DEMO_DATABASE}",
) -> None:
    """Try the bot without Slack: demo history in SQLite and a console for the slash commands."""
    from aurum import demo as demo_data
    from bot.compose import build_console
    from bot.console import repl, run_command
    from bot.runtime import CONSOLE_TEAM, register_workspace

    logging.basicConfig(level=logging.WARNING)
    settings = _settings(database_url=database, slack_bot_token=None, slack_app_token=None)
    with _build(build_console, settings) as runtime:
        register_workspace(runtime)
        with runtime.ctx.transaction() as session:
            if not demo_data.has_data(session, CONSOLE_TEAM):
                count = demo_data.load(session, runtime.ctx.catalog, CONSOLE_TEAM, runtime.ctx.now())
                typer.echo(f"Loaded {count:,} demo snapshots ({demo_data.WEEKS} weeks of "
                           f"{len(runtime.ctx.catalog)} KPIs).")
        if not command:
            repl(runtime)
            return
        failed = 0
        for line in command:
            typer.echo(f"aurum> {line}")
            failed += not run_command(runtime, line, sys.stdout)
    if failed:  # the messages said what went wrong; the exit code tells a script
        raise typer.Exit(1)


@app.command()
def kpi(name: str, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
        team: TeamOption = None) -> None:
    """Print a KPI's status."""
    from aurum.kpis import blocks, formatting
    from aurum.kpis import service as kpis
    from aurum.kpis.catalog import range_text

    with _cli(existing=True) as runtime:
        found = _resolve_or_fail(runtime, name)
        team_id = _team(runtime, team)
        with runtime.ctx.reading() as session:
            status = kpis.status(runtime.ctx, session, team_id, found)
        if as_json:
            target = found.target
            typer.echo(json.dumps({
                "kpi": found.key, "name": found.name, "unit": found.unit,
                "value": status.latest.value if status.latest else None,
                "at": status.latest.at.isoformat() if status.latest else None,
                "source": status.latest.source if status.latest else None,
                "status": status.state, "target": formatting.target(found), "baseline": found.baseline,
                "change": status.change_abs, "change_pct": status.change_pct, "progress_pct": status.progress_pct,
                "next_phase_target": list(status.next_phase) if status.next_phase else None, "stale": status.stale,
                # the catalogue entry's every number (keys above stay as they were)
                "direction": found.direction,
                "target_bounds": {"op": target.op, "low": target.low, "high": target.high} if target else None,
                "current_target": found.goal,
                "phase": found.phase, "current_phase": runtime.ctx.config.current_phase,
                "phase_targets": {str(p): v for p, v in sorted(found.phase_targets.items())},
                "stretch_goal": found.stretch,
                "stretch_label": found.stretch_label if found.stretch is not None else None,
                "final_target": found.stretch if "final" in found.stretch_label else None,
                "range": list(found.allowed), "range_text": range_text(found),
            }, indent=2, ensure_ascii=False))
        else:
            typer.echo(f"{status.emoji} {blocks.kpi_text(status)}; {blocks.trend_text(status)}")


@app.command(context_settings={"ignore_unknown_options": True})  # `aurum record latency -5`: a value, not an option
def record(name: str, value: str, at: Annotated[str | None, typer.Option(help="ISO time (team zone if none)")] = None,
           team: TeamOption = None) -> None:
    """Store a KPI value."""
    from aurum.core.errors import InputError
    from aurum.kpis import service as kpis

    with _cli() as runtime:
        found = _resolve_or_fail(runtime, name)
        team = _team(runtime, team)  # before the transaction: it may ask Slack and register the workspace
        try:
            when = kpis.parse_time(at, runtime.ctx) if at else None
            with runtime.ctx.transaction() as session:
                point = kpis.record(runtime.ctx, session, _team(runtime, team), found, kpis.parse_value(value), when,
                                    source="cli")
        except InputError as exc:
            raise _fail(str(exc)) from None
        typer.echo(f"Recorded {found.name} = {value} at {point.at.isoformat()}")


def _resolve_or_fail(runtime, name: str):
    from aurum.kpis import blocks

    found = runtime.ctx.catalog.resolve(name)
    if found is None:
        raise _fail(blocks.unknown_kpi(runtime.ctx.catalog, name, runtime.ctx.catalog.suggest(name)).replace("`", ""))
    return found


@app.command()
def forecast(
    name: Annotated[str, typer.Argument(help="A KPI name or alias, or 'backtest'")],
    kpi: Annotated[str | None, typer.Argument(help="With backtest: only this KPI (default: all)")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Also the expected value on this date (ISO)")] = None,
    horizon: Annotated[int, typer.Option(help="Backtest: days ahead each past forecast is checked")] = 30,
    team: TeamOption = None,
) -> None:
    """When a KPI reaches its targets at this pace, with 80 % intervals; `forecast backtest`: how past forecasts
    did (the share of actuals inside their 90 % intervals, the forecast accuracy, and the MAPE)."""
    from aurum.core.errors import InputError
    from aurum.forecast import service, text
    from aurum.kpis.service import parse_time

    with _cli(existing=True) as runtime:
        team_id = _team(runtime, team)
        if name.lower() == "backtest":
            chosen = [_resolve_or_fail(runtime, kpi)] if kpi else None
            _print_backtest(runtime, team_id, chosen, horizon)
            return
        found = _resolve_or_fail(runtime, name)
        try:
            day = parse_time(on, runtime.ctx).astimezone(runtime.ctx.tz).date() if on else None
        except InputError as exc:
            raise _fail(str(exc)) from None
        with runtime.ctx.reading() as session:
            result = service.forecast_kpi(runtime.ctx, session, team_id, found, on=day)
        typer.echo(f"{text.ICON} {found.name}: forecast")
        for line in text.forecast_lines(result, runtime.ctx.tz):
            typer.echo(text.plain(line))


def _print_backtest(runtime, team_id: str, kpis, horizon: int) -> None:
    from aurum.forecast.accuracy import backtest_kpis

    with runtime.ctx.reading() as session:
        report = backtest_kpis(runtime.ctx, session, team_id, kpis, horizon_days=horizon)
    if not report.per_kpi:
        raise _fail("Too little data to backtest: a KPI needs 8 days with values over at least two weeks, "
                    "and later values to compare with.", code=1)

    def percent(value: float | None) -> str:
        return f"{value:6.1f} %" if value is not None else "     —  "

    typer.echo(f"Rolling-origin backtest, forecasts checked up to {horizon} days ahead")
    inside = f"in {report.level * 100:.0f} % interval"
    typer.echo(f"{'KPI':<36} {'origins':>7} {'pairs':>7} {inside:>16} {'MAPE':>9}")
    for kpi, score in report.per_kpi.values():
        typer.echo(f"{kpi.name[:36]:<36} {score.origins:>7} {score.pairs:>7} {percent(score.coverage):>16} "
                   f"{percent(score.mape):>9}")
    overall = report.overall
    typer.echo(f"{'Overall (' + str(len(report.per_kpi)) + ' KPIs)':<36} {overall.origins:>7} {overall.pairs:>7} "
               f"{percent(overall.coverage):>16} {percent(overall.mape):>9}")
    typer.echo(f"Forecast accuracy (actuals inside the {report.level * 100:.0f} % intervals): "
               f"{percent(report.accuracy).strip()}; MAPE (averaged over KPIs): {percent(report.mape).strip()}")


@app.command()
def jobs() -> None:
    """List the scheduled jobs with their next run."""
    from aurum.core.jobs import JobRunner

    with _cli() as runtime:
        runner = JobRunner(runtime.ctx)
        now = runtime.ctx.now()
        rows = []
        for job in runner.jobs.values():
            upcoming = runner.next_fire(job, now)
            when = upcoming.astimezone(runtime.ctx.tz).strftime("%a %Y-%m-%d %H:%M %Z") if upcoming else "never"
            rows.append((job.name, runner.cron(job), when, job.description))
    print_table(("job", "schedule", "next run", "what it does"), rows)


@app.command("run-job")
def run_job(job: str, team: TeamOption = None,
            console: Annotated[bool, typer.Option("--console", help="Print the job's messages here, not in Slack")]
            = False,
            wait: Annotated[float, typer.Option(help="Seconds to keep trying to deliver to Slack (with back-off) "
                                                     "before giving the period back", min=0)] = 60.0) -> None:
    """Run a job now, through the same once-per-period claims as the scheduler, delivering to Slack when it is
    configured (else, or with --console, to the console)."""
    from aurum.core.jobs import JobRunner

    settings = _settings()
    if console or not settings.slack_enabled:
        with _cli(settings) as runtime:
            runner = JobRunner(runtime.ctx)
            if job not in runner.jobs:
                raise _fail(f"Unknown job '{job}'. Jobs: {', '.join(runner.jobs)}")
            for outcome in runner.run_now(job, team_id=team or _team(runtime, None)):
                typer.echo(f"{outcome.job} [{outcome.period}] for {outcome.team_id}: {outcome.result}")
            from aurum.core.outbox import OutboxWorker

            OutboxWorker(runtime.ctx, runtime.delivery).drain()
        return
    _run_job_in_slack(settings, job, team, wait)


def _run_job_in_slack(settings: Settings, job: str, team: str | None, wait: float) -> None:
    """run-job beside Slack: the clock's runtime (bot/compose.py build_clock), the job's deliveries seen through
    (aurum.core.job_delivery); exit 1 when nothing reached Slack (the period is given back), 3 when part did."""
    from datetime import timedelta

    from aurum.core.job_delivery import run_and_deliver
    from aurum.core.jobs import JobRunner
    from bot.compose import build_clock
    from bot.runtime import register_workspace
    from storage.workspaces import all_team_ids

    _setup_logging(settings)
    with _build(build_clock, settings) as runtime:
        runner = JobRunner(runtime.ctx)
        if job not in runner.jobs:
            raise _fail(f"Unknown job '{job}'. Jobs: {', '.join(runner.jobs)}")
        register_workspace(runtime)  # single-token mode: the token's workspace, from auth.test, as the clock does
        with runtime.ctx.reading() as session:
            teams = all_team_ids(session)
        if team is None and not teams:
            raise _fail("No workspace is registered yet: Slack did not answer auth.test, or no workspace installed "
                        f"the app. Nothing ran; run `aurum run-job {job}` again once Slack answers.", code=1)
        claim = settings.aurum_outbox_claim_seconds
        typer.echo(f"Running {job}; delivering to Slack for up to {wait:g} s …")
        results = run_and_deliver(runtime.ctx, runner, runtime.delivery, job, team, wait=wait,
                                  claim_for=timedelta(seconds=claim) if claim else None)
    code = 0
    for seen in results:
        outcome = seen.outcome
        head, total = f"{outcome.job} [{outcome.period}] for {outcome.team_id}", len(seen.tasks)
        if outcome.failed:
            code = max(code, 1)
            typer.echo(f"{head}: {outcome.result}.\n  Nothing was kept and the period {outcome.period} is still open: "
                       f"running `aurum run-job {outcome.job}` again later is safe.", err=True)
        elif seen.released:
            code = max(code, 1)
            typer.echo(f"{head}: nothing reached Slack ({seen.error or 'no answer'}).\n  Its {total} queued "
                       f"message(s) were cancelled and the period {outcome.period} is open again: running "
                       f"`aurum run-job {outcome.job}` again later is safe.", err=True)
        elif seen.delivered < total:
            code = max(code, 3)
            typer.echo(f"{head}: {outcome.result}, but only {seen.delivered} of {total} message(s) reached Slack "
                       f"({seen.error or 'not tried yet'}).\n  The period stays used; the running bot retries "
                       "the rest (`aurum outbox` shows them).", err=True)
        else:
            typer.echo(f"{head}: {outcome.result}" + (f" ({total} message(s) delivered to Slack)" if total else ""))
    if code:
        raise typer.Exit(code)


@app.command()
def outbox(status: Annotated[str | None, typer.Option(help="pending, sending, sent, done, dead, cancelled")] = None,
           limit: int = 20) -> None:
    """Show the task queue: queued, failed and dead-letter Slack messages, and the other tasks (requests' work after
    the ack; alert escalations: PagerDuty, e-mail, charts) that failed."""
    from aurum.core import outbox as slack
    from storage import queue

    with _cli(existing=True) as runtime:
        with runtime.ctx.reading() as session:
            tallies = queue.tallies(session)
            rows = queue.listing(session, status, limit, kinds=slack.KINDS)
            tasks = queue.listing(session, status, limit, exclude=slack.KINDS, troubled=not status)
        counts: Counter[str] = Counter()
        task_counts: Counter[str] = Counter()
        for (kind, state), count in tallies.items():
            (counts if kind in slack.KINDS else task_counts)[state] += count
    typer.echo("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "The outbox is empty.")
    if rows:
        print_table(("message", "status", "kind", "where", "attempts", "last error"), [
            (f"#{row.id}", row.status, row.kind, slack.channel_of(row) or row.parent_key, row.attempts,
             row.last_error or "") for row in rows], right=(4,))
    if task_counts:
        typer.echo("Other tasks (requests' work after the ack, PagerDuty, e-mail, alert charts): "
                   + "  ".join(f"{k}: {v}" for k, v in sorted(task_counts.items())))
    if tasks:
        print_table(("task", "status", "kind", "key", "attempts", "last error"), [
            (f"task #{task.id}", task.status, task.kind, task.key, task.attempts, task.last_error or "")
            for task in tasks], right=(4,))


@app.command()
def collect(source: Annotated[str | None, typer.Argument(help="One source (default: every configured one)")] = None,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the values without storing them")] = False,
            team: TeamOption = None) -> None:
    """Run collection once and print what it stores (or, with --dry-run, would store)."""
    from aurum.collectors import runner
    from aurum.collectors.base import CollectorError

    with _cli() as runtime:
        ctx = runtime.ctx
        names = [source] if source else runner.configured(ctx.config.sources)
        unknown = [n for n in names if n not in runner.SOURCES]
        if unknown:
            raise _fail(f"Unknown source '{unknown[0]}'. Sources: {', '.join(runner.SOURCES)}")
        if not names:
            raise _fail("No source is configured: add a sources: section to the config file (AURUM_CONFIG).")
        team_id, failures = _team(runtime, team), 0
        for name in names:
            try:
                collected = runner.fetch(ctx, name)
            except CollectorError as exc:
                failures += 1
                typer.echo(f"✗ {name}: {exc.problem}")
                if not dry_run:
                    with ctx.transaction() as session:
                        runner.record_failure(ctx, session, team_id, exc)
                continue
            for point in collected.points:
                typer.echo(f"  {name}: {point.kpi} = {point.value:g} at {point.at.isoformat()}")
            for line in collected.notes + [f"error: {e}" for e in collected.errors]:
                typer.echo(f"  {name}: {line}")
            stored = None
            if not dry_run:
                with ctx.transaction() as session:
                    stored = runner.save(ctx, session, team_id, name, collected)
            verb = "would store" if dry_run else "stored"
            typer.echo(f"✓ {name}: {verb} {stored if stored is not None else len(collected.points)} values")
        if failures:
            raise typer.Exit(1)


@workspace_app.command("list")
def workspace_list() -> None:
    """List the workspaces with data, and whether each is installed (the console's too, while it holds data)."""
    from storage import workspaces
    from storage.adopt import teams_with_data

    with _cli(existing=True) as runtime, runtime.ctx.reading() as session:
        rows = workspaces.listing(session)
        unregistered = sorted(teams_with_data(session) - {row.team_id for row in rows})
    if not rows and not unregistered:
        typer.echo("No workspaces yet.")
        return
    table = [(row.team_id, f"uninstalled {row.uninstalled_at:%Y-%m-%d}" if row.uninstalled_at else "installed",
              row.name) for row in rows]
    # data under a workspace never registered: `--team` wrote it, or the console
    table += [(team_id, "not registered",
               "data recorded before Slack was connected" if team_id == workspaces.CONSOLE_TEAM else "")
              for team_id in unregistered]
    print_table(("team", "state", "name"), table)


@workspace_app.command("purge")
def workspace_purge(team: str, yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")]
                    = False) -> None:
    """Delete ALL data of a workspace (snapshots, outbox, claims, tokens, its installation, …) from every table."""
    from storage.purge import purge, team_tables

    if not yes:
        typer.confirm(f"Delete every row of workspace {team} from {len(team_tables())} tables? This cannot be undone",
                      abort=True)
    with _cli(existing=True) as runtime:
        with runtime.ctx.transaction() as session:
            deleted = purge(session, team)
        total = sum(deleted.values())
        typer.echo(f"Deleted {total} rows of workspace {team}: "
                   + (", ".join(f"{name} {n}" for name, n in sorted(deleted.items()) if n) or "it had no data"))
        if runtime.tokens is not None:
            runtime.tokens.forget(team)


@token_app.command("create")
def token_create(name: Annotated[str, typer.Option(help="What the token is for, e.g. github-actions")] = "ci",
                 team: TeamOption = None,
                 scopes: Annotated[str, typer.Option(help="Comma-separated scopes, e.g. push")] = "push") -> None:
    """Create an API token; it is printed once and only its hash is stored."""
    from aurum.core import tokens

    with _cli() as runtime:
        team_id = _team(runtime, team)
        with runtime.ctx.transaction() as session:
            created = tokens.create(session, team_id, name, scopes=scopes, created_by="cli")
        typer.echo(f"Token #{created.token.id} '{name}' for {team_id} (scopes: {scopes}). Copy it now, it is not "
                   f"shown again:\n{created.secret}")


@token_app.command("list")
def token_list(team: TeamOption = None) -> None:
    """List API tokens (their first characters only)."""
    from storage.api_tokens import listing

    with _cli(existing=True) as runtime, runtime.ctx.reading() as session:
        rows = listing(session, team)
    if not rows:
        typer.echo("No API tokens.")
        return
    print_table(("id", "team", "token", "name", "scopes", "state", "last used"), [
        (row.id, row.team_id, f"{row.prefix}…", row.name, row.scopes,
         f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active",
         f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never") for row in rows], right=(0,))


@token_app.command("revoke")
def token_revoke(token: Annotated[str, typer.Argument(
        metavar="TOKEN", help="Its id or first characters, as `aurum token list` shows them (3, aur_jfVNDg), "
                              "or the whole token")]) -> None:
    """Revoke an API token, named by its id, its first characters or itself."""
    from aurum.core import tokens

    with _cli(existing=True) as runtime:
        with runtime.ctx.transaction() as session:
            found = tokens.matching(session, token)
            row = tokens.revoke(session, found[0].id or 0, runtime.ctx.now()) if len(found) == 1 else None
        if not found:
            raise _fail(f"No API token '{token}'. Name it by its id or its first characters, as `aurum token list` "
                        "shows them (e.g. 3 or aur_jfVNDg), or give the whole token.")
        if row is None:
            raise _fail(f"'{token}' begins {len(found)} tokens ("
                        + ", ".join(f"#{r.id} {r.prefix}…" for r in found) + "): give more characters, or the id.")
        typer.echo(f"Revoked token #{row.id} {row.prefix}… ({row.name}).")


@config_app.command("export")
def config_export(team: TeamOption = None) -> None:
    """Print the workspace's settings as a config file (AURUM_CONFIG's shape): the ones changed in Slack, else the
    config file's."""
    import yaml

    with _cli() as runtime:
        assert runtime.ctx.live is not None
        document = runtime.ctx.live.document(_team(runtime, team))
    typer.echo(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), nl=False)


@config_app.command("import")
def config_import(file: Annotated[Path, typer.Argument(help="A config file (AURUM_CONFIG's shape)")],
                  team: TeamOption = None) -> None:
    """Make the file the workspace's settings, checked exactly as the config file is; refused, nothing changed,
    when it does not pass. Running processes take it up at their next piece of work."""
    from aurum.config import ConfigError, load_config_data

    with _cli() as runtime:
        assert runtime.ctx.live is not None
        team_id = _team(runtime, team)
        try:
            changed = runtime.ctx.live.replace(team_id, load_config_data(file) or {}, "cli", runtime.ctx.now(),
                                               str(file))
        except ConfigError as exc:
            raise _fail(f"Configuration problem:\n{exc}") from None
    typer.echo(f"Imported {file} for {team_id}: {len(changed)} setting(s) changed.")


@app.command("alert-rules")
def alert_rules() -> None:
    """Print the alert rules (the seed's, with AURUM_CONFIG's changes) as a Prometheus rule file."""
    from aurum.alerts.prometheus import rule_file

    with _cli() as runtime:
        alerts = runtime.ctx.config.alerts
        typer.echo(rule_file(alerts.enabled(), runbook_base=alerts.runbook_base_url,
                             missing_data=alerts.missing_data), nl=False)


@alerts_app.command("test")
def alerts_test(file: Annotated[Path, typer.Argument(help="A test file in `promtool test rules`' shape")]) -> None:
    """Replay the file's series through the bot's own rule engine (simulated clock, no Slack, no database) and
    check the alerts firing at each eval_time; exit 0 only when every case passes. The rules: the file's
    `rule_files` (the bot's config files), else AURUM_CONFIG's."""
    import yaml

    from aurum.alerts.ruletest import RuleTestError, run
    from aurum.config import ConfigError, load_config

    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise _fail(f"{file}: cannot read it as YAML ({exc})") from None
    rule_files = document.get("rule_files") if isinstance(document, dict) else None
    try:
        if rule_files:
            paths = [file.parent / str(name) for name in rule_files]
            if len(paths) > 1:
                raise _fail(f"{file}: rule_files names one bot config file (its `alerts:` section), got {len(paths)}")
            loaded = yaml.safe_load(paths[0].read_text(encoding="utf-8")) if paths[0].exists() else None
            if isinstance(loaded, dict) and "groups" in loaded and "alerts" not in loaded:
                raise _fail(f"{paths[0]}: a Prometheus rule file; rule_files names the bot's config file "
                            "(its `alerts:` section), or leave it out to use AURUM_CONFIG")
            config = load_config(paths[0])
        else:
            config = load_config(_settings().aurum_config)
        report = run(document, config.alerts)
    except (ConfigError, RuleTestError) as exc:
        raise _fail(f"{file}: {exc}") from None
    typer.echo(report.text())
    if report.failed or not report.cases:
        raise typer.Exit(1)


@app.command()
def check() -> None:
    """Check the settings and AURUM_CONFIG, and (with SLACK_BOT_TOKEN) that every channel the config names is one
    the bot can post in. Exit 0 when all is well, 1 when a channel needs fixing, 2 when the configuration does."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.app import web_client
    from bot.channel_check import channel_problems
    from bot.compose import build_context

    settings = _settings()
    try:
        ctx = build_context(settings, migrate=False)
    except SettingsError as exc:
        raise _fail(f"Configuration problem:\n{exc}") from None
    ctx.engine.dispose()
    typer.echo(f"Configuration OK: {settings.aurum_config or 'no AURUM_CONFIG, the built-in defaults'}.")
    channels = ctx.config.posting_channels()
    if settings.slack_bot_token is None:
        typer.echo(f"Channels not checked ({len(channels)} configured): set SLACK_BOT_TOKEN to ask Slack.")
        return
    try:
        problems = channel_problems(web_client(settings), channels)
    except (SlackApiError, SlackClientError, OSError) as exc:
        raise _fail(f"Could not ask Slack about the channels at {settings.slack_api_url} "
                    f"({type(exc).__name__}); check SLACK_BOT_TOKEN and SLACK_API_URL.") from None
    for problem in problems:
        typer.echo(problem)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"All {len(channels)} configured channels take the bot's messages and charts.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to DATABASE_URL."""
    from storage.db import make_engine
    from storage.migrate import current_revisions, upgrade

    engine = make_engine(_settings().database_url)
    upgrade(engine)
    typer.echo(f"Database at revision {', '.join(sorted(current_revisions(engine)))}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()


