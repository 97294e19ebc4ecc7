"""Composition roots: one per process kind, each building, once, the services that kind of process uses.

    web      `aurum serve`: verifies and acks Slack requests; the work after the ack runs in its work process
             (or, with AURUM_WORK_PROCESS=false or Socket Mode, in threads of its own)
    work     the work process beside a web process: the work after the ack and the deliveries
    clock    `aurum scheduler`: scheduled jobs and their deliveries (to the console when Slack is not configured)
    console  `aurum demo`: the slash commands answered in a terminal
    cli      every other `aurum` command: a query or a write, then exit

Each builds its `Context` in one call, with every service it needs; nothing is set on it afterwards.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from aurum.alerts import evaluation as alert_evaluation
from aurum.config import ConfigError, load_config_data
from aurum.core.after_ack import Intake
from aurum.core.context import Context
from aurum.core.delivery import Delivery, Directory
from aurum.core.settings import LiveSettings
from aurum.core.telemetry import Telemetry
from aurum.recognition import celebrations
from bot.app import HomeTeam, build_app, web_client
from bot.config_check import checked_config
from bot.console import CONSOLE_USER, ConsoleDelivery
from bot.installations import TeamTokens, WorkspaceInstallationStore
from bot.jobs import compose_jobs
from bot.roles import AdminCheck
from bot.runtime import Runtime
from bot.settings import Settings, SettingsError
from bot.slack_delivery import SlackDelivery
from bot.slack_pacing import Pacing
from bot.work_process import WakeWorkProcess, WorkProcess
from storage.db import make_engine
from storage.migrate import upgrade_if_behind

log = logging.getLogger(__name__)


def build_context(settings: Settings, *, engine: Engine | None = None, migrate: bool = True,
                  **services: Any) -> Context:
    """The domain's context: team config and KPI catalogue (checked against each other), the engine (DATABASE_URL's
    unless given; migrated to the newest schema unless `migrate` is False), the jobs, and the process's own
    `services` (Context fields)."""
    try:
        seed = load_config_data(settings.aurum_config)
        config, catalog = checked_config(seed, str(settings.aurum_config or "config"),
                                         rules_origin=str(settings.aurum_config or "built-in alert rules"))
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    jobs = compose_jobs(config)  # every process checks the schedules' names; a web process's work process runs them
    engine = engine or make_engine(settings.database_url)
    if migrate:
        upgrade_if_behind(engine)
    if settings.survey_secret:
        services.setdefault("survey_secret", settings.survey_secret)
    services.setdefault("jobs", jobs)
    live = LiveSettings(engine, seed if isinstance(seed, dict) else {}, checked_config)
    return Context(engine=engine, seed_catalog=catalog, seed_config=config, live=live, timetable=jobs, tz=settings.tz,
                   admins=settings.admins,
                   chart_dir=settings.aurum_chart_dir, secrets=settings.secrets,
                   snapshot_listeners=[alert_evaluation.on_snapshots, celebrations.on_snapshots], **services)


def build_web(settings: Settings, *, work_process: bool | None = None, delivery: Delivery | None = None) -> Runtime:
    """`aurum serve`. `work_process` (default AURUM_WORK_PROCESS): the work after the ack and the deliveries run in
    a work process beside this one; else in threads of this one."""
    wanted = settings.aurum_work_process if work_process is None else work_process
    if wanted:
        return _slack(settings, delivery, work=WorkProcess(settings, Telemetry()), intake=True)
    return _slack(settings, delivery, intake=True)


def build_work(settings: Settings) -> Runtime:
    """The work process: the queued work after the ack and the deliveries; its web process migrated the database.
    Its Bolt app answers nothing: building it registers the works (`ctx.works`)."""
    return _slack(settings, None, migrated=True)


def build_clock(settings: Settings) -> Runtime:
    """`aurum scheduler`: delivers to Slack when it is configured, else prints to the console."""
    if not settings.slack_enabled:
        return build_cli(settings)
    return _slack(settings, None, app=False)


def build_console(settings: Settings, *, delivery: Delivery | None = None) -> Runtime:
    """`aurum demo`: the Bolt app answers typed slash commands; replies print, charts land under the chart folder."""
    return _console(settings, delivery, app=True)


def build_cli(settings: Settings) -> Runtime:
    """The other `aurum` commands: the domain and a console delivery, no Bolt app."""
    return _console(settings, None, app=False)


def _console(settings: Settings, delivery: Delivery | None, *, app: bool) -> Runtime:
    delivery = delivery or ConsoleDelivery(settings.aurum_chart_dir)
    ctx = build_context(settings, directory=_directory(delivery))
    ctx.admins = ctx.admins | {CONSOLE_USER}  # whoever runs the console runs Aurum: every command works there
    home = HomeTeam()
    bolt = build_app(settings, ctx, console=True, home=home) if app else None
    return Runtime(settings=settings, ctx=ctx, app=bolt, delivery=delivery, console=True, home=home)


def _slack(settings: Settings, delivery: Delivery | None, *, work: WorkProcess | None = None, migrated: bool = False,
           app: bool = True, intake: bool = False) -> Runtime:
    """A process that talks to Slack: single-token mode (SLACK_BOT_TOKEN) or OAuth (many workspaces)."""
    settings.check_for_slack()
    engine = make_engine(settings.database_url)
    tokens, client_for, admin_client_for = _clients(settings, engine)
    # Paced by the context's clock, which the queue schedules by (a message put back for its turn is due when the
    # turn comes): read when a call is made, once `ctx` below exists.
    delivery = delivery or SlackDelivery(client_for, Pacing(clock=lambda: ctx.now().timestamp()))
    services: dict[str, Any] = {}
    if work is not None:  # its work process runs the work after the ack, the jobs (/report) among it
        services = {"outbox_wake": WakeWorkProcess(work), "telemetry": work.telemetry, "jobs": {}}
    if intake:  # a web process: its acks store their requests' work together
        wake = services.setdefault("outbox_wake", threading.Event())
        services["intake"] = Intake(engine, wake)
    if not settings.survey_secret:
        log.warning("neither AURUM_SURVEY_SECRET nor SLACK_SIGNING_SECRET is set: survey answer sets are keyed "
                    "with a built-in key, so whoever reads the database can link answers of open runs to people")
    ctx = build_context(settings, engine=engine, migrate=not migrated, directory=_directory(delivery),
                        admin_check=AdminCheck(admin_client_for, group=settings.aurum_admin_group,
                                               workspace_admins=settings.aurum_workspace_admins), **services)
    home = HomeTeam()
    bolt = build_app(settings, ctx, tokens=tokens, home=home) if app else None
    return Runtime(settings=settings, ctx=ctx, app=bolt, delivery=delivery, home=home, tokens=tokens, work=work)


ClientFor = Callable[[str], WebClient]


def _clients(settings: Settings, engine: Engine) -> tuple[TeamTokens | None, ClientFor, ClientFor]:
    """(the OAuth token cache or None, a workspace's client for deliveries, its client for requests made while a
    person waits: fewer retries)."""
    if settings.oauth_enabled:
        tokens = TeamTokens(WorkspaceInstallationStore(settings.slack_client_id or "", engine),
                            lambda token: web_client(settings, token=token, interactive=False))
        interactive = TeamTokens(tokens.store, lambda token: web_client(settings, token=token))
        tokens.store.on_removed = _forget_in(tokens, interactive)
        return tokens, tokens.client_for, interactive.client_for
    outbox_client = web_client(settings, interactive=False)
    shared_client = web_client(settings)
    return None, (lambda _team: outbox_client), (lambda _team: shared_client)


def _directory(delivery: Delivery) -> Directory | None:
    return delivery if isinstance(delivery, Directory) else None


def _forget_in(*caches: TeamTokens) -> Callable[[str], None]:
    def forget(team_id: str) -> None:
        for cache in caches:
            cache.forget(team_id)

    return forget
