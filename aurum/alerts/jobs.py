"""The alerts' scheduled job: evaluate the rules every minute (reminders, snooze ends, business mornings)."""

from __future__ import annotations

from aurum.alerts.evaluation import tick
from aurum.core.jobs import Job


def jobs() -> list[Job]:
    return [Job("alerts", "Evaluate the alert rules; reminders, snooze ends, business mornings (every minute)",
                "* * * * *", tick)]
