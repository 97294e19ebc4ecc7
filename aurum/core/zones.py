"""Each person's time zone: Slack's (users.info `tz`), cached in the database and asked again when a day old; the
team's time zone (AURUM_TIMEZONE, ctx.tz) when Slack cannot say or the process has nobody to ask."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from aurum.core.delivery import DeliveryError
from storage import zones as repo

if TYPE_CHECKING:
    from aurum.core.context import Context

log = logging.getLogger(__name__)

# People rarely move; a day-old answer is asked again (a failed lookup too: a team member is not asked every tick).
REFRESH = timedelta(hours=24)
# users.info is a Tier 4 method (100 calls a minute): half a minute of calls at most per job run; a large team's
# zones are learnt over a few 15-minute ticks rather than in one run holding its transaction for minutes.
ASK_AT_MOST = 50


def zones(ctx: Context, session: Session, team_id: str, users: Iterable[str], ask: bool = True) -> dict[str, ZoneInfo]:
    """Each person's time zone, asking Slack (`ask`) for at most ASK_AT_MOST of those not known or known for a
    day; the others keep what is known (or the team's zone) until a later call asks for them."""
    people = list(dict.fromkeys(users))
    now = ctx.now()
    cached = repo.of(session, team_id, people)
    found = {}
    asked = 0
    for user in people:
        row = cached.get(user)
        name = row.zone if row is not None else None
        if ask and asked < ASK_AT_MOST and (row is None or now - row.checked_at >= REFRESH):
            name = _ask(ctx, team_id, user)
            repo.remember(session, team_id, user, name, now)
            asked += 1
        found[user] = _zone(name) or ctx.tz
    return found


def at_local(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time (naive) as an instant in a time zone; a time a DST change skips is taken at the offset
    before the change (02:30 on a spring-forward night is 03:30)."""
    return wall.replace(tzinfo=zone)


def _ask(ctx: Context, team_id: str, user: str) -> str | None:
    if ctx.directory is None:
        return None
    try:
        return ctx.directory.time_zone(team_id, user)
    except DeliveryError as exc:
        log.warning("could not look up a time zone; the team's applies",
                    extra={"team_id": team_id, "user": user, "error": str(exc)})
        return None


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone from Slack; the team's applies", extra={"zone": name})
        return None
