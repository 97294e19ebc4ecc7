"""The KPI catalogue: the seed's KPIs, team metrics and phase metrics as validated models, plus team overrides."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aurum.core import builtin_data
from aurum.core.suggest import message, unknown

Direction = Literal["higher", "lower"]
Unit = Literal[
    "points", "features", "per_week", "percent", "ms", "minutes", "days", "hours", "seconds",
    "count", "lines", "rps", "mb_per_s", "gb", "gb_per_hour", "percent_per_hour", "score",
]

# What a value of each unit can possibly be: [low, high], both ends allowed, None for no bound. A KPI sets its own
# `range:` where its unit says too little (a survey's scale, a 0/1 flag, a share that can pass 100 %).
UNIT_RANGES: dict[Unit, tuple[float | None, float | None]] = {
    "points": (0.0, None),            # story points completed in a sprint: none or some
    "features": (0.0, None),          # features released: a count
    "per_week": (0.0, None),          # deployments a week: a count over a window
    "percent": (0.0, 100.0),          # a share of a whole (coverage, uptime, error rate, usage, …)
    "ms": (0.0, None),                # durations are never negative …
    "minutes": (0.0, None),
    "days": (0.0, None),
    "hours": (0.0, None),
    "seconds": (0.0, None),
    "count": (0.0, None),             # counts of things
    "lines": (0.0, None),             # lines of code
    "rps": (0.0, None),               # rates and sizes: none or some
    "mb_per_s": (0.0, None),
    "gb": (0.0, None),
    "gb_per_hour": (0.0, None),
    "percent_per_hour": (0.0, None),  # a churn rate: past 100 %/h when a cache turns over more than once an hour
    "score": (0.0, 10.0),             # survey means: the widest scale in use (0-10); survey KPIs set their own scale
}

Rollup = Literal["sum", "mean", "worst", "weighted"]
# The organisation's value of a KPI of each unit, from its teams' values: amounts add up; a share is the mean of
# the teams' shares; a duration or a churn rate is the worst team's (a mean of p95 latencies is nobody's p95).
ROLLUP_BY_UNIT: dict[Unit, Rollup] = {
    "points": "sum", "features": "sum", "per_week": "sum", "count": "sum", "lines": "sum", "rps": "sum",
    "mb_per_s": "sum", "gb": "sum", "gb_per_hour": "sum",
    "percent": "mean", "score": "mean",
    "ms": "worst", "minutes": "worst", "days": "worst", "hours": "worst", "seconds": "worst",
    "percent_per_hour": "worst",
}

_TARGET = re.compile(r"^\s*(?:(?P<op><=|>=|<|>|=)?\s*(?P<a>-?\d+(?:\.\d+)?)\s*(?:-\s*(?P<b>-?\d+(?:\.\d+)?))?)\s*$")


class CatalogError(Exception):
    """A catalogue or override file that does not validate; the message names file, KPI and field."""


class Target(BaseModel):
    """A target as the seed writes it: a band (`40-60`), a bound (`<200`, `>=99.9`) or a value (`=0`)."""

    model_config = ConfigDict(frozen=True)
    op: Literal["<", "<=", ">", ">=", "=", "range"]
    low: float | None = None
    high: float | None = None

    @classmethod
    def parse(cls, text: str | float | int) -> Target:
        match = _TARGET.match(str(text))
        if not match:
            raise ValueError(f"target {text!r} is not of the form 40-60, <200, >=99.9 or =0")
        a, b, op = float(match["a"]), match["b"], match["op"]
        if b is not None:
            if op:
                raise ValueError(f"target {text!r}: a range takes no comparison sign")
            if a > float(b):
                raise ValueError(f"{match['a']}-{b}: the lower bound comes first: write {b}-{match['a']}")
            return cls(op="range", low=a, high=float(b))
        op = cast(Literal["<", "<=", ">", ">=", "="], op or ">=")  # the only signs _TARGET matches
        if op in ("<", "<="):
            return cls(op=op, high=a)
        if op in (">", ">="):
            return cls(op=op, low=a)
        return cls(op="=", low=a, high=a)

    def met(self, value: float) -> bool:
        low, high = self.low, self.high
        if self.op == "=":
            return value == low
        if self.op in ("<", "<="):
            assert high is not None, "parse() gives < and <= an upper bound"
            return value < high if self.op == "<" else value <= high
        assert low is not None, "parse() gives >, >= and ranges a lower bound"
        if self.op in (">", ">="):
            return value > low if self.op == ">" else value >= low
        assert high is not None, "parse() gives a range an upper bound"
        return low <= value <= high

    def nearest(self, value: float) -> float:
        """The boundary a value must reach to meet the target (the lower end of a band when below it)."""
        low, high = self.low, self.high
        if self.op == "range":
            assert low is not None and high is not None, "parse() gives a range both ends"
            return low if value < low else high
        bound = high if self.op in ("<", "<=") else low
        assert bound is not None, "parse() gives every comparison its bound"
        return bound


class Kpi(BaseModel):
    """One metric: what it measures, which way is better, and the numbers the roadmap sets for it."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    aliases: list[str] = []
    category: str
    unit: Unit
    direction: Direction
    target: Target | None = None
    baseline: float | None = None
    goal: float | None = None
    phase_targets: dict[int, float] = {}
    stretch: float | None = None
    stretch_label: str = "stretch goal"
    phase: int | None = Field(default=None, ge=1, le=4)
    source: str = "manual"
    definition: str = ""
    notes: str = ""
    protected: bool = False
    # The values it can hold, [low, high] with null for no bound; default: its unit's (UNIT_RANGES).
    range: tuple[float | None, float | None] | None = None
    # How the organisation's value combines the teams' (aurum.kpis.rollup); default: by its unit (ROLLUP_BY_UNIT).
    rollup: Rollup | None = None
    rollup_weight: str | None = None  # the KPI whose values weigh the teams (e.g. traffic), for rollup: weighted

    @field_validator("target", mode="before")
    @classmethod
    def _parse_target(cls, value: Any) -> Any:
        return Target.parse(value) if isinstance(value, str | int | float) else value

    @field_validator("phase_targets")
    @classmethod
    def _phases_known(cls, value: dict[int, float]) -> dict[int, float]:
        unknown = [p for p in value if p not in (1, 2, 3, 4)]
        if unknown:
            raise ValueError(f"phases are 1-4, got {unknown}")
        return value

    @field_validator("range")
    @classmethod
    def _range_ordered(cls, value: tuple[float | None, float | None] | None) -> Any:
        if value is None:
            return value
        low, high = value
        if any(end is not None and not math.isfinite(end) for end in value):
            raise ValueError("range ends are finite numbers, or null for no bound: e.g. [0, 100] or [0, null]")
        if low is not None and high is not None and low > high:
            raise ValueError(f"range [{_num(low)}, {_num(high)}]: the low end comes first, e.g. [0, 100]")
        return value

    @model_validator(mode="after")
    def _goal_default(self) -> Kpi:
        if self.goal is None and self.target is not None and self.target.op != "range":
            self.goal = self.target.low if self.target.low is not None else self.target.high
        return self

    @model_validator(mode="after")
    def _numbers_possible(self) -> Kpi:
        """Baseline, goal, phase targets and stretch goal must be values the KPI can hold."""
        numbers = {"baseline": self.baseline, "goal": self.goal, "stretch": self.stretch,
                   **{f"phase_targets.{p}": v for p, v in self.phase_targets.items()}}
        for field, number in numbers.items():
            if number is not None and check_value(self, number) is not None:
                raise ValueError(f"{field} {_num(number)} is outside the KPI's range {range_text(self)}; "
                                 "change the number or set range: [low, high]")
        return self

    @model_validator(mode="after")
    def _weight_given(self) -> Kpi:
        if (self.rollup == "weighted") != (self.rollup_weight is not None):
            raise ValueError("rollup: weighted needs rollup_weight: <the KPI that weighs the teams, e.g. "
                             "api_requests_per_second>, and rollup_weight needs rollup: weighted")
        return self

    @property
    def rollup_rule(self) -> Rollup:
        return self.rollup or ROLLUP_BY_UNIT[self.unit]

    @property
    def names(self) -> list[str]:
        return [self.key, *self.aliases]

    @property
    def allowed(self) -> tuple[float | None, float | None]:
        """The values it can hold, [low, high] (None: no bound): its own `range`, else its unit's."""
        return self.range if self.range is not None else UNIT_RANGES[self.unit]


