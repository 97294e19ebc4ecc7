"""The `aurum` command: serve, scheduler, demo console, KPI queries, jobs and database upkeep."""

from __future__ import annotations

import json
import logging
import sys
from typing import Annotated

import typer

from bot.settings import Settings, SettingsError, load_settings

app = typer.Typer(help="Aurum: roadmap KPIs, surveys, alerts and reports in Slack.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

TeamOption = Annotated[str | None, typer.Option("--team", help="Slack team id (default: the only workspace)")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise _fail(f"Configuration problem:\n{exc}") from None


def _setup_logging() -> None:
    from bot.logs import configure

    configure()


def _runtime(console: bool, settings: Settings | None = None):
    from bot.runtime import build_runtime

    try:
        return build_runtime(settings or _settings(), console=console)
    except SettingsError as exc:
        raise _fail(f"Configuration problem:\n{exc}") from None


def _team(runtime, team: str | None) -> str:
    from bot.runtime import CONSOLE_TEAM
    from storage.workspaces import all_team_ids

    if team:
        return team
    with runtime.ctx.reading() as session:
        teams = all_team_ids(session)
    if len(teams) > 1:
        raise _fail(f"Several workspaces are served ({', '.join(teams)}); pick one with --team.")
    return teams[0] if teams else CONSOLE_TEAM


@app.command()
def serve(port: Annotated[int | None, typer.Option(help="HTTP port (default: PORT or 3000)")] = None) -> None:
    """Run the HTTP server: Slack requests on /slack/events, /healthz and /metrics."""
    import uvicorn

    from bot.web import create_web_app

    _setup_logging()
    settings = _settings()
    runtime = _runtime(console=False, settings=settings)
    uvicorn.run(create_web_app(runtime), host="0.0.0.0", port=settings.port if port is None else port, log_config=None,
                access_log=False, timeout_graceful_shutdown=10)


@app.command()
def scheduler() -> None:
    """Run the clock process: scheduled jobs, at most once per period across processes."""
    from bot.scheduler import run_clock

    _setup_logging()
    settings = _settings()
    run_clock(_runtime(console=not settings.slack_enabled, settings=settings))


@app.command()
def demo(
    command: Annotated[list[str] | None, typer.Option("--command", "-c", help="Run this command and exit")] = None,
    database: Annotated[str, typer.Option(help="Database for the demo")] = "sqlite:///aurum-demo.db",
) -> None:
    """Try the bot without Slack: demo history in SQLite and a console for the slash commands."""
    from aurum import demo as demo_data
    from bot.console import repl, run_command
    from bot.runtime import CONSOLE_TEAM, register_workspace

    logging.basicConfig(level=logging.WARNING)
    runtime = _runtime(console=True, settings=_settings(database_url=database, slack_bot_token=None,
                                                         slack_app_token=None))
    register_workspace(runtime)
    with runtime.ctx.transaction() as session:
        if not demo_data.has_data(session, CONSOLE_TEAM):
            count = demo_data.load(session, runtime.ctx.catalog, CONSOLE_TEAM, runtime.ctx.now())
            typer.echo(f"Loaded {count:,} demo snapshots ({demo_data.WEEKS} weeks of {len(runtime.ctx.catalog)} KPIs).")
    if command:
        for line in command:
            typer.echo(f"aurum> {line}")
            run_command(runtime, line, sys.stdout)
    else:
        repl(runtime)
    runtime.shutdown()


@app.command()
def kpi(name: str, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
        team: TeamOption = None) -> None:
    """Print a KPI's status."""
    from aurum import blocks, formatting, kpis

    runtime = _runtime(console=True)
    found = runtime.ctx.catalog.resolve(name)
    if found is None:
        raise _fail(blocks.unknown_kpi(runtime.ctx.catalog, name, runtime.ctx.catalog.suggest(name)).replace("`", ""))
    with runtime.ctx.reading() as session:
        status = kpis.status(runtime.ctx, session, _team(runtime, team), found)
    if as_json:
        typer.echo(json.dumps({
            "kpi": found.key, "name": found.name, "unit": found.unit,
            "value": status.latest.value if status.latest else None,
            "at": status.latest.at.isoformat() if status.latest else None,
            "source": status.latest.source if status.latest else None,
            "status": status.state, "target": formatting.target(found), "baseline": found.baseline,
            "change": status.change_abs, "change_pct": status.change_pct, "progress_pct": status.progress_pct,
            "next_phase_target": list(status.next_phase) if status.next_phase else None, "stale": status.stale,
        }, indent=2))
    else:
        typer.echo(f"{status.emoji} {blocks.kpi_text(status)}; {blocks.trend_text(status)}")
    runtime.shutdown()


@app.command()
def record(name: str, value: str, at: Annotated[str | None, typer.Option(help="ISO time (team zone if none)")] = None,
           team: TeamOption = None) -> None:
    """Store a KPI value."""
    from aurum import blocks, kpis

    runtime = _runtime(console=True)
    found = runtime.ctx.catalog.resolve(name)
    if found is None:
        raise _fail(blocks.unknown_kpi(runtime.ctx.catalog, name, runtime.ctx.catalog.suggest(name)).replace("`", ""))
    try:
        when = kpis.parse_time(at, runtime.ctx) if at else None
        with runtime.ctx.transaction() as session:
            point = kpis.record(runtime.ctx, session, _team(runtime, team), found, kpis.parse_value(value), when,
                                source="cli")
    except kpis.InputError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"Recorded {found.name} = {value} at {point.at.isoformat()}")
    runtime.shutdown()


@app.command()
def jobs() -> None:
    """List the scheduled jobs with their next run."""
    from aurum.jobs import JobRunner

    runtime = _runtime(console=True)
    runner = JobRunner(runtime.ctx)
    now = runtime.ctx.now()
    for job in runner.jobs.values():
        upcoming = runner.next_fire(job, now)
        when = upcoming.astimezone(runtime.ctx.tz).strftime("%a %Y-%m-%d %H:%M %Z") if upcoming else "never"
        typer.echo(f"{job.name:<24} {runner.cron(job):<16} next {when}  {job.description}")
    runtime.shutdown()


@app.command("run-job")
def run_job(job: str, team: TeamOption = None) -> None:
    """Run a job now, through the same once-per-period claims as the scheduler."""
    from aurum.jobs import JobRunner

    runtime = _runtime(console=True)
    runner = JobRunner(runtime.ctx)
    if job not in runner.jobs:
        raise _fail(f"Unknown job '{job}'. Jobs: {', '.join(runner.jobs)}")
    for outcome in runner.run_now(job, team_id=team or _team(runtime, None)):
        typer.echo(f"{outcome.job} [{outcome.period}] for {outcome.team_id}: {outcome.result}")
    from aurum.outbox import OutboxWorker

    OutboxWorker(runtime.ctx, runtime.delivery).drain()
    runtime.shutdown()


@app.command()
def outbox(status: Annotated[str | None, typer.Option(help="pending, sending, sent, dead")] = None,
           limit: int = 20) -> None:
    """Show queued, failed and dead-letter Slack messages."""
    from storage import outbox as repo

    runtime = _runtime(console=True)
    with runtime.ctx.reading() as session:
        counts = repo.counts(session)
        rows = repo.listing(session, status, limit)
    typer.echo("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "The outbox is empty.")
    for row in rows:
        typer.echo(f"#{row.id} {row.status:<10} {row.kind:<9} {row.channel or row.parent_key} "
                   f"attempts={row.attempts} {row.last_error or ''}")
    runtime.shutdown()


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


