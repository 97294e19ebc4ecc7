"""What a collector is handed (a Run) and what it gives back (Collected): snapshots, never a bogus value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from aurum.collectors.errors import CollectorError
from storage.rollups import SnapshotBase

if TYPE_CHECKING:
    import httpx

    from aurum.collectors.http import Http


@dataclass(frozen=True)
class SprintRecord:
    board: str
    sprint_id: str
    name: str
    state: str
    start_at: datetime | None
    end_at: datetime | None
    complete_at: datetime | None
    committed: float | None
    completed: float | None


@dataclass
class Collected:
    """Snapshots to store (finite numbers only), Jira sprints, notes on KPIs without data, and partial failures."""

    points: list[SnapshotBase] = field(default_factory=list)
    sprints: list[SprintRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # parts that failed while others worked

    def finish(self, source: str) -> Collected:
        """Itself; or, when every part failed, one CollectorError with all the reasons."""
        if self.errors and not self.points and not self.notes:
            raise CollectorError(source, "; ".join(self.errors))
        return self

    def add(self, kpi: str, value: float | None, at: datetime, source: str, why_none: str = "no data") -> None:
        if value is None:
            self.notes.append(f"{kpi}: {why_none}")
        else:
            self.points.append(SnapshotBase(kpi=kpi, value=value, at=at, source=source))


@dataclass
class Run:
    """One collection: the source's name and config, the time it counts as, secrets, and an HTTP client."""

    source: str
    config: Any
    now: datetime
    tz: ZoneInfo
    secrets: Mapping[str, SecretStr | None] = field(default_factory=dict)
    client: httpx.Client | None = None
    http_options: dict[str, Any] = field(default_factory=dict)  # tests shorten backoff, replace sleep

    def secret(self, name: str) -> str | None:
        value = self.secrets.get(name)
        return value.get_secret_value() if value is not None else None

    def http(self, base_url: str, headers: dict[str, str] | None = None, auth: Any = None) -> Http:
        from aurum.collectors.http import Http, make_client  # httpx: loaded by the processes that collect

        if self.client is None:
            self.client = make_client(self.config.timeout_seconds)
        return Http(self.source, self.client, base_url=str(base_url), headers=headers or {}, auth=auth,
                    **self.http_options)

    def collected(self) -> Collected:
        return Collected()

    def each(self, items: Any, measure: Any, why_none: str) -> Collected:
        """One value per configured item ({kpi, …}); an item that fails is reported, the others still count."""
        out = Collected()
        for item in items:
            try:
                value = measure(item)
            except CollectorError as exc:
                out.errors.append(f"{item.kpi}: {exc.problem}")
                continue
            out.add(item.kpi, value, self.now, self.source, why_none)
        return out.finish(self.source)