def _num(value: float) -> str:
    return f"{value:.15g}"


def range_text(kpi: Kpi) -> str:
    """The allowed range in words: "0 to 100 (percent)", "0 or more (ms)", "at most 5 (score)"."""
    low, high = kpi.allowed
    words = f"{_num(low)} to {_num(high)}" if low is not None and high is not None else \
        f"{_num(low)} or more" if low is not None else f"at most {_num(high)}" if high is not None else "any number"
    return f"{words} ({kpi.unit})"


def check_value(kpi: Kpi, value: float) -> str | None:
    """The one rule of which values a KPI can hold, asked by every writer (`/kpi record`, `aurum record`, the push
    API, collectors, and aurum.core.ingest before anything is stored): None when `value` is possible, else a
    sentence naming the KPI, the value and the allowed range, and how to fix it."""
    low, high = kpi.allowed
    if math.isfinite(value) and (low is None or value >= low) and (high is None or value <= high):
        return None
    if not math.isfinite(value):
        return f"{kpi.name} (`{kpi.key}`) cannot be {value}: give a finite number"
    return (f"{kpi.name} (`{kpi.key}`) cannot be {_num(value)}; allowed: {range_text(kpi)}. "
            f"Check the number (and its unit); if {kpi.key} really goes beyond that, set its range in the config "
            f"file (`kpis: {{{kpi.key}: {{range: [low, high]}}}}`, null for no bound)")


