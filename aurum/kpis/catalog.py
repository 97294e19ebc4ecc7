"""The KPI catalogue: the seed's KPIs, team metrics and phase metrics as validated models, plus team overrides."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aurum.core import builtin_data

Direction = Literal["higher", "lower"]
Unit = Literal[
    "points", "features", "per_week", "percent", "ms", "minutes", "days", "hours", "seconds",
    "count", "lines", "rps", "mb_per_s", "gb", "gb_per_hour", "percent_per_hour", "score",
]

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
            low, high = sorted((a, float(b)))
            return cls(op="range", low=low, high=high)
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

    @model_validator(mode="after")
    def _goal_default(self) -> Kpi:
        if self.goal is None and self.target is not None and self.target.op != "range":
            self.goal = self.target.low if self.target.low is not None else self.target.high
        return self

    @property
    def names(self) -> list[str]:
        return [self.key, *self.aliases]


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


def _describe(error: Mapping[str, Any], kpis: list[Any]) -> str:
    loc = list(error["loc"])
    where = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] == "kpis" and isinstance(loc[1], int) and loc[1] < len(kpis):
        key = kpis[loc[1]].get("key", f"#{loc[1] + 1}") if isinstance(kpis[loc[1]], dict) else f"#{loc[1] + 1}"
        field = ".".join(str(p) for p in loc[2:]) or "(entry)"
        return f"KPI {key}, field {field}: {error['msg'].removeprefix('Value error, ')}"
    return f"{where}: {error['msg'].removeprefix('Value error, ')}"


def _validate(raw: dict[str, Any], origin: str) -> CatalogFile:
    try:
        return CatalogFile.model_validate(raw)
    except ValidationError as exc:
        kpis = raw.get("kpis")
        if not isinstance(kpis, list):
            kpis = []
        problems = "\n".join(f"  {origin}: {_describe(e, kpis)}" for e in exc.errors())
        raise CatalogError(f"invalid KPI catalogue:\n{problems}") from None


def builtin_catalog_data() -> dict[str, Any]:
    return builtin_data.load("catalog.yml")


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any], origin: str) -> dict[str, Any]:
    """Merge a team's `kpis:` section: a mapping of key → fields to change, or a new KPI with all its fields."""
    merged = {**raw, "kpis": [dict(k) for k in raw["kpis"]]}
    by_key = {k["key"]: k for k in merged["kpis"]}
    if not isinstance(overrides, dict):
        raise CatalogError(f"{origin}: 'kpis' must be a mapping of KPI key to fields, got {type(overrides).__name__}")
    for key, fields in overrides.items():
        if not isinstance(fields, dict):
            raise CatalogError(f"{origin}: KPI {key}: expected a mapping of fields, got {fields!r}")
        if key in by_key:
            by_key[key].update(fields)
        else:
            merged["kpis"].append({"key": key, **fields})
    return merged


def load_catalog(overrides: dict[str, Any] | None = None, origin: str = "config") -> Catalog:
    raw = builtin_catalog_data()
    if overrides:
        raw = apply_overrides(raw, overrides, origin)
    try:
        return Catalog(_validate(raw, origin if overrides else "aurum/data/catalog.yml"))
    except CatalogError as exc:
        if overrides and not str(exc).startswith("invalid"):
            raise CatalogError(f"{origin}: {exc}") from None
        raise


def load_catalog_file(path: Path) -> Catalog:
    """Load the built-in catalogue with the `kpis:` overrides of a team config file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return load_catalog(data.get("kpis"), origin=str(path))
