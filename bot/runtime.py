"""A process's running parts (built by bot/compose.py): its context, delivery, Bolt app and background workers,
started and shut down together; and the registration of the single-token workspace."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from slack_bolt import App

from aurum.alerts.escalation import AlertTaskWorker, Mailer, PagerDuty
from aurum.core import after_ack
from aurum.core.context import Context
from aurum.core.delivery import Delivery
from aurum.core.outbox import OutboxWorker
from aurum.core.queue import QueueWorker
from bot.app import HomeTeam, web_client
from bot.channel_check import log_channel_problems
from bot.installations import TeamTokens, log_adopted
from bot.memory import keep_trimmed
from bot.settings import Settings
from bot.slack_access import QUIET_SDK, SlackAccess, auth_test_problem
from storage.adopt import register
from storage.db import session_scope
from storage.workspaces import CONSOLE_TEAM, by_token, ensure, listing

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Engine

    from bot.work_process import WorkProcess

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    ctx: Context
    app: App | None  # the Bolt app; None in processes that answer no Slack request (clock, CLI)
    delivery: Delivery
    console: bool = False
    home: HomeTeam = field(default_factory=HomeTeam)
    tokens: TeamTokens | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    http: httpx.Client | None = None
    # A web process's work process (bot/work_process.py); None: the work after the ack runs in threads here.
    work: WorkProcess | None = None
    slack: SlackAccess = field(default_factory=SlackAccess)  # single-token mode: does Slack accept the token

    @property
    def bolt(self) -> App:
        """The Bolt app of a process that answers Slack requests (web, work, console)."""
        if self.app is None:
            raise RuntimeError("this process answers no Slack request: it was built without a Bolt app")
        return self.app

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()

    def worker(self) -> OutboxWorker:
        seconds = self.settings.aurum_outbox_claim_seconds
        return OutboxWorker(self.ctx, self.delivery, claim_for=timedelta(seconds=seconds) if seconds else None)

    def request_worker(self) -> QueueWorker:
        """Does the requests' work after the ack (aurum.core.after_ack), in threads apart from the deliveries'."""
        worker = QueueWorker(self.ctx, {after_ack.KIND: after_ack.RequestWork(self.ctx.works)})
        worker.name = "requests"
        return worker

    def drain(self) -> None:
        """Do every request's work and delivery that is due, then return (the console, the CLI)."""
        requests, outbox = self.request_worker(), self.worker()
        for _ in range(100):
            requests.drain()
            outbox.drain()
            if requests.idle() and outbox.idle():
                return

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
        if self.app is not None:
            for i in range(self.settings.aurum_lazy_threads):
                thread = threading.Thread(target=self.request_worker().run_forever, args=(self.stop,),
                                          name=f"aurum-requests-{i}", daemon=True)
                thread.start()
                self.threads.append(thread)
        # Built in its own thread: its HTTP client's imports stay off the start-up path.
        thread = threading.Thread(target=lambda: self.alert_worker().run_forever(self.stop),
                                  name="aurum-alert-tasks", daemon=True)
        thread.start()
        self.threads.append(thread)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the workers (work they have not started stays queued for the next start), close the database pool."""
        if self.work is not None:
            self.work.shutdown()
        self.stop.set()
        self.ctx.outbox_wake.set()
        for thread in self.threads:
            thread.join(timeout)
        if self.http is not None:
            self.http.close()
        self.ctx.engine.dispose()


class WorkspaceUnknown(Exception):
    """The workspace to read or write is not known (Slack unreachable, several workspaces, none installed)."""


def token_sha256(settings: Settings) -> str | None:
    """The hash under which the bot token's workspace is remembered (storage.workspaces.by_token)."""
    token = settings.slack_bot_token
    return hashlib.sha256(token.get_secret_value().encode()).hexdigest() if token else None


def learn_token_workspace(settings: Settings, engine: Engine) -> tuple[str, str]:
    """Single-token mode: ask Slack (auth.test) which workspace the bot token names, register it (remembering the
    token's hash) and let it adopt what the console workspace holds. Raises what the Slack client raises."""
    info = web_client(settings, interactive=False, logger=QUIET_SDK).auth_test()  # no retries in place: callers decide
    team_id, name = info["team_id"], info.get("team", "")
    with session_scope(engine) as session:
        adopted = register(session, team_id, name, token_sha256=token_sha256(settings))
    log_adopted(team_id, adopted)
    return team_id, name


