"""Survey definitions (aurum/data/surveys.yml) and the config file's `surveys:` section that overrides them."""

from __future__ import annotations

import json
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
    rotating: bool = False  # asked in turn with the other rotating questions (the survey's `rotation`)

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
    rotation: int = Field(default=0, ge=0, le=90)  # rotating questions asked each run, in turn (0: all of them)

    @field_validator("questions")
    @classmethod
    def _check_questions(cls, value: list[Question]) -> list[Question]:
        return _unique_questions(value)

    @model_validator(mode="after")
    def _check_rotation(self) -> Survey:
        rotating = len(self.rotating)
        if self.rotation > rotating:
            raise ValueError(f"rotation asks {self.rotation} rotating questions each run but "
                             f"{rotating or 'no'} question{'s are' if rotating != 1 else ' is'} marked rotating: true; "
                             "mark more questions rotating or lower the rotation")
        return self

    @property
    def rotating(self) -> list[Question]:
        return [q for q in self.questions if q.rotating]

    def asked(self, turn: int) -> list[Question]:
        """The questions of the `turn`-th run (0, 1, …): every fixed one, and `rotation` rotating ones taken in
        turn (the next ones each run, round the list), each in its place in the list."""
        pool = self.rotating
        if not self.rotation or not pool:
            return list(self.questions)
        chosen = {pool[(turn * self.rotation + i) % len(pool)].id for i in range(self.rotation)}
        return [q for q in self.questions if not q.rotating or q.id in chosen]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def scales(self) -> list[Question]:
        return [q for q in self.questions if q.type == "scale"]

    def as_asked(self, stored: str | None) -> Survey:
        """The survey as a run asks it, with the questions it opened with (`stored_questions`; settings changed
        since apply from the next run); a run from before runs kept their questions (None) asks the survey's own."""
        if not stored:
            return self
        return self.model_copy(update={"questions": [Question.model_validate(q) for q in json.loads(stored)]})


def stored_questions(questions: list[Question]) -> str:
    """The questions a run asks, as it keeps them (JSON)."""
    return json.dumps([q.model_dump(exclude_defaults=True) for q in questions])


class SurveyOverride(BaseModel):
    """A survey's fields as a team config may change them; unset fields keep the built-in value."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    short_name: str | None = Field(default=None, min_length=1, max_length=24)
    audience: Audience | None = None
    questions: list[Question] | None = None
    response_rate_kpi: str | None = None
    results_to: list[str] | None = None
    rotation: int | None = Field(default=None, ge=0, le=90)

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
