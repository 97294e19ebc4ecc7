"""The Bolt app: one place that wires command modules, the error handler and the Slack client."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.engine import Engine

import commands
from aurum.core.context import Context
from aurum.core.text import escape, outgoing
from bot.installations import (
    STATE_EXPIRY_SECONDS,
    StoreAuthorize,
    TeamTokens,
    WorkspaceInstallationStore,
    register_lifecycle,
    state_store,
)
from bot.settings import Settings

log = logging.getLogger(__name__)
ACK_CALL_TIMEOUT = 2  # seconds a Web API call made inside an ack function may take
CONSOLE_TOKEN = "xoxb-console"
CONSOLE_SECRET = "console-only-signing-secret"
NOT_INSTALLED = ("Aurum is not installed in this workspace (or was uninstalled). "
                 "An admin can install it from /slack/install.")
SLASH_COMMANDS = tuple(module.COMMAND for module in commands.MODULES if hasattr(module, "COMMAND"))
ANY_COMMAND = re.compile(r"^/")


def unknown_command(command: str) -> str:
    """The answer to a slash command the bot does not have (typed in the console, or a manifest out of date)."""
    return (f"Aurum has no command `{escape(command)}`. Its commands: "
            + ", ".join(f"`{name}`" for name in SLASH_COMMANDS) + " (try `/kpi help`).")


class _UnusedEnvironmentToken(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment when it is given no token, and then warns that the client it
    is given wins ("`token` will be unused"). The app is given its client only (SLACK_API_URL, timeouts) and every
    request's token comes from `authorize`: that one warning says nothing to whoever runs the bot."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("slack_bolt")
    if not any(isinstance(f, _UnusedEnvironmentToken) for f in logger.filters):
        logger.addFilter(_UnusedEnvironmentToken())
    return logger


def web_client(settings: Settings, token: str | None = None, interactive: bool = True,
               anonymous: bool = False, timeout: int = 10, logger: logging.Logger | None = None) -> WebClient:
    """A client for Settings.slack_api_url. Interactive calls made after the ack (users.info for an admin check)
    retry in place; the outbox retries itself; a call inside Slack's 3-second window retries never."""
    handlers = (
        [ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler()]
        if interactive else []
    )
    secret = None if anonymous else token or (
        settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else CONSOLE_TOKEN)
    return WebClient(token=secret, base_url=settings.slack_api_url, timeout=timeout, retry_handlers=handlers,
                     logger=logger)


@dataclass
class HomeTeam:
    """Single-token mode: the one workspace the token belongs to (learnt from auth.test at start-up)."""

    team_id: str | None = None


def single_token_authorize(settings: Settings, home: HomeTeam | None = None):
    """Single-workspace mode: the configured bot token for every request, without an auth.test per process.
    A request from another workspace than the token's is refused (once the token's workspace is known)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else CONSOLE_TOKEN

    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult | None:
        if home is not None and home.team_id and team_id and team_id != home.team_id:
            log.warning("request from another workspace refused", extra={"team_id": team_id})
            return None
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=token)

    return authorize


def oauth_settings(settings: Settings, store: WorkspaceInstallationStore, engine: Engine) -> OAuthSettings:
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    return OAuthSettings(
        client_id=settings.slack_client_id, client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=settings.scopes, redirect_uri=settings.slack_redirect_uri, installation_store=store,
        installation_store_bot_only=True, state_store=state_store(engine),
        state_expiration_seconds=STATE_EXPIRY_SECONDS,
    )


def build_app(settings: Settings, ctx: Context, *, console: bool = False, tokens: TeamTokens | None = None,
              home: HomeTeam | None = None) -> App:
    """The Bolt app: OAuth mode (many workspaces) when `tokens` is given, else the single configured token.
    Registering the command modules also registers their works after the ack in `ctx.works`."""
    common: dict[str, Any] = dict(
        name="aurum",  # without a name Bolt walks the call stack with inspect.stack(), a quarter second at start-up
        # Per-request clients get the token from authorize, and this client's timeout and retry handlers: the
        # calls an ack function makes (views.open) must end within Slack's 3 seconds, so no retries, 2 s at most.
        client=web_client(settings, anonymous=True, interactive=False, timeout=ACK_CALL_TIMEOUT),
        signing_secret=CONSOLE_SECRET if console else settings.slack_signing_secret.get_secret_value()
        if settings.slack_signing_secret else CONSOLE_SECRET,
        token_verification_enabled=False,
        # Run the ack function in the request's own thread and answer as soon as it returns: no hop to a
        # listener pool and no 10 ms polling for the ack, so acks never queue behind slow work. The work after
        # the ack is queued by the ack function and done by queue workers (aurum.core.after_ack), not as Bolt
        # lazy listeners.
        process_before_response=True,
        request_verification_enabled=not console,
        ssl_check_enabled=False,
        url_verification_enabled=True,
        logger=_bolt_logger(),
    )
    if tokens is not None:
        # Bolt types `authorize` as always returning a result; its own Authorize classes return None as we do.
        app = App(oauth_settings=oauth_settings(settings, tokens.store, ctx.engine),
                  authorize=StoreAuthorize(tokens),  # type: ignore[arg-type]
                  installation_store=tokens.store, installation_store_bot_only=True,
                  user_facing_authorize_error_message=NOT_INSTALLED, **common)
    else:
        app = App(authorize=single_token_authorize(settings, home), **common)
    app.middleware(_lower_case_command)

    @app.middleware
    def in_workspace(context: Any, next: Any) -> Any:  # the ack functions read the workspace's own settings
        ctx.enter(context.team_id or "")  # the request's context is its own (a copy per thread hop)
        return next()

    for module in commands.MODULES:
        module.register(app, ctx)
    _answer_unknown_commands(app, ctx)
    register_lifecycle(app, ctx.engine, tokens.store if tokens is not None else None)

    @app.error
    def on_error(error: Exception, body: dict[str, Any], logger: logging.Logger) -> BoltResponse:
        logger.exception("unhandled error", exc_info=error)
        return BoltResponse(status=200, body="Sorry, something went wrong on our side. Please try again.")

    return app


def _lower_case_command(body: dict[str, Any], next_: Callable[[], BoltResponse]) -> BoltResponse:
    """`/KPI latency` is answered as `/kpi latency`: the commands are matched without regard to case."""
    command = body.get("command")
    if isinstance(command, str) and command != command.lower():
        body["command"] = command.lower()
    return next_()


def _answer_unknown_commands(app: App, ctx: Context) -> None:
    """Registered after every command: a slash command none of them took is answered with the bot's commands."""

    def ack_unknown(ack, body: dict[str, Any]) -> None:
        ack(text=outgoing(unknown_command(str(body.get("command", "")))), response_type="ephemeral")
        ctx.telemetry.count("command_outcomes", command="unknown", outcome="input_error")

    app.command(ANY_COMMAND)(ack_unknown)
