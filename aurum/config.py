"""The team's own configuration file (AURUM_CONFIG): channels, KPI overrides, schedules, surveys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from aurum.alerts.rules import AlertsConfig
from aurum.collectors.config import SourcesConfig
from aurum.core.crontab import crontab_trigger
from aurum.core.suggest import close_matches, message, unknown
from aurum.kpis.catalog import CatalogError, load_catalog
from aurum.reports.config import ReportsConfig
from aurum.squads.config import TeamConfig, check_teams
from aurum.surveys.model import SurveyConfig


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and each field."""


class Channels(BaseModel):
    model_config = ConfigDict(extra="allow")
    roadmap_updates: str = "#roadmap-updates"
    scrum_masters: str = "#scrum-masters"
    critical_alerts: str = "#critical-alerts"
    performance_alerts: str = "#performance-alerts"
    quality_alerts: str = "#quality-alerts"
    tech_debt: str = "#tech-debt"
    deployments: str = "#deployments"
    team: str = "#engineering"


def _check_schedules(value: dict[str, str]) -> dict[str, str]:
    for name, line in value.items():
        try:
            crontab_trigger(line, "UTC")
        except ValueError as exc:
            raise ValueError(f"schedule of {name}: {exc}") from None
    return value


class OpsConfig(BaseModel):
    """The bot's own operations."""

    model_config = ConfigDict(extra="forbid")
    heartbeat_channel: str | None = None  # e.g. "#aurum-ops": the hourly heartbeat job posts there
    # Where the bot tells its admins what they must fix (a channel it cannot post in); default: a DM to each
    # user in AURUM_ADMINS.
    admin_channel: str | None = None


class AurumConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: Channels = Field(default_factory=Channels)
    kpis: dict[str, dict[str, Any]] = {}
    schedules: Annotated[dict[str, str], AfterValidator(_check_schedules)] = {}
    current_phase: int = Field(default=1, ge=1, le=4)
    scheduler_grace_minutes: int = Field(default=60, ge=1, le=24 * 60)
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    surveys: SurveyConfig = Field(default_factory=SurveyConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    # Teams inside the workspace, by key (`/kpi latency team:payments`); none: one implicit default team.
    teams: Annotated[dict[str, TeamConfig], AfterValidator(check_teams)] = {}

    @model_validator(mode="after")
    def _survey_channels_exist(self) -> AurumConfig:
        named = self.channels.model_dump()
        for key, survey in self.surveys.definitions.items():
            targets = [*survey.results_to, *([survey.audience.channel] if survey.audience.channel else [])]
            for target in targets:
                if target not in named and not target.startswith(("#", "C", "G")):
                    raise ValueError(f"surveys.{key}: unknown channel {target!r}; use a #name or a key of "
                                     f"channels: ({', '.join(named)})")
        return self

    @model_validator(mode="after")
    def _source_teams_exist(self) -> AurumConfig:
        for name in SourcesConfig.model_fields:
            team = getattr(getattr(self.sources, name), "team", None)
            if team is not None and team not in self.teams:
                raise ValueError(f"sources.{name}.team: {unknown('team', team, self.teams, listing='Teams')} "
                                 "(set under teams:)")
        return self

    @model_validator(mode="after")
    def _team_kpis_valid(self) -> AurumConfig:
        for key, team in self.teams.items():
            if team.kpis:
                try:
                    load_catalog(self.kpis, team_overrides=team.kpis)
                except CatalogError as exc:
                    raise ValueError(f"teams.{key}.kpis: {exc}") from None
        return self
    ops: OpsConfig = Field(default_factory=OpsConfig)

    def posting_channels(self) -> dict[str, list[str]]:
        """Every channel the bot posts in (`#name` or id), with the config keys that name it: a key of `channels:`
        where the value comes from there (also as a default), else the field itself."""
        named = self.channels.model_dump()
        reports = self.reports
        uses: list[tuple[str, str | None]] = [
            ("reports.weekly_channel", reports.weekly_channel or "roadmap_updates"),
            ("reports.exec_channel", reports.exec_channel or "roadmap_updates"),
            ("reports.quarterly_channel", reports.quarterly_channel or "roadmap_updates"),
            ("reports.retro_channel", reports.retro_channel or "scrum_masters"),
            ("reports.celebrations_channel", reports.celebrations_channel or "team"),
            ("reports.recognition_channel", reports.recognition_channel or "team"),
            *((f"reports.{r}.channel", getattr(reports, r).channel)
              for r in ("weekly_review", "monthly_review", "quarterly_review")),
            *((f"alerts.rules.{rule.name}.channels", c) for rule in self.alerts.enabled() for c in rule.channels),
            ("alerts.alertmanager_channel", self.alerts.alertmanager_channel),
            *((f"surveys.{key}.results_to", c) for key, survey in self.surveys.definitions.items()
              for c in survey.results_to),
            *((f"surveys.{key}.audience.channel", survey.audience.channel)
              for key, survey in self.surveys.definitions.items()),
            ("ops.heartbeat_channel", self.ops.heartbeat_channel),
            ("ops.admin_channel", self.ops.admin_channel),
        ]
        found: dict[str, list[str]] = {}
        for where, channel in uses:
            if channel is None:
                continue
            if channel in named:
                where, channel = f"channels.{channel}", named[channel]
            if channel.startswith(("#", "C", "G")) and where not in found.setdefault(channel, []):
                found[channel].append(where)
        return found


def mistyped_channels(config: AurumConfig) -> list[str]:
    """Keys of `channels:` of the team's own (which alert rules, surveys and reports may name) that nothing names and
    that are close to a built-in key: typos, which would leave the built-in channel at its default."""
    used = {where.removeprefix("channels.") for wheres in config.posting_channels().values() for where in wheres}
    builtin = list(Channels.model_fields)
    return [f"channels.{key}: {unknown('key', key, builtin, listing='Valid keys')} (a channel key of your own "
            "counts only where an alert rule, a survey or a report names it)"
            for key in sorted(set(config.channels.model_extra or {}) - used) if close_matches(key, builtin)]


def _problems(exc: ValidationError, origin: str) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        lines.append(f"  {origin}: {where}: {message(error, AurumConfig)}")
    return "\n".join(lines)


def parse_config(data: Any, origin: str = "config") -> AurumConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the file must hold a mapping (key: value lines), got {type(data).__name__}")
    try:
        return AurumConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration:\n{_problems(exc, origin)}") from None


def load_config(path: Path | None) -> AurumConfig:
    if path is None:
        return AurumConfig()
    return parse_config(load_config_data(path), str(path))


def load_config_data(path: Path | None) -> Any:
    """The file's data as YAML reads it (None without a file); ConfigError when it cannot be read."""
    if path is None:
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return data
