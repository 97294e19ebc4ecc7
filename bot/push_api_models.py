"""Request and response bodies of the push API (/api/v1), with the limits the OpenAPI document states."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from aurum.core.errors import database_hostile

MAX_METRICS = 5000


def _storable(value: object) -> object:
    """A string no database stores (a NUL, a lone surrogate) is a 422 naming its field, before any other rule."""
    if isinstance(value, str) and (problem := database_hostile(value, "This value")):
        raise ValueError(problem)
    return value


Storable = BeforeValidator(_storable)
Name = Annotated[Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:/@-]+$")],
                 Storable]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class MetricIn(Strict):
    kpi: Name = Field(description="KPI key or alias, e.g. api_response_time_p95 or latency")
    value: float = Field(description="a finite number in the KPI's unit")
    at: AwareDatetime | None = Field(default=None, description="when measured (ISO 8601 with a zone); default now")
    source: Name = Field(default="api", description="where it comes from, e.g. ci or github-actions")
    team: Name | None = Field(default=None, description="the team of the workspace it is for (a key of `teams:` in "
                                                        "the config file); default: the workspace's default team")


class MetricsIn(Strict):
    metrics: list[MetricIn] = Field(min_length=1, max_length=MAX_METRICS)


class Stored(BaseModel):
    stored: int
    kpis: list[str]


class CommitIn(Strict):
    sha: Annotated[Annotated[str, StringConstraints(max_length=64)] | None, Storable] = None
    committed_at: AwareDatetime


class DeploymentIn(Strict):
    id: Name | None = Field(default=None, description="your id for the deployment (a retry with it updates it)")
    environment: Name = "production"
    status: Literal["success", "failure", "error"]
    deployed_at: AwareDatetime | None = Field(default=None, description="when it finished; now if left out")
    commits: list[CommitIn] = Field(default_factory=list, max_length=1000,
                                    description="the commits it shipped (since the previous successful deployment)")


class IncidentIn(Strict):
    id: Name
    created_at: AwareDatetime
    resolved_at: AwareDatetime | None = None
    deployment_id: Name | None = Field(default=None, description="the deployment that caused it, if known")


class Figures(BaseModel):
    id: str
    figures: dict[str, float | None] = Field(description="the DORA figures after this event (null: not defined)")


class CoverageStored(BaseModel):
    kpi: str
    value: float
    at: datetime


class Problem(BaseModel):
    detail: str
    suggestions: list[str] = []
