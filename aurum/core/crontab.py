"""Crontab lines → APScheduler triggers, with crontab's own weekday numbering."""

from __future__ import annotations

import re

from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def crontab_trigger(expression: str, tz) -> CronTrigger:
    """A crontab line with crontab's weekday numbers (0 or 7 = Sunday, 1 = Monday).

    APScheduler 3 numbers weekdays from Monday = 0, so "1-5" would silently mean Tuesday to Saturday; numbers
    are translated to names first.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"'{expression}' is not a crontab line (minute hour day month weekday)")
    minute, hour, day, month, weekday = fields
    if weekday in ("0-6", "0-7", "1-7"):
        weekday = "*"
    weekday = re.sub(r"\b([0-7])\b", lambda m: _WEEKDAYS[int(m.group(1))], weekday)
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=tz)