class Phase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: int = Field(ge=1, le=4)
    name: str
    metrics: list[str]


class CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    categories: dict[str, str]
    kpis: list[Kpi]
    phases: list[Phase]


class Catalog:
    """Lookup by key or alias, categories in the seed's order, and the phases with their metrics."""

    def __init__(self, data: CatalogFile):
        self.categories = data.categories
        self.kpis: dict[str, Kpi] = {k.key: k for k in data.kpis}
        self.phases = sorted(data.phases, key=lambda p: p.number)
        self._names: dict[str, str] = {}
        for kpi in data.kpis:
            for name in kpi.names:
                other = self._names.setdefault(name.lower(), kpi.key)
                if other != kpi.key:
                    raise CatalogError(f"name {name!r} is used by both {other} and {kpi.key}")
        for phase in self.phases:
            missing = [m for m in phase.metrics if m not in self.kpis]
            if missing:
                raise CatalogError(f"phase {phase.number} lists unknown metrics {missing}")
        for kpi in data.kpis:
            if kpi.rollup_weight is not None and kpi.rollup_weight not in self.kpis:
                raise CatalogError(f"kpis.{kpi.key}.rollup_weight: no KPI {kpi.rollup_weight!r}; name the key of "
                                   "the KPI whose values weigh the teams (e.g. api_requests_per_second)")

    def __iter__(self):
        return iter(self.kpis.values())

    def __len__(self) -> int:
        return len(self.kpis)

    def get(self, key: str) -> Kpi:
        return self.kpis[key]

    def resolve(self, name: str) -> Kpi | None:
        key = self._names.get(name.strip().lower())
        return self.kpis[key] if key else None

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Closest aliases or keys to a mistyped name."""
        return difflib.get_close_matches(name.strip().lower(), list(self._names), n=limit, cutoff=0.5)

    def by_category(self) -> dict[str, list[Kpi]]:
        grouped: dict[str, list[Kpi]] = {c: [] for c in self.categories}
        for kpi in self.kpis.values():
            grouped.setdefault(kpi.category, []).append(kpi)
        return {c: ks for c, ks in grouped.items() if ks}

    def phase_metrics(self, number: int) -> list[Kpi]:
        phase = next((p for p in self.phases if p.number == number), None)
        return [self.kpis[m] for m in phase.metrics] if phase else []

    def short_name(self, kpi: Kpi) -> str:
        return kpi.aliases[0] if kpi.aliases else kpi.key

    def refusal(self, key: str, value: float) -> str | None:
        """check_value for a KPI by key (a key the catalogue does not know has no range to check)."""
        kpi = self.kpis.get(key)
        return check_value(kpi, value) if kpi is not None else None


def _describe(error: Mapping[str, Any], kpis: list[Any], written: Mapping[str, str]) -> str:
    """An error of the catalogue by path: `kpis.api_response_time_p95.target: …`, a KPI named as the config file
    names it (`written`: key → the alias the file uses)."""
    loc = list(error["loc"])
    text = message(error, CatalogFile)
    if len(loc) >= 2 and loc[0] == "kpis" and isinstance(loc[1], int) and loc[1] < len(kpis):
        entry = kpis[loc[1]]
        key = entry.get("key", f"#{loc[1] + 1}") if isinstance(entry, dict) else f"#{loc[1] + 1}"
        loc[1] = written.get(key, key)
    return f"{'.'.join(str(p) for p in loc)}: {text}"


def _validate(raw: dict[str, Any], origin: str, written: Mapping[str, str] | None = None) -> CatalogFile:
    try:
        return CatalogFile.model_validate(raw)
    except ValidationError as exc:
        kpis = raw.get("kpis")
        if not isinstance(kpis, list):
            kpis = []
        raise _invalid(origin, [_describe(e, kpis, written or {}) for e in exc.errors()]) from None


def _invalid(origin: str, problems: list[str]) -> CatalogError:
    return CatalogError("invalid KPI catalogue:\n" + "\n".join(f"  {origin}: {p}" for p in problems))


def builtin_catalog_data() -> dict[str, Any]:
    return builtin_data.load("catalog.yml")


# What a KPI the catalogue does not have needs in the config file before it is one.
NEW_KPI_FIELDS = ("name", "category", "unit", "direction")


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any], origin: str,
                    known: Catalog | None = None, written: dict[str, str] | None = None) -> dict[str, Any]:
    """Merge a team's `kpis:` section: a mapping of key or alias (as /kpi takes it) → fields to change, or a new KPI
    with all its fields. A name the catalogue does not know, without the fields of a new KPI, is a typo: refused
    with the closest names. `written` learns the aliases used, by key."""
    known = known or Catalog(_validate(raw, BUILTIN))
    merged = {**raw, "kpis": [dict(k) for k in raw["kpis"]]}
    by_key = {k["key"]: k for k in merged["kpis"]}
    if not isinstance(overrides, dict):
        raise CatalogError(f"{origin}: 'kpis' must be a mapping of KPI key to fields, got {type(overrides).__name__}")
    problems = []
    for name, fields in overrides.items():
        kpi = known.resolve(str(name))
        if not isinstance(fields, dict):
            problems.append(f"kpis.{name}: expected a mapping of fields, got {fields!r}")
        elif kpi is not None:
            by_key[kpi.key].update(fields)
            if written is not None and name != kpi.key:
                written[kpi.key] = str(name)
        elif all(f in fields for f in NEW_KPI_FIELDS):
            merged["kpis"].append({"key": name, **fields})
        else:
            problems.append(f"kpis.{name}: {unknown('KPI', str(name), guesses=known.suggest(str(name)))} "
                            "Use a key or alias that `/kpi help` lists, or give a new KPI its "
                            f"{', '.join(NEW_KPI_FIELDS[:-1])} and {NEW_KPI_FIELDS[-1]}")
    if problems:
        raise _invalid(origin, problems)
    return merged


BUILTIN = "aurum/data/catalog.yml"


def load_catalog(overrides: dict[str, Any] | None = None, origin: str = "config",
                 team_overrides: dict[str, Any] | None = None) -> Catalog:
    """The built-in catalogue with the config file's `kpis:`, and a team's own `kpis:` over those."""
    raw = builtin_catalog_data()
    builtin = Catalog(_validate(raw, BUILTIN))
    if not overrides and not team_overrides:
        return builtin
    written: dict[str, str] = {}
    raw = apply_overrides(raw, overrides or {}, origin, builtin, written)
    if team_overrides:
        raw = apply_overrides(raw, team_overrides, origin, Catalog(_validate(raw, origin, written)), written)
    try:
        return Catalog(_validate(raw, origin, written))
    except CatalogError as exc:
        if not str(exc).startswith("invalid"):
            raise CatalogError(f"{origin}: {exc}") from None
        raise


def load_catalog_file(path: Path) -> Catalog:
    """Load the built-in catalogue with the `kpis:` overrides of a team config file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return load_catalog(data.get("kpis"), origin=str(path))
