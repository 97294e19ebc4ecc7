"""The alert state machine, step for step the one of Prometheus' alerting rules (rules/alerting.go).

At each evaluation time an alert whose condition holds becomes *pending* (first time), then *firing* once it has
been active for `for` (at once when `for` is 0). When the condition stops holding, a pending alert goes back to
*inactive*; a firing one keeps firing for `keep_firing_for` after the first evaluation where the condition failed,
then resolves (inactive). Holding again in between resets that countdown.

No value (nothing recorded within the rule's `max_age`) is handled by the missing-data policy:
`resolve` treats it as "the condition does not hold" (what Prometheus does when a series goes stale), `keep_state`
leaves the alert as it is, `alert` treats it as holding, so the alert fires with "no data".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from aurum.alerts.rules import MissingData

StateName = Literal["inactive", "pending", "firing"]
Transition = Literal["pending", "firing", "resolved", "reset"]


@dataclass(frozen=True)
class State:
    state: StateName = "inactive"
    active_at: datetime | None = None
    fired_at: datetime | None = None
    keep_firing_since: datetime | None = None
    value: float | None = None
    no_data: bool = False


@dataclass(frozen=True)
class Step:
    state: State
    transition: Transition | None  # what happened at this evaluation, if anything


INACTIVE = State()


def step(current: State, holds: bool | None, value: float | None, now: datetime, hold_for: timedelta,
         keep_firing_for: timedelta, missing: MissingData = "resolve") -> Step:
    """One evaluation at `now`. `holds` is None when there is no value to compare."""
    no_data = holds is None
    if no_data:
        if missing == "keep_state":
            return Step(current, None)
        holds = missing == "alert"
    if holds:
        transition: Transition | None = None
        if current.state == "inactive":
            new = State("pending", active_at=now, value=value, no_data=no_data)
            transition = "pending"
        else:
            new = replace(current, keep_firing_since=None, value=value, no_data=no_data)
        if new.state == "pending" and now - new.active_at >= hold_for:  # type: ignore[operator]
            new = replace(new, state="firing", fired_at=now)
            transition = "firing"
        return Step(new, transition)
    if current.state == "firing" and keep_firing_for > timedelta(0):
        since = current.keep_firing_since or now
        if now - since < keep_firing_for:
            return Step(replace(current, keep_firing_since=since), None)
    if current.state == "pending":
        return Step(INACTIVE, "reset")
    if current.state == "firing":
        return Step(INACTIVE, "resolved")
    return Step(current, None)
