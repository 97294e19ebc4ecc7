"""Many workspaces: slack_sdk's SQLAlchemy stores on the bot's own engine, a bot token per team for the outbox,
and the app_uninstalled / tokens_revoked events that retire a workspace's tokens.

The stores' tables are created by the Alembic migrations (storage/installations.py), never by create_tables().
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Engine

from aurum.core.delivery import DeliveryError
from storage import installations as tables
from storage.adopt import adopt, only_real_workspace
from storage.db import session_scope
from storage.workspaces import CONSOLE_TEAM, ensure, mark_uninstalled

log = logging.getLogger(__name__)
STATE_EXPIRY_SECONDS = 600
TOKEN_CACHE_SECONDS = 300


def log_adopted(team_id: str, adopted: dict[str, tuple[int, int]]) -> None:
    """Say what a workspace adopted from the console's (storage.adopt), table by table."""
    if adopted:
        log.info("workspace adopted the data stored before Slack was connected", extra={
            "team_id": team_id, "from_team_id": CONSOLE_TEAM,
            "moved": {table: moved for table, (moved, _) in adopted.items() if moved},
            "kept_theirs": {table: dropped for table, (_, dropped) in adopted.items() if dropped}})


class WorkspaceInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's store; an install also registers the workspace, and removing its bot retires it."""

    def __init__(self, client_id: str, engine: Engine, on_removed: Callable[[str], None] | None = None):
        super().__init__(client_id=client_id, engine=engine, bots_table_name=tables.BOTS,
                         installations_table_name=tables.INSTALLATIONS, logger=log)
        self.on_removed = on_removed

    def save(self, installation: Installation) -> None:
        super().save(installation)
        if installation.team_id:
            team_id = installation.team_id
            with session_scope(self.engine) as session:
                ensure(session, team_id, installation.team_name or "")
                # The first workspace installed adopts what was stored before Slack was connected (the console's).
                adopted = adopt(session, CONSOLE_TEAM, team_id) if only_real_workspace(session, team_id) else {}
            log_adopted(team_id, adopted)
            self._removed(installation.team_id)  # drop a cached token of an earlier install
            log.info("workspace installed", extra={"team_id": installation.team_id})

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        super().delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        if team_id:
            with session_scope(self.engine) as session:
                mark_uninstalled(session, team_id)
            self._removed(team_id)
            log.info("workspace bot token removed", extra={"team_id": team_id})

    def _removed(self, team_id: str) -> None:
        if self.on_removed is not None:
            self.on_removed(team_id)


def state_store(engine: Engine) -> SQLAlchemyOAuthStateStore:
    return SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRY_SECONDS, engine=engine,
                                     table_name=tables.OAUTH_STATES, logger=log)


class TeamTokens:
    """Each workspace's bot from the installation store, cached for a few minutes (forgotten on uninstall).

    Serves both Bolt's authorization of incoming requests (no auth.test, no database read per request once
    cached) and the outbox's client per workspace.
    """

    def __init__(self, store: WorkspaceInstallationStore, make_client: Callable[[str], WebClient],
                 ttl: float = TOKEN_CACHE_SECONDS):
        self.store = store
        self.make_client = make_client
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Bot | None, WebClient | None]] = {}
        self._lock = threading.Lock()
        store.on_removed = self.forget

    def _entry(self, team_id: str) -> tuple[Bot | None, WebClient | None]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(team_id)
        if cached and cached[0] > now:
            return cached[1], cached[2]
        bot = self.store.find_bot(enterprise_id=None, team_id=team_id)
        client = self.make_client(bot.bot_token) if bot is not None and bot.bot_token else None
        # A miss is cached briefly too, so that a flood from an unknown workspace costs no query per request.
        with self._lock:
            self._cache[team_id] = (now + (self.ttl if bot else min(self.ttl, 10.0)), bot, client)
        return bot, client

    def bot(self, team_id: str) -> Bot | None:
        return self._entry(team_id)[0]

    def client_for(self, team_id: str) -> WebClient:
        client = self._entry(team_id)[1]
        if client is None:
            raise DeliveryError(f"Aurum is not installed in workspace {team_id} (or was uninstalled)",
                                permanent=True)
        return client

    def forget(self, team_id: str) -> None:
        with self._lock:
            self._cache.pop(team_id, None)


class StoreAuthorize(Authorize):
    """Bolt authorization in OAuth mode: the workspace's stored bot, without an auth.test per request."""

    def __init__(self, tokens: TeamTokens):
        self.tokens = tokens

    def __call__(self, *, context: BoltContext, enterprise_id: str | None, team_id: str | None,
                 user_id: str | None, **_actor: Any) -> AuthorizeResult | None:
        bot = self.tokens.bot(team_id) if team_id else None
        if bot is None:
            log.info("request from a workspace without an installation", extra={"team_id": team_id})
            return None
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                               bot_token=bot.bot_token, bot_id=bot.bot_id, bot_user_id=bot.bot_user_id,
                               bot_scopes=bot.bot_scopes)


def register_lifecycle(app: App, engine: Engine, store: WorkspaceInstallationStore | None) -> None:
    """app_uninstalled removes all of a workspace's tokens; tokens_revoked the revoked ones. Jobs then skip it."""

    @app.event("app_uninstalled")
    def uninstalled(body: dict[str, Any]) -> None:
        team_id = body.get("team_id", "")
        if store is not None:
            store.delete_all(enterprise_id=None, team_id=team_id)  # deletes the bot too, which retires it
        with session_scope(engine) as session:
            mark_uninstalled(session, team_id)
        log.info("app uninstalled", extra={"team_id": team_id})

    @app.event("tokens_revoked")
    def revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        team_id = body.get("team_id", "")
        tokens = event.get("tokens") or {}
        if store is not None:
            for user_id in tokens.get("oauth") or []:
                store.delete_installation(enterprise_id=None, team_id=team_id, user_id=user_id)
        if tokens.get("bot"):
            if store is not None:
                store.delete_bot(enterprise_id=None, team_id=team_id)
            with session_scope(engine) as session:
                mark_uninstalled(session, team_id)
        log.info("tokens revoked", extra={"team_id": team_id, "bot": bool(tokens.get("bot")),
                                          "users": len(tokens.get("oauth") or [])})
