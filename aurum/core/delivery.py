"""The one seam between domain code and a chat surface: post, update, upload a file, answer a request where it came
from, publish a person's Home; and who is in a channel, in which time zone.

`bot.slack_delivery.SlackDelivery` implements it over the Slack Web API and `bot.console.ConsoleDelivery`
prints to a terminal. Domain code never calls either directly: it writes to the outbox (aurum.outbox), and
the outbox worker hands each message to the Delivery in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from aurum.core.queue import TaskError


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class DeliveryError(TaskError):
    """A failed call. `retry_after` (seconds) when the surface asked to wait; `permanent` when retrying is futile;
    `code`: the surface's error code (Slack's `channel_not_found`, …). A queued Slack task that fails with it is
    retried (or kept as a dead letter) by the queue worker."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False,
                 code: str | None = None):
        super().__init__(message, retry_after=retry_after, permanent=permanent)
        self.code = code


class ReplyUrlGone(DeliveryError):
    """A request's response_url was used up (five replies) or expired (30 minutes): answer another way."""


class Delivery(Protocol):
    def post(self, team_id: str, channel: str, text: str, blocks: list[dict[str, Any]] | None = None, *,
             thread_ts: str | None = None, user: str | None = None, marker: str | None = None) -> Posted:
        """Post a message (ephemeral when `user` is given). `marker` (the outbox key) rides in the message's
        metadata, for whoever reads the channel's history; the bot itself never looks it up."""

    def update(self, team_id: str, channel: str, ts: str, text: str,
               blocks: list[dict[str, Any]] | None = None) -> None: ...

    def upload_file(self, team_id: str, channel: str, content: bytes, *, filename: str, title: str,
                    comment: str = "", thread_ts: str | None = None, alt_text: str = "") -> str:
        """Upload a file (a PNG chart, a CSV export, …) where the channel's members can see it; returns its id."""

    def respond(self, team_id: str, url: str, text: str, blocks: list[dict[str, Any]] | None = None, *,
                in_channel: bool = False) -> None:
        """Answer a request through its response_url, as a new message (ephemeral unless `in_channel`). Raises
        ReplyUrlGone when the URL no longer takes answers."""

    def publish_home(self, team_id: str, user: str, view: dict[str, Any]) -> None:
        """Publish a person's App Home tab."""


@runtime_checkable
class Directory(Protocol):
    """Who is in a channel or user group (the survey audience), and where they are (their time zone).
    Implemented next to Delivery."""

    def members(self, team_id: str, channel: str | None = None, usergroup: str | None = None) -> list[str]:
        """User ids of a channel (`#name` or id) or of a user group (`S…`), without the bot itself."""

    def time_zone(self, team_id: str, user: str) -> str | None:
        """A person's time zone as an IANA name (`Europe/Berlin`); None when the surface does not know it."""
