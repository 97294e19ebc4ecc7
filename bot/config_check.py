"""The one check of a team's settings, whether they come from the config file, an imported file or a change made
in Slack: the file's own validation (aurum.config.parse_config), the KPI overrides, and the names that must agree
with the bot's KPIs, jobs, channels and alert rules."""

from __future__ import annotations

from typing import Any

from aurum.alerts.rules import check_rules
from aurum.collectors.runner import unknown_kpis
from aurum.config import AurumConfig, ConfigError, mistyped_channels, parse_config
from aurum.core.jobs import unknown_schedules
from aurum.kpis.catalog import Catalog, CatalogError, load_catalog
from bot.jobs import compose_jobs


def checked_config(data: Any, origin: str, rules_origin: str | None = None) -> tuple[AurumConfig, Catalog]:
    """The config and KPI catalogue of `data` (the config file's shape); ConfigError naming `origin` and each field
    when they cannot be used. `rules_origin`: how alert-rule problems name where the rules come from."""
    config = parse_config(data, origin)
    try:
        catalog = load_catalog(config.kpis, origin=origin) if config.kpis else load_catalog()
    except CatalogError as exc:
        raise ConfigError(str(exc)) from None
    problems = [*unknown_kpis(config.sources, catalog), *unknown_schedules(config.schedules, compose_jobs(config)),
                *mistyped_channels(config)]
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  {origin}: {p}" for p in problems))
    problems = check_rules(config.alerts, set(catalog.kpis), set(config.channels.model_dump()))
    if problems:
        where = rules_origin or origin
        raise ConfigError("invalid alert rules:\n" + "\n".join(f"  {where}: {p}" for p in problems))
    return config, catalog
