"""Composition root: settings → engine, config, catalogue, context, delivery, Bolt app. Built once per process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient

from aurum import celebrations
from aurum.alerts import evaluation as alert_evaluation
from aurum.alerts.escalation import AlertTaskWorker, Mailer, PagerDuty
from aurum.alerts.rules import check_rules
from aurum.catalog import CatalogError, load_catalog
from aurum.collectors.runner import unknown_kpis
from aurum.config import ConfigError, load_config
from aurum.context import Context
from aurum.delivery import Delivery, Directory
from aurum.outbox import OutboxWorker
from bot.app import HomeTeam, build_app, listener_pool, web_client
from bot.installations import TeamTokens, WorkspaceInstallationStore
from bot.jobs import compose_jobs
from bot.memory import keep_trimmed
from bot.roles import AdminCheck
from bot.settings import Settings, SettingsError
from bot.slack_delivery import SlackDelivery
from bot.work_process import ForwardAfterAck, WakeWorkProcess, WorkProcess
from storage.db import make_engine, session_scope
from storage.migrate import upgrade_if_behind
from storage.workspaces import ensure

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
CONSOLE_TEAM = "T0CONSOLE"


@dataclass
class Runtime:
    settings: Settings
    ctx: Context
    app: App
    delivery: Delivery
    console: bool = False
    home: HomeTeam = field(default_factory=HomeTeam)
    tokens: TeamTokens | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    http: httpx.Client | None = None
    # A web process's work process (bot/work_process.py); None: the work after the ack runs in threads here.
    work: WorkProcess | None = None

    def worker(self) -> OutboxWorker:
        seconds = self.settings.aurum_outbox_claim_seconds
        return OutboxWorker(self.ctx, self.delivery, claim_for=timedelta(seconds=seconds) if seconds else None)

    def start_outbox(self, threads: int = 2) -> None:
        for i in range(threads):
            thread = threading.Thread(target=self.worker().run_forever, args=(self.stop,),
                                      name=f"aurum-outbox-{i}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def alert_worker(self) -> AlertTaskWorker:
        """Runs the queue's PagerDuty, e-mail and alert chart tasks, in threads apart from the Slack kinds' (a slow
        PagerDuty or SMTP server never holds back a Slack message)."""
        settings = self.settings
        if self.http is None:
            import httpx

            self.http = httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
        key = settings.pagerduty_routing_key.get_secret_value() if settings.pagerduty_routing_key else None
        mailer = Mailer(host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user,
                        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                        sender=settings.smtp_from, starttls=settings.smtp_starttls)
        return AlertTaskWorker(self.ctx, PagerDuty(self.http, key, settings.pagerduty_events_url), mailer)

    def start_workers(self, outbox_threads: int = 2) -> None:
        """The background deliveries: Slack outbox threads and one thread for alert escalations and charts;
        or, for a web process with a work process, that process, which runs them. And, in every process, a thread
        that hands freed heap memory back to the system."""
        trimmer = threading.Thread(target=keep_trimmed, args=(self.stop,), name="aurum-memory", daemon=True)
        trimmer.start()
        self.threads.append(trimmer)
        if self.work is not None:
            self.work.start()
            return
        self.start_outbox(outbox_threads)
        # Built in its own thread: its HTTP client's imports stay off the start-up path.
        thread = threading.Thread(target=lambda: self.alert_worker().run_forever(self.stop),
                                  name="aurum-alert-tasks", daemon=True)
        thread.start()
        self.threads.append(thread)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Finish the work after acks already given, stop the outbox workers, close the database pool."""
        if self.ctx.after_ack is not None:
            self.ctx.after_ack.shutdown(wait=True)
        if self.work is not None:
            self.work.shutdown()
        self.stop.set()
        self.ctx.outbox_wake.set()
        for thread in self.threads:
            thread.join(timeout)
        if self.http is not None:
            self.http.close()
        self.ctx.engine.dispose()


def build_context(settings: Settings, migrate: bool = True) -> Context:
    """Engine (migrated to the newest schema unless `migrate` is False), team config and KPI catalogue."""
    try:
        config = load_config(settings.aurum_config)
        catalog = load_catalog(config.kpis, origin=str(settings.aurum_config)) if config.kpis else load_catalog()
    except (ConfigError, CatalogError) as exc:
        raise SettingsError(str(exc)) from None
    problems = unknown_kpis(config.sources, catalog)
    if problems:
        origin = settings.aurum_config or "config"
        raise SettingsError("invalid configuration:\n" + "\n".join(f"  {origin}: {p}" for p in problems))
    problems = check_rules(config.alerts, set(catalog.kpis), set(config.channels.model_dump()))
    if problems:
        origin = settings.aurum_config or "built-in alert rules"
        raise SettingsError("invalid alert rules:\n" + "\n".join(f"  {origin}: {p}" for p in problems))
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade_if_behind(engine)
    ctx = Context(engine=engine, catalog=catalog, config=config, tz=settings.tz, admins=settings.admins,
                  chart_dir=settings.aurum_chart_dir, secrets=settings.secrets, jobs=compose_jobs(config))
    ctx.snapshot_listeners.append(alert_evaluation.on_snapshots)
    if settings.survey_secret:
        ctx.survey_secret = settings.survey_secret
    ctx.snapshot_listeners.append(celebrations.on_snapshots)
    return ctx


