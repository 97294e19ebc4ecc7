"""The clock's heartbeat: an hourly job that proves the clock process runs and claims work."""

from __future__ import annotations

import logging

from sqlmodel import Session

from aurum.core import outbox
from aurum.core.context import Context
from aurum.core.jobs import Job

log = logging.getLogger(__name__)


def heartbeat(ctx: Context, session: Session, team_id: str, period: str) -> str:
    """The trivial job: proves the clock process runs and claims work (and says so in `ops.heartbeat_channel`)."""
    log.info("heartbeat", extra={"team_id": team_id, "period": period})
    channel = ctx.config.ops.heartbeat_channel
    if channel:
        outbox.post(session, team_id, channel, f"💓 Aurum's clock is running (period {period}).",
                    key=f"heartbeat:{period}")
        return f"alive, posted to {channel}"
    return "alive"


def jobs() -> list[Job]:
    return [Job("heartbeat", "Proves the clock process is alive (hourly)", "0 * * * *", heartbeat)]
