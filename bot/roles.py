"""Who is an admin: a user in AURUM_ADMINS, a member of the AURUM_ADMIN_GROUP user group, or (unless
AURUM_WORKSPACE_ADMINS=false) a Slack workspace admin or owner. Slack's answers are cached for a minute."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from aurum.core.delivery import DeliveryError

log = logging.getLogger(__name__)
CACHE_SECONDS = 60.0


class AdminCheck:
    def __init__(self, client_for: Callable[[str], WebClient], *, group: str = "", workspace_admins: bool = True,
                 ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.client_for = client_for
        self.group = group.strip()
        self.workspace_admins = workspace_admins
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, object]] = {}
        self._lock = threading.Lock()

    def __call__(self, team_id: str, user_id: str) -> bool:
        if self.group and user_id in self._cached(("group", team_id), lambda: self._group_members(team_id)):
            return True
        if self.workspace_admins:
            return bool(self._cached((team_id, user_id), lambda: self._is_workspace_admin(team_id, user_id)))
        return False

    def _cached(self, key: tuple[str, str], fetch: Callable[[], object]):
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit and hit[0] > now:
            return hit[1]
        value = fetch()
        with self._lock:
            self._cache[key] = (now + self.ttl, value)
        return value

    def _group_members(self, team_id: str) -> frozenset[str]:
        try:
            resp = self.client_for(team_id).usergroups_users_list(usergroup=self.group, team_id=team_id)
        except (SlackApiError, SlackClientError, DeliveryError, OSError) as exc:
            log.warning("could not read the admin user group", extra={"team_id": team_id,
                                                                      "error": type(exc).__name__})
            return frozenset()
        return frozenset(resp.get("users") or [])

    def _is_workspace_admin(self, team_id: str, user_id: str) -> bool:
        try:
            user = self.client_for(team_id).users_info(user=user_id).get("user") or {}
        except (SlackApiError, SlackClientError, DeliveryError, OSError) as exc:
            log.warning("could not look up the user", extra={"team_id": team_id, "error": type(exc).__name__})
            return False
        if user.get("team_id") and user.get("team_id") != team_id:
            return False  # an admin of another workspace (a shared channel) is no admin here
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
