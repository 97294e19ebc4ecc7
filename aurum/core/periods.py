"""Periods in the team's local time: the keys that name a week, month or quarter, and where each starts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aurum.core.context import Context


def week_key(local: datetime) -> str:
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def month_key(local: datetime) -> str:
    return local.strftime("%Y-%m")


def quarter_key(local: datetime) -> str:
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def week_start(local: datetime) -> date:
    return (local - timedelta(days=local.weekday())).date()


def local_midnight(ctx: Context, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ctx.tz)


def month_start(ctx: Context, local: datetime) -> datetime:
    return datetime(local.year, local.month, 1, tzinfo=ctx.tz)


def quarter_start(ctx: Context, local: datetime) -> datetime:
    return datetime(local.year, 3 * ((local.month - 1) // 3) + 1, 1, tzinfo=ctx.tz)
