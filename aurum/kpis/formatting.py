"""Unit-aware formatting of values, targets and changes."""

from __future__ import annotations

from datetime import datetime, timedelta

from aurum.core.text import escape as escape  # the text policy's output half, re-exported beside the formatting
from aurum.core.text import plain as plain
from aurum.kpis.catalog import Kpi, Target

_SUFFIX = {
    "points": " points", "features": " features", "per_week": "/week", "percent": "%", "ms": " ms",
    "minutes": " min", "days": " days", "hours": " h", "seconds": " s", "count": "", "lines": " lines",
    "rps": " req/s", "mb_per_s": " MB/s", "gb": " GB", "gb_per_hour": " GB/h", "percent_per_hour": "%/h",
    "score": "",
}
_OPS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "=": "="}


def number(value: float) -> str:
    """Few digits, no trailing zeros: 285, 81.2, 99.95, 0.08, 1,250."""
    magnitude = abs(value)
    decimals = 0 if magnitude >= 1000 else 1 if magnitude >= 10 else 2 if magnitude >= 0.1 else 3
    if 90 <= magnitude < 100.0 and value != round(value, 1):
        decimals = 2  # 99.95% must not print as 100%
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def value(kpi: Kpi, amount: float) -> str:
    if kpi.unit == "ms" and abs(amount) >= 10:
        amount = round(amount)
    return f"{number(amount)}{_SUFFIX[kpi.unit]}"


def target(kpi: Kpi, tgt: Target | None = None) -> str:
    tgt = tgt or kpi.target
    if tgt is None:
        return "no target"
    if tgt.op == "range":
        return f"{number(tgt.low)}–{value(kpi, tgt.high)}"  # type: ignore[arg-type]
    bound = tgt.high if tgt.op in ("<", "<=") else tgt.low
    return f"{_OPS[tgt.op]}{value(kpi, bound)}"  # type: ignore[arg-type]


def target_note(kpi: Kpi) -> str:
    """' (target <200 ms)' after a value, or nothing for a KPI tracked without a target."""
    return f" (target {target(kpi)})" if kpi.target is not None else ""


def progress(pct: float) -> str:
    """Share of the way from baseline to goal, said so that a person can read it: past the goal and behind the
    baseline in words, not as 250 % or -1,100 %."""
    if pct < 0:
        return "behind the baseline: further from the goal than when tracking started"
    if pct > 100:
        return "past the goal"
    return f"{number(pct)}% of the way"


def change(kpi: Kpi, absolute: float | None, percent: float | None) -> str:
    if absolute is None:
        return "no earlier value"
    arrow = "→" if absolute == 0 else "↑" if absolute > 0 else "↓"
    if kpi.unit in ("percent", "percent_per_hour"):
        return f"{arrow} {number(abs(absolute))} pts"
    if percent is None:
        return f"{arrow} {value(kpi, abs(absolute))}"
    return f"{arrow} {number(abs(percent))}%"


def age(at: datetime, now: datetime) -> str:
    seconds = max(0, int((now - at).total_seconds()))
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            count = seconds // size
            label = f" {unit}{'s' if count != 1 else ''}" if unit == "day" else f" {unit}"
            return f"{count}{label} ago"
    return "just now"


def duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def local_date(at: datetime, tz) -> str:
    return at.astimezone(tz).strftime("%d %b %Y")
