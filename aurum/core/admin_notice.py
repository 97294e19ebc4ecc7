"""Telling the admins about a post Slack refused for good (a channel it does not know, one the bot is not in), so
that the post does not vanish into the dead letters: once a day per channel and error, however many posts die.

The notice goes to `ops.admin_channel` when the config sets one (and it is not the channel at fault), else by DM
to each user in AURUM_ADMINS; with neither, the log says who to set.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage import queue as repo
from storage.queue import QueuedTask

if TYPE_CHECKING:
    from aurum.core.context import Context

log = logging.getLogger(__name__)
FIXES = {
    "channel_not_found": "Slack knows no channel {channel}, or it is private and I am not in it: correct the channel "
                         "in the config file (`aurum check` lists the ones to fix), or `/invite @Aurum` in it.",
    "not_in_channel": "I am not in {channel}: `/invite @Aurum` in it.",
    "is_archived": "{channel} is archived: unarchive it, or name another channel in the config file.",
}
OTHER_FIX = "`aurum outbox --status dead` shows the message and the error."


def notice_text(channel: str, code: str) -> str:
    fix = FIXES.get(code, OTHER_FIX).format(channel=channel)
    return (f":warning: A message for {channel} was not delivered: Slack says `{code}`. {fix} "
            "(I tell this once a day per channel and error.)")


@dataclass(frozen=True)
class AdminNotices:
    admins: frozenset[str]
    channel: str | None  # ops.admin_channel, `#name` or id
    clock: Callable[[], datetime]
    tz: ZoneInfo

    @classmethod
    def of(cls, ctx: Context) -> AdminNotices:
        channel = ctx.config.ops.admin_channel
        return cls(ctx.admins, ctx.config.channels.model_dump().get(channel, channel) if channel else None,
                   ctx.now, ctx.tz)

    def dead_post(self, session: Session, team_id: str, channel: str, code: str | None) -> int:
        """Queue the notice of a post to `channel` that died with Slack's error `code`, in the transaction that
        makes it a dead letter; returns how many notices were queued (0: told today already)."""
        if not channel or not code:
            return 0  # a thread reply whose parent died, or Slack unreachable: nothing an admin can fix in a channel
        targets = [self.channel] if self.channel and self.channel != channel else sorted(self.admins)
        if not targets:
            log.warning("a post died and no admin can be told: set AURUM_ADMINS or ops.admin_channel",
                        extra={"channel": channel, "error": code})
            return 0
        day = self.clock().astimezone(self.tz).date().isoformat()
        payload = {"text": notice_text(channel, code), "blocks": None, "user": None, "notice": True}
        return sum(repo.add_once(session, QueuedTask(
            team_id=team_id, key=f"admin-notice:{day}:{channel}:{code}:{target}", kind="post",
            payload=json.dumps({"channel": target, **payload}))) for target in targets)
