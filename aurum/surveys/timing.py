"""When each person is asked: a scheduled opening or reminder ("Friday 10:00") is a wall-clock time that comes in
each person's own time zone (aurum.core.zones). The run stays the team's: one period, opened once (as soon as the
first person's local opening time comes), closed at the team's time; only its direct messages wait for each
person's local time. The `survey_<name>_deliver` job runs every 15 minutes; as every time zone differs from UTC by
whole quarter hours, a schedule on the quarter hour is met on the minute in every zone.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from aurum.core.context import Context
from aurum.core.zones import at_local, zones
from aurum.surveys.schedule import next_fire
from storage.surveys import SurveyRun

FIRST_ZONE = ZoneInfo("Etc/GMT-14")  # UTC+14 (Kiritimati): where a wall-clock time comes first
DELIVER_CRON = "*/15 * * * *"
WALL_FORMAT = "%Y-%m-%dT%H:%M"


def wall(ctx: Context, instant: datetime) -> datetime:
    """An instant as the team's wall-clock time (naive)."""
    return instant.astimezone(ctx.tz).replace(tzinfo=None)


def wall_text(local: datetime) -> str:
    return local.strftime(WALL_FORMAT)


def local_opening(run: SurveyRun) -> datetime | None:
    """The wall-clock time a scheduled run opens for each person; None for a run opened by hand (everyone at once)."""
    return datetime.strptime(run.local_opening, WALL_FORMAT) if run.local_opening else None


def local_reminder(ctx: Context, run: SurveyRun) -> datetime | None:
    """The wall-clock time of a run's reminder: the first scheduled one after its opening."""
    opening = local_opening(run)
    after = at_local(opening, ctx.tz) if opening is not None else run.opens_at
    fire = next_fire(ctx, run.survey, "remind", after)
    return wall(ctx, fire) if fire is not None else None


def may_be_due(ctx: Context, local: datetime) -> bool:
    """Whether a wall-clock time may have come for anyone yet (it has, somewhere on Earth)."""
    return at_local(local, FIRST_ZONE) <= ctx.now()


def due(ctx: Context, session: Session, team_id: str, people: Collection[str], local: datetime | None) -> set[str]:
    """Those of `people` for whom the wall-clock time `local` has come in their time zone (all when None)."""
    if local is None:
        return set(people)
    now = ctx.now()
    return {person for person, zone in zones(ctx, session, team_id, people).items() if at_local(local, zone) <= now}