def build_runtime(settings: Settings, *, console: bool = False, delivery: Delivery | None = None,
                  work_process: bool = False, forwarded: bool = False) -> Runtime:
    """Console, single-token mode (SLACK_BOT_TOKEN) or OAuth mode (SLACK_CLIENT_ID/SECRET: many workspaces).
    `work_process`: a web process whose work after the ack runs in a work process (not with Socket Mode, whose
    requests do not pass through the web server). `forwarded`: that work process, whose requests its web process
    verified and whose database that process migrated."""
    if not console:
        settings.check_for_slack()
    ctx = build_context(settings, migrate=not forwarded)
    tokens: TeamTokens | None = None
    client_for: Callable[[str], WebClient]
    if settings.oauth_enabled and not console:
        tokens = TeamTokens(WorkspaceInstallationStore(settings.slack_client_id or "", ctx.engine),
                            lambda token: web_client(settings, token=token, interactive=False))
        client_for = tokens.client_for
        interactive = TeamTokens(tokens.store, lambda token: web_client(settings, token=token))
        admin_client_for = interactive.client_for
        tokens.store.on_removed = _forget_in(tokens, interactive)
    else:
        outbox_client = web_client(settings, interactive=False)
        shared_client = web_client(settings)
        client_for, admin_client_for = (lambda _team: outbox_client), (lambda _team: shared_client)
    if not console:
        ctx.admin_check = AdminCheck(admin_client_for, group=settings.aurum_admin_group,
                                     workspace_admins=settings.aurum_workspace_admins)
    if delivery is None:
        if console:
            from bot.console import ConsoleDelivery

            delivery = ConsoleDelivery(settings.aurum_chart_dir)
        else:
            delivery = SlackDelivery(client_for)
    ctx.directory = delivery if isinstance(delivery, Directory) else None
    if not console and not settings.survey_secret:
        log.warning("neither AURUM_SURVEY_SECRET nor SLACK_SIGNING_SECRET is set: survey answer sets are keyed "
                    "with a built-in key, so whoever reads the database can link answers of open runs to people")
    home = HomeTeam()
    work = None
    if work_process and not console and settings.slack_app_token is None:
        work = WorkProcess(settings, ctx.telemetry)
        ctx.after_ack = ForwardAfterAck()
        ctx.outbox_wake = WakeWorkProcess(work)
    else:
        ctx.after_ack = None if console else listener_pool(settings)
    app = build_app(settings, ctx, console=console, executor=ctx.after_ack, tokens=tokens, home=home,
                    verify_requests=not forwarded)
    return Runtime(settings=settings, ctx=ctx, app=app, delivery=delivery, console=console, home=home,
                   tokens=tokens, work=work)


def _forget_in(*caches: TeamTokens) -> Callable[[str], None]:
    def forget(team_id: str) -> None:
        for cache in caches:
            cache.forget(team_id)

    return forget


def register_workspace(runtime: Runtime) -> str | None:
    """Single-token mode: learn the workspace from auth.test so that scheduled jobs know whom to serve.
    In OAuth mode workspaces register themselves when they install the app."""
    if runtime.tokens is not None:
        return None
    if runtime.console:
        team_id, name = CONSOLE_TEAM, "Local console"
    else:
        try:
            info = web_client(runtime.settings, interactive=False).auth_test()  # no retries in place: see below
        except Exception as exc:  # Slack may be down: serve anyway, the outbox will catch up
            log.warning("auth.test failed; workspace not registered yet", extra={"error": type(exc).__name__})
            return None
        team_id, name = info["team_id"], info.get("team", "")
    with session_scope(runtime.ctx.engine) as session:
        ensure(session, team_id, name)
    runtime.home.team_id = team_id
    return team_id


def register_until_done(runtime: Runtime, first_wait: float = 2.0, longest_wait: float = 300.0) -> None:
    """Start-up could not reach Slack: try again, waiting twice as long each time, until it answers or the bot stops."""
    wait = first_wait
    while not runtime.stop.wait(wait):
        if register_workspace(runtime) is not None:
            log.info("workspace registered", extra={"team_id": runtime.home.team_id})
            return
        wait = min(wait * 2, longest_wait)


def start_registration(runtime: Runtime) -> None:
    """Register the workspace now if Slack answers, else keep trying in the background (the bot serves meanwhile)."""
    if register_workspace(runtime) is None and runtime.tokens is None and not runtime.console:
        thread = threading.Thread(target=register_until_done, args=(runtime,), name="aurum-register", daemon=True)
        thread.start()
        runtime.threads.append(thread)
