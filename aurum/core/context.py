"""What domain code needs at run time, built once by the composition root and passed down."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from sqlmodel import Session

from aurum.core.after_ack import Intake, Works
from aurum.core.settings import CURRENT_TEAM, LiveSettings
from aurum.core.telemetry import Telemetry
from storage.db import read_scope, session_scope
from storage.types import DEFAULT_SQUAD, utcnow

if TYPE_CHECKING:  # types only: the config gathers every capability's section, and each capability takes a Context
    from sqlalchemy.engine import Engine

    from aurum.config import AurumConfig
    from aurum.core.delivery import Directory
    from aurum.core.jobs import Job
    from aurum.kpis.catalog import Catalog


@dataclass
class Context:
    engine: Engine
    # The config file's config and catalogue; a workspace with settings of its own (`live`) uses those while this
    # process serves it (`serving`). Read both through `config` and `catalog`.
    seed_catalog: Catalog
    seed_config: AurumConfig
    tz: ZoneInfo
    admins: frozenset[str] = frozenset()
    chart_dir: Path = Path("charts")
    clock: Callable[[], datetime] = utcnow
    outbox_wake: threading.Event = field(default_factory=threading.Event)
    # Called as listener(ctx, session, team_id, points) after snapshots are stored (see aurum.core.ingest).
    snapshot_listeners: list[Callable[..., None]] = field(default_factory=list)
    # Collector credentials from the settings (GITHUB_TOKEN, …), by setting name.
    secrets: Mapping[str, SecretStr | None] = field(default_factory=dict)
    # Who is in a channel or user group (set by the composition root; None where nobody can be asked).
    directory: Directory | None = None
    # Server-side key material for the survey answer sets (aurum.surveys.answers); never stored in the database.
    survey_secret: bytes = b"aurum-console-survey-secret"
    telemetry: Telemetry = field(default_factory=Telemetry)
    # (team_id, user_id) → admin? Set by bot/ to also ask Slack (admin user group, workspace admins).
    admin_check: Callable[[str, str], bool] | None = None
    # The requests' works after the ack by name (aurum.core.after_ack), registered with the Bolt app.
    works: Works = field(default_factory=Works)
    # Where a web process's ack functions store their requests' work together (aurum.core.after_ack.Intake); None:
    # each in a transaction of its own (the console, tests of the domain).
    intake: Intake | None = None
    # Every scheduled job by name (composed in bot/jobs.py from each capability's own list).
    jobs: Mapping[str, Job] = field(default_factory=dict)
    # The team inside the workspace that this context's work is about: the squad key of the rows it reads and
    # writes (aurum.squads.teams.scope gives a team's context, with the team's KPI catalogue in `squad_catalog`).
    squad: str = DEFAULT_SQUAD
    squad_catalog: Catalog | None = None
    # Every job of the bot, which a workspace may schedule (`jobs` holds those this process runs: none in a web
    # process beside its work process).
    timetable: Mapping[str, Job] = field(default_factory=dict)
    # The workspaces' settings edited in Slack (None: the config file's, always).
    live: LiveSettings | None = None

    @property
    def config(self) -> AurumConfig:
        return self._current()[0]

    @config.setter
    def config(self, value: AurumConfig) -> None:
        self.seed_config = value

    @property
    def catalog(self) -> Catalog:
        return self.squad_catalog if self.squad_catalog is not None else self._current()[1]

    @catalog.setter
    def catalog(self, value: Catalog) -> None:
        self.seed_catalog = value

    def _current(self) -> tuple[AurumConfig, Catalog]:
        team = CURRENT_TEAM.get()
        found = self.live.cached(team) if self.live is not None and team else None
        return found or (self.seed_config, self.seed_catalog)

    @contextmanager
    def serving(self, team_id: str) -> Iterator[None]:
        """Do a workspace's work with its own settings, as stored now (aurum.core.settings)."""
        token = self.enter(team_id)
        try:
            yield
        finally:
            CURRENT_TEAM.reset(token)

    def enter(self, team_id: str) -> contextvars.Token[str | None]:
        """From here on in this thread's context, the workspace's own settings, as stored now."""
        if self.live is not None and team_id:
            self.live.refresh(team_id)
        return CURRENT_TEAM.set(team_id or None)

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def transaction(self, urgent: bool = False) -> Iterator[Session]:
        """A unit of work; wakes this process's queue workers once it has committed (it may have queued a task).
        `urgent`: an ack waits for it (storage.db.session_scope)."""
        with session_scope(self.engine, urgent=urgent) as session:
            yield session
        self.outbox_wake.set()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with read_scope(self.engine) as session:
            yield session

    def is_admin(self, user_id: str, team_id: str | None = None) -> bool:
        """A configured admin (AURUM_ADMINS), or, given the team, whoever bot/'s check accepts."""
        if user_id in self.admins:
            return True
        return bool(team_id and self.admin_check is not None and self.admin_check(team_id, user_id))
