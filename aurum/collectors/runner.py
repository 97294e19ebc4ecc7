"""Run a source once: fetch (no database held open), then store its snapshots and its health in one transaction.

A failing source stores nothing: its KPIs keep their last good value, which the KPI card then shows as stale,
and `source_health` keeps the error in words for `/kpi sources`.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from aurum.collectors.base import Collected, CollectorError, Run
from aurum.collectors.config import HOURLY, SourcesConfig
from aurum.core import ingest
from aurum.core.context import Context
from aurum.core.crontab import crontab_trigger
from aurum.kpis.catalog import Catalog
from aurum.squads import teams as squads
from storage import sources as repo

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
SOURCES = ("prometheus", "github", "jira", "coverage", "sonarqube", "pagerduty", "openapi", "sql", "repository",
           "script")
DEFAULT_SCHEDULES = {"prometheus": "*/5 * * * *"}
LABELS = {"prometheus": "Prometheus", "github": "GitHub", "jira": "Jira", "coverage": "Coverage report",
          "sonarqube": "SonarQube", "pagerduty": "PagerDuty", "openapi": "OpenAPI spec", "sql": "SQL queries",
          "repository": "Repository counts", "script": "Scripts"}


def job_name(source: str) -> str:
    return f"collect_{source}"


def configured(sources: SourcesConfig) -> list[str]:
    return [name for name in SOURCES if sources.configured(name)]


def own_schedule(sources: SourcesConfig, source: str) -> str:
    """The source's `schedule` (for a list: the first item that sets one), else the default."""
    config = getattr(sources, source)
    items = config if isinstance(config, list) else [config]
    own = next((item.schedule for item in items if item is not None and item.schedule), None)
    return own or DEFAULT_SCHEDULES.get(source, HOURLY)


def schedule(ctx: Context, source: str) -> str:
    """The crontab line in force: `schedules.collect_<source>`, else the source's own."""
    return ctx.config.schedules.get(job_name(source)) or own_schedule(ctx.config.sources, source)


def next_run(ctx: Context, source: str, now: datetime | None = None) -> datetime | None:
    trigger = crontab_trigger(schedule(ctx, source), ctx.tz)
    return trigger.get_next_fire_time(None, now or ctx.now())


def _kpis_of(sources: SourcesConfig) -> Iterator[tuple[str, str]]:
    if sources.prometheus:
        yield from ((f"sources.prometheus.queries.{k}", k) for k in sources.prometheus.queries)
    for name in ("coverage", "openapi"):
        if getattr(sources, name):
            yield f"sources.{name}.kpi", getattr(sources, name).kpi
    if sources.sonarqube:
        yield from ((f"sources.sonarqube.metrics.{m}", k) for m, k in sources.sonarqube.metrics.items())
    for name in ("sql", "script"):
        yield from ((f"sources.{name}.{i}.kpi", item.kpi) for i, item in enumerate(getattr(sources, name)))
    if sources.repository:
        yield from ((f"sources.repository.counts.{i}.kpi", c.kpi) for i, c in enumerate(sources.repository.counts))


def unknown_kpis(sources: SourcesConfig, catalog: Catalog) -> list[str]:
    """Config fields that name a KPI the catalogue does not know, each with a suggestion."""
    problems = []
    for where, key in _kpis_of(sources):
        if key not in catalog.kpis:
            guess = catalog.suggest(key)
            hint = f"; did you mean {' or '.join(guess)}?" if guess else ""
            problems.append(f"{where}: unknown KPI {key!r}{hint}")
    return problems


def fetch(ctx: Context, source: str, client: httpx.Client | None = None,
          http_options: dict[str, Any] | None = None) -> Collected:
    """Ask the source; raises CollectorError (never anything else) when it cannot be read."""
    config = getattr(ctx.config.sources, source, None)
    if not config:
        raise CollectorError(source, "not configured (add it under sources: in the config file)")
    run = Run(source=source, config=config, now=ctx.now(), tz=ctx.tz, secrets=ctx.secrets, client=client,
              http_options=http_options or {})
    try:
        return screen(ctx.catalog, source, importlib.import_module(f"aurum.collectors.{source}").collect(run))
    except CollectorError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        log.warning("unexpected answer", extra={"source": source, "error": repr(exc)[:200]})
        raise CollectorError(source, f"unexpected answer ({type(exc).__name__}: {str(exc)[:120]})") from None
    finally:
        if client is None and run.client is not None:
            run.client.close()


def screen(catalog: Catalog, source: str, collected: Collected) -> Collected:
    """A value its KPI cannot hold (check_value) is the source's error, never a snapshot: that KPI keeps its last
    good value and `/kpi sources` shows the error; when nothing else came, the whole source failed."""
    kept = []
    for point in collected.points:
        problem = catalog.refusal(point.kpi, point.value)
        if problem is None:
            kept.append(point)
        else:
            collected.errors.append(f"impossible value: {problem}")
    collected.points = kept
    return collected.finish(source)


def save(ctx: Context, session: Session, team_id: str, source: str, collected: Collected) -> int:
    """Store what a source collected, for the team its config names (else the default team); a Jira sprint for the
    team whose `sprint_board` it is on (else the source's team)."""
    named = getattr(getattr(ctx.config.sources, source, None), "team", None)
    squad = squads.by_key(ctx.config, named) if named else squads.default_squad(ctx.config)
    stored = ingest.store(squads.scope(ctx, squad), session, team_id, collected.points)
    for sprint in collected.sprints:
        record = dataclasses.asdict(sprint)
        repo.upsert_sprint(session, team_id, record, squads.of_board(ctx.config, record["board"], squad).stored)
    repo.succeeded(session, team_id, source, ctx.now(), stored, "; ".join(collected.errors) or None,
                   next_run(ctx, source))
    return stored


def record_failure(ctx: Context, session: Session, team_id: str, error: CollectorError) -> None:
    log.warning("source failed", extra={"source": error.source, "team_id": team_id, "problem": error.problem})
    repo.failed(session, team_id, error.source, ctx.now(), error.problem, next_run(ctx, error.source))


def outcome(collected: Collected | CollectorError, stored: int | None = None) -> str:
    if isinstance(collected, CollectorError):
        return f"failed: {collected.problem}"
    parts = [f"stored {stored if stored is not None else len(collected.points)} values"]
    if collected.notes:
        parts.append(f"no data for {len(collected.notes)}")
    if collected.errors:
        parts.append("errors: " + "; ".join(collected.errors))
    return ", ".join(parts)
