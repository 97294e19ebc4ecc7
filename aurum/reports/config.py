"""The reports' section of the config file (`reports:`): where reports, reviews and recognition go."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Review(BaseModel):
    """A recurring review meeting: where its reminder goes and when the meeting starts (HH:MM, team time zone)."""

    model_config = ConfigDict(extra="forbid")
    channel: str | None = None
    starts: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # default per review
    minutes: int | None = Field(default=None, ge=5, le=8 * 60)


class ReportsConfig(BaseModel):
    """The `reports:` section: where reports, reviews and recognition go. Channels default to `channels:`."""

    model_config = ConfigDict(extra="forbid")
    weekly_channel: str | None = None  # default channels.roadmap_updates
    retro_channel: str | None = None  # default channels.scrum_masters
    exec_channel: str | None = None  # default channels.roadmap_updates
    quarterly_channel: str | None = None  # default channels.roadmap_updates
    celebrations_channel: str | None = None  # default channels.team
    recognition_channel: str | None = None  # default channels.team
    scrum_masters: list[str] = []  # Slack user ids that get the sprint retrospective by DM
    kudos_daily_limit: int = Field(default=5, ge=1, le=100)
    celebration_min_samples: int = Field(default=10, ge=1, le=10_000)  # votes behind a ratio KPI before a 🎉
    live_hours_max: int = Field(default=8, ge=1, le=24)
    live_per_team_max: int = Field(default=5, ge=1, le=50)
    quarterly_budget: float | None = Field(default=None, gt=0)  # e.g. 350000 → "$234K of $350K quarterly"
    budget_currency: str = "$"
    weekly_review: Review = Field(default_factory=Review)  # Friday 14:00, 30 minutes
    monthly_review: Review = Field(default_factory=Review)  # first Wednesday 10:00, 60 minutes
    quarterly_review: Review = Field(default_factory=Review)  # last day of the quarter 14:00, 2 hours

    @field_validator("scrum_masters")
    @classmethod
    def _user_ids(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not re.fullmatch(r"[UW][A-Z0-9]{2,}", v)]
        if bad:
            raise ValueError(f"scrum masters are Slack user ids such as U024BE7LH, got {bad}")
        return value