def register_workspace(runtime: Runtime) -> str | None:
    """Single-token mode: learn the workspace from auth.test so that scheduled jobs know whom to serve (and let it
    adopt the data stored before Slack was connected). Without Slack, the console's workspace.
    In OAuth mode workspaces register themselves when they install the app."""
    if runtime.tokens is not None:
        return None
    if runtime.console and runtime.settings.slack_bot_token is None:
        team_id = CONSOLE_TEAM
        with session_scope(runtime.ctx.engine) as session:
            ensure(session, team_id, "Local console")
    else:
        try:
            team_id, _ = learn_token_workspace(runtime.settings, runtime.ctx.engine)
        except Exception as exc:  # Slack may be down: serve anyway (not ready), the outbox will catch up
            runtime.slack.failed(auth_test_problem(runtime.settings.slack_api_url, exc))
            return None
        runtime.slack.answered()
    runtime.home.team_id = team_id
    return team_id


def workspace_to_use(runtime: Runtime) -> str:
    """The workspace a CLI command without --team reads and writes: single-token mode, the bot token's (remembered
    in the database, else learnt from Slack once); OAuth, the one installed; without Slack, the only workspace or
    the console's. Raises WorkspaceUnknown, with what to do, rather than guess."""
    settings, engine = runtime.settings, runtime.ctx.engine
    if settings.slack_bot_token is not None and not settings.oauth_enabled:
        with session_scope(engine) as session:
            known = by_token(session, token_sha256(settings) or "")
        if known is not None:
            return known
        try:
            return learn_token_workspace(settings, engine)[0]
        except Exception as exc:  # noqa: BLE001 - any failure to reach Slack is told, with the way out
            raise WorkspaceUnknown(
                "The Slack workspace of SLACK_BOT_TOKEN is not known yet, and Slack could not tell it. "
                f"{auth_test_problem(settings.slack_api_url, exc)}\n"
                "Nothing was stored. Run the command again once Slack answers (the workspace is then "
                "remembered and later commands need no network), or name it with --team T… (your workspace's team "
                "id, as `aurum workspace list` shows it once the bot has connected).") from None
    with session_scope(engine) as session:
        rows = [w for w in listing(session) if w.uninstalled_at is None]
    if settings.oauth_enabled:
        rows = [w for w in rows if w.team_id != CONSOLE_TEAM]
        if not rows:
            raise WorkspaceUnknown("No workspace has installed the app yet: install it through /slack/install of "
                                   "`aurum serve`, or name the workspace with --team T…. Nothing was stored.")
    if len(rows) > 1:
        names = "\n".join(f"  {w.team_id}  {w.name}".rstrip() for w in rows)
        raise WorkspaceUnknown(f"Several workspaces are served; pick one with --team, e.g. --team {rows[0].team_id}. "
                               f"Nothing was stored. Workspaces:\n{names}")
    return rows[0].team_id if rows else CONSOLE_TEAM


def register_until_done(runtime: Runtime, first_wait: float = 2.0, longest_wait: float = 300.0,
                        check_channels: bool = False) -> None:
    """Start-up could not reach Slack: try again, waiting twice as long each time, until it answers or the bot stops."""
    wait = first_wait
    while not runtime.stop.wait(wait):
        if register_workspace(runtime) is not None:
            log.info("workspace registered", extra={"team_id": runtime.home.team_id})
            if check_channels:
                check_configured_channels(runtime)
            return
        wait = min(wait * 2, longest_wait)


def start_registration(runtime: Runtime, check_channels: bool = False) -> None:
    """Register the workspace now if Slack answers, else keep trying in the background (the bot serves meanwhile).
    `check_channels`: then log the configured channels the bot cannot post in (`aurum serve`)."""
    if register_workspace(runtime) is None and runtime.tokens is None and not runtime.console:
        thread = threading.Thread(target=register_until_done, args=(runtime,),
                                  kwargs={"check_channels": check_channels}, name="aurum-register", daemon=True)
        thread.start()
        runtime.threads.append(thread)
    elif check_channels:
        check_configured_channels(runtime)


def check_configured_channels(runtime: Runtime) -> list[str]:
    """Warn of each configured channel the bot cannot post in, with the fix: in the bot token's workspace, or
    (OAuth) in each installed one."""
    uses = runtime.ctx.config.posting_channels()
    if runtime.tokens is None:
        if runtime.settings.slack_bot_token is None:
            return []
        return log_channel_problems(web_client(runtime.settings), uses, runtime.home.team_id)
    with session_scope(runtime.ctx.engine) as session:
        teams = [w.team_id for w in listing(session) if w.uninstalled_at is None and w.team_id != CONSOLE_TEAM]
    problems = []
    for team in teams:
        if runtime.tokens.bot(team) is not None:  # a workspace with data but no install has no channels to check
            problems += log_channel_problems(runtime.tokens.client_for(team), uses, team)
    return problems
