"""The `sources:` section of the config file: where each collector reads its numbers, and how often.

Secrets never live here: GITHUB_TOKEN, JIRA_TOKEN, SONAR_TOKEN and PAGERDUTY_TOKEN come from the environment
(bot/settings.py). Every model forbids unknown keys, so a typo is reported with the field's path.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from aurum.core.crontab import crontab_trigger

HOURLY = "0 * * * *"
P95 = "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) * 1000"
DEFAULT_QUERIES: dict[str, str] = {
    "api_response_time_p95": P95,
    "api_response_time_p99": P95.replace("0.95", "0.99", 1),
    "api_error_rate_percentage": 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'
                                 " * 100",
    "service_availability_percentage": "avg_over_time(up[30d]) * 100",
    "requests_per_second": "sum(rate(http_requests_total[5m]))",
    "cpu_usage_percentage": '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[5m])))',
    "memory_usage_percentage": "100 * (1 - sum(node_memory_MemAvailable_bytes) / sum(node_memory_MemTotal_bytes))",
    "disk_usage_percentage": '100 * (1 - sum(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"})'
                             ' / sum(node_filesystem_size_bytes{fstype!~"tmpfs|overlay"}))',
    "network_io_mb_per_second": "sum(rate(node_network_receive_bytes_total[5m]) + "
                                "rate(node_network_transmit_bytes_total[5m])) / 1e6",
}


def exactly_one(model: BaseModel, first: str, second: str) -> None:
    if (getattr(model, first) is None) == (getattr(model, second) is None):
        raise ValueError(f"give exactly one of {first} or {second}")


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schedule: str | None = Field(default=None, description="crontab line in AURUM_TIMEZONE")
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    team: str | None = Field(default=None, description="the team (a key of `teams:`) its values are for; default: "
                                                       "the workspace's default team")

    @field_validator("schedule")
    @classmethod
    def _crontab(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                crontab_trigger(value, "UTC")
            except ValueError as exc:
                raise ValueError(f"schedule {value!r} is not a crontab line like '*/5 * * * *' ({exc})") from None
        return value


class PrometheusSource(Source):
    url: HttpUrl
    queries: dict[str, str] = Field(default_factory=dict, description="KPI key → PromQL (replaces the default)")
    defaults: bool = Field(default=True, description="also run the built-in queries for KPIs not listed")

    def all_queries(self) -> dict[str, str]:
        return {**(DEFAULT_QUERIES if self.defaults else {}), **self.queries}


class GithubSource(Source):
    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name")
    api_url: HttpUrl = HttpUrl("https://api.github.com")
    environment: str = "production"
    window_days: int = Field(default=30, ge=1, le=365)
    workflow: str | None = Field(default=None, description="workflow file or id; default: all workflows")
    features_from: Literal["releases", "label"] = "releases"
    feature_label: str = "feature"
    restore_from_deployments: bool = Field(
        default=False, description="also compute time to restore from failed → next successful deployment")
    new_developers: dict[str, str] = Field(default_factory=dict, description="login → start date (YYYY-MM-DD)")
    max_pages: int = Field(default=10, ge=1, le=100)


class JiraSource(Source):
    url: HttpUrl
    board_id: int = Field(ge=1)
    email: str | None = Field(default=None, description="Jira Cloud account e-mail (basic auth with JIRA_TOKEN)")
    story_points_field: str | None = Field(default=None, description="default: the board's estimation field")
    sprints: int = Field(default=10, ge=1, le=100, description="how many recent closed sprints to read")


class CoverageSource(Source):
    path: Path | None = None
    url: HttpUrl | None = None
    kpi: str = "test_coverage_percentage"

    @model_validator(mode="after")
    def _one_place(self) -> CoverageSource:
        exactly_one(self, "path", "url")
        return self


class SonarqubeSource(Source):
    url: HttpUrl
    project: str = Field(min_length=1, description="the component key")
    metrics: dict[str, str] = Field(
        default_factory=lambda: {"sqale_debt_ratio": "technical_debt_percentage",
                                 "coverage": "test_coverage_percentage"},
        description="SonarQube metric key → KPI key")


class PagerdutySource(Source):
    api_url: HttpUrl = HttpUrl("https://api.pagerduty.com")
    window_days: int = Field(default=30, ge=1, le=180)
    service_ids: list[str] = Field(default_factory=list)


class OpenapiSource(Source):
    path: Path | None = None
    url: HttpUrl | None = None
    kpi: str = "api_documentation_coverage_percentage"

    _one_place = CoverageSource._one_place


class SqlQuery(Source):
    kpi: str
    url: str = Field(description="SQLAlchemy URL with read-only credentials")
    query: str
    column: str | None = Field(default=None, description="which column holds the number (default: the only one)")

    @field_validator("query")
    @classmethod
    def _one_select(cls, value: str) -> str:
        if not re.match(r"^\s*(select|with)\b", value, re.IGNORECASE) or ";" in value.strip().rstrip(";"):
            raise ValueError("must be one SELECT (or WITH … SELECT) statement")
        return value


class RepositoryCount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kpi: str
    lines: str | None = Field(default=None, description="a file whose lines are counted")
    files: str | None = Field(default=None, description="a glob whose matching files are counted")

    @model_validator(mode="after")
    def _one_kind(self) -> RepositoryCount:
        exactly_one(self, "lines", "files")
        return self


class RepositorySource(Source):
    path: Path | None = Field(default=None, description="a local Git checkout")
    github: str | None = Field(default=None, pattern=r"^[\w.-]+/[\w.-]+$", description="or owner/name on GitHub")
    ref: str | None = None
    api_url: HttpUrl = HttpUrl("https://api.github.com")
    counts: list[RepositoryCount] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_place(self) -> RepositorySource:
        exactly_one(self, "path", "github")
        return self


class ScriptSource(Source):
    kpi: str
    command: list[str] | str = Field(description="argv list, or one line split like a shell would (no shell runs)")
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    ok_exit_codes: list[int] = Field(default_factory=lambda: [0])
    cwd: Path | None = None


class SourcesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prometheus: PrometheusSource | None = None
    github: GithubSource | None = None
    jira: JiraSource | None = None
    coverage: CoverageSource | None = None
    sonarqube: SonarqubeSource | None = None
    pagerduty: PagerdutySource | None = None
    openapi: OpenapiSource | None = None
    sql: list[SqlQuery] = Field(default_factory=list)
    repository: RepositorySource | None = None
    script: list[ScriptSource] = Field(default_factory=list)

    def configured(self, name: str) -> bool:
        return bool(getattr(self, name))
