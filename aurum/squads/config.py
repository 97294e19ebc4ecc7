"""The config file's `teams:` section: each team's members, channels, leads, scrum masters, sprint board, KPI overrides
and survey audience."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

SQUAD_KEY = r"^[a-z][a-z0-9_-]{0,31}$"


class Members(BaseModel):
    """Who is in the team: the members of a Slack user group (`S…`) or of a channel (`#name` or id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    usergroup: str | None = Field(default=None, pattern=r"^S[A-Z0-9]+$")
    channel: str | None = Field(default=None, pattern=r"^[#CG]")

    @model_validator(mode="after")
    def _one_source(self) -> Members:
        if (self.usergroup is None) == (self.channel is None):
            raise ValueError("give exactly one of usergroup (e.g. S0PAYMENTS) or channel (e.g. '#payments')")
        return self


class TeamConfig(BaseModel):
    """One team of the workspace. `channels` override the keys of the top-level `channels:` for this team."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=80)  # default: the key
    default: bool = False  # holds the rows from before teams existed (default: the first team listed)
    members: Members
    channels: dict[str, str] = {}
    scrum_masters: list[str] = []  # user ids who get the team's sprint retrospectives by DM and run its sprints
    leads: list[str] = []  # user ids who may change the team's own settings (its KPI targets, its channels)
    sprint_board: str | None = Field(default=None, pattern=r"^[0-9]+$")  # the team's Jira board id
    kpis: dict[str, dict[str, Any]] = {}  # same shape as the top-level `kpis:`
    survey_audience: Members | None = None  # who the team's surveys ask; default: the team's members

    @model_validator(mode="after")
    def _channels_named(self) -> TeamConfig:
        for key, channel in self.channels.items():
            if not channel.startswith(("#", "C", "G")):
                raise ValueError(f"channels.{key}: {channel!r} is not a channel; write it as '#name' or an id (C…)")
        return self


def check_teams(teams: dict[str, TeamConfig]) -> dict[str, TeamConfig]:
    """Team keys as `team:<key>` takes them; at most one default team."""
    bad = [key for key in teams if not re.match(SQUAD_KEY, key)]
    if bad:
        raise ValueError(f"team key {bad[0]!r}: use lower-case letters, digits, '-' or '_' (e.g. payments), "
                         "as people type it in `team:payments`")
    defaults = [key for key, team in teams.items() if team.default]
    if len(defaults) > 1:
        raise ValueError(f"teams {', '.join(defaults)} are all marked default: true; mark one")
    return teams
