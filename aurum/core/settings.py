"""Each workspace's settings as the processes see them: the config file is the seed; a workspace whose admins changed
a setting in Slack (or imported a file) has its own settings document in the database, with a version number.

Every process (web, work, clock, console) keeps the checked config and KPI catalogue of each workspace it served,
with the version they came from. Entering a workspace's work (`Context.serving`: a request, its work after the ack, a
job's run for the workspace) reads that version, one indexed row, and rebuilds the config only when it changed:
a change made in one process takes effect in the others at their next piece of work, with no restart.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from storage import settings as store
from storage.db import read_scope, session_scope

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from aurum.config import AurumConfig
    from aurum.kpis.catalog import Catalog

log = logging.getLogger(__name__)
# The workspace whose work this thread (or task) does: set by Context.serving.
CURRENT_TEAM: contextvars.ContextVar[str | None] = contextvars.ContextVar("aurum_current_team", default=None)
Checked = tuple["AurumConfig", "Catalog"]
# (document, origin) → the config and catalogue, checked exactly as the config file is; raises ConfigError.
Check = Callable[[dict[str, Any], str], Checked]


class LiveSettings:
    """The workspaces' settings documents, checked, cached by version."""

    def __init__(self, engine: Engine, seed: dict[str, Any], check: Check):
        self.engine = engine
        self.seed = seed  # the config file's own data ({} without one)
        self.check = check
        self._teams: dict[str, tuple[int, AurumConfig, Catalog]] = {}
        self._lock = threading.Lock()

    def cached(self, team_id: str) -> Checked | None:
        found = self._teams.get(team_id)
        return None if found is None else (found[1], found[2])

    def refresh(self, team_id: str) -> None:
        """Rebuild the workspace's config if its stored version is not the one this process holds."""
        with read_scope(self.engine) as session:
            version = store.version(session, team_id)
            held = self._teams.get(team_id)
            if version is None or (held is not None and held[0] == version):
                if version is None:
                    self._teams.pop(team_id, None)
                return
            stored = store.document(session, team_id)
        if stored is None:
            return
        try:
            config, catalog = self.check(stored[1], f"settings of workspace {team_id}")
        except Exception:  # stored by an older version of the bot and refused by this one: keep what this holds
            log.exception("stored settings refused", extra={"team_id": team_id, "version": stored[0]})
            return
        with self._lock:
            self._teams[team_id] = (stored[0], config, catalog)

    def document(self, team_id: str) -> dict[str, Any]:
        """The workspace's settings document: its own, else the config file's."""
        with read_scope(self.engine) as session:
            stored = store.document(session, team_id)
        return dict(self.seed) if stored is None else stored[1]

    def replace(self, team_id: str, data: dict[str, Any], user_id: str, at: datetime, origin: str) -> list[str]:
        """Check `data` as the config file is (ConfigError, nothing stored, when it does not pass), store it and log
        each changed setting; returns the changed paths."""
        self.check(data, origin)
        before = self.document(team_id)
        changes = [(path, old, new) for path, (old, new) in sorted(differences(before, data).items())]
        if changes:
            with session_scope(self.engine) as session:
                store.save(session, team_id, data, user_id, at, changes)
            self.refresh(team_id)
        return [path for path, _, _ in changes]


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and (data or not prefix):
        found: dict[str, Any] = {}
        for key, value in data.items():
            found.update(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
        return found
    return {prefix: data}


def differences(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Each setting (a dotted path to a value) that differs: path → (before, after); None where not set."""
    old, new = _leaves(before), _leaves(after)
    return {path: (old.get(path), new.get(path)) for path in old.keys() | new.keys()
            if old.get(path) != new.get(path)}
