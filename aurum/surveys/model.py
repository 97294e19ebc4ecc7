"""Survey definitions (aurum/data/surveys.yml) and the config file's `surveys:` section that overrides them."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aurum.core import builtin_data

SURVEY_KEYS = ("team", "stakeholder")
MIN_THRESHOLD = 3
MAX_SELECT_OPTIONS = 100
OPTION_LIMIT = 75


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    type: Literal["scale", "text", "single_choice"]
    label: str = Field(min_length=1, max_length=2000)
    hint: str = Field(default="", max_length=2000)
    optional: bool = False
    min: int = 1
    max: int = 10
    min_label: str = Field(default="", max_length=40)
    max_label: str = Field(default="", max_length=40)
    widget: Literal["select", "number"] = "select"
    max_length: int = Field(default=1000, ge=1, le=3000)
    options: list[str] = []
    comment: str | None = Field(default=None, max_length=2000)
    kpi: str | None = None
    blockers: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.type == "scale":
            if self.min >= self.max:
                raise ValueError(f"question {self.id}: min ({self.min}) must be below max ({self.max})")
            if self.widget == "select" and self.max - self.min + 1 > MAX_SELECT_OPTIONS:
                raise ValueError(f"question {self.id}: a select holds at most {MAX_SELECT_OPTIONS} values; "
                                 "use widget: number")
        if self.type == "single_choice":
            if not 2 <= len(self.options) <= MAX_SELECT_OPTIONS:
                raise ValueError(f"question {self.id}: single_choice needs 2 to {MAX_SELECT_OPTIONS} options")
            if len(set(self.options)) != len(self.options):
                raise ValueError(f"question {self.id}: options must differ")
            too_long = [o for o in self.options if not 0 < len(o) <= OPTION_LIMIT]
            if too_long:
                raise ValueError(f"question {self.id}: options must be 1-{OPTION_LIMIT} characters: {too_long[0]!r}")
        if self.kpi and self.type != "scale":
            raise ValueError(f"question {self.id}: only a scale question can feed a KPI")
        if self.comment is not None and self.type == "text":
            raise ValueError(f"question {self.id}: a text question takes no extra comment box")
        return self

    @property
    def block_id(self) -> str:
        return f"q_{self.id}"

    @property
    def comment_id(self) -> str:
        """The question id under which the optional comment of a rating is stored."""
        return f"{self.id}__comment"

    @property
    def comment_block_id(self) -> str:
        return f"q_{self.comment_id}"


class Audience(BaseModel):
    """Who is asked: the members of a channel (a key of `channels:` or `#name`), of a user group, or a list."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    channel: str | None = None
    usergroup: str | None = Field(default=None, pattern=r"^S[A-Z0-9]+$")
    users: list[str] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Audience:
        given = [name for name in ("channel", "usergroup", "users") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of channel, usergroup or users")
        return self


def _unique_questions(questions: list[Question]) -> list[Question]:
    ids = [q.id for q in questions]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"question ids must be unique: {', '.join(duplicates)}")
    if not questions:
        raise ValueError("a survey needs at least one question")
    inputs = len(questions) + sum(1 for q in questions if q.comment is not None)
    if inputs > 90:
        raise ValueError("a survey modal holds at most 90 answer fields")
    return questions


class Survey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    name: str = Field(min_length=1, max_length=120)
    short_name: str = Field(min_length=1, max_length=24)  # the modal's title
    cadence: Literal["weekly", "monthly"]
    audience: Audience
    questions: list[Question]
    response_rate_kpi: str | None = None
    results_to: list[str] = ["team", "scrum_masters"]  # keys of `channels:` or #names

    @field_validator("questions")
    @classmethod
    def _check_questions(cls, value: list[Question]) -> list[Question]:
        return _unique_questions(value)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def scales(self) -> list[Question]:
        return [q for q in self.questions if q.type == "scale"]


class SurveyOverride(BaseModel):
    """A survey's fields as a team config may change them; unset fields keep the built-in value."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    short_name: str | None = Field(default=None, min_length=1, max_length=24)
    audience: Audience | None = None
    questions: list[Question] | None = None
    response_rate_kpi: str | None = None
    results_to: list[str] | None = None

    @field_validator("questions")
    @classmethod
    def _check_questions(cls, value: list[Question] | None) -> list[Question] | None:
        return value if value is None else _unique_questions(value)


class SurveyConfig(BaseModel):
    """The `surveys:` section of the config file."""

    model_config = ConfigDict(extra="forbid")
    threshold: int = Field(default=5, ge=MIN_THRESHOLD, le=1000)  # answers needed before any aggregate shows
    holidays: list[date] = []  # no run opens on these dates
    scrum_masters: list[str] = []  # user ids who get the results by DM
    exclude: list[str] = []  # user ids never asked (other bots in the team channel, …)
    team: SurveyOverride | None = None
    stakeholder: SurveyOverride | None = None

    @cached_property
    def definitions(self) -> dict[str, Survey]:
        builtin = builtin_survey_data()
        result = {}
        for key in SURVEY_KEYS:
            override = getattr(self, key)
            fields = {**builtin[key], **(override.model_dump(exclude_unset=True) if override else {})}
            result[key] = Survey.model_validate({"key": key, **fields})
        return result

    def survey(self, key: str) -> Survey:
        return self.definitions[key]


def builtin_survey_data() -> dict[str, Any]:
    return builtin_data.load("surveys.yml")["surveys"]
