"""The Delivery and Directory seams over the Slack Web API (slack_sdk WebClient)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from aurum.core.delivery import DeliveryError, Posted, ReplyUrlGone
from aurum.core.queue import Later
from aurum.core.text import outgoing
from bot.slack_pacing import Pacing

log = logging.getLogger(__name__)
MARKER_EVENT = "aurum_outbox"  # the metadata event type that carries a post's outbox key
# Errors that no retry will cure: the message goes to the dead letters with this reason.
PERMANENT = {
    "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "invalid_auth", "account_inactive",
    "token_revoked", "msg_too_long", "no_text", "invalid_arguments", "missing_scope", "not_authed",
    "user_not_found", "cannot_dm_bot", "message_not_found", "cant_update_message", "invalid_blocks_format",
    "team_access_not_granted", "restricted_action", "file_not_found",
}


class SlackDelivery:
    """Each call waits its turn under Slack's limits (bot.slack_pacing): a call of the outbox's is put back in the
    queue for as long (`Later`), a call made for a job (who is in a channel) waits in place."""

    def __init__(self, client_for: Callable[[str], WebClient], pacing: Pacing | None = None,
                 webhook_timeout: int = 10):
        self._client_for = client_for
        self.pacing = pacing or Pacing()
        self.webhook_timeout = webhook_timeout
        self._channels: dict[tuple[str, str], str] = {}
        self._bots: dict[str, str] = {}
        self._lock = threading.Lock()

    def post(self, team_id: str, channel: str, text: str, blocks: list[dict[str, Any]] | None = None, *,
             thread_ts: str | None = None, user: str | None = None, marker: str | None = None) -> Posted:
        client = self._client_for(team_id)
        target = self.channel_id(team_id, channel)
        if user:
            resp = self._call(team_id, "chat.postEphemeral", client.chat_postEphemeral, channel=target, user=user,
                              text=text, blocks=blocks, thread_ts=thread_ts)
            return Posted(channel=target, ts=resp.get("message_ts", ""))
        self._channel_turn(team_id, target)
        metadata = {"event_type": MARKER_EVENT, "event_payload": {"key": marker}} if marker else None
        resp = self._call(team_id, "chat.postMessage", client.chat_postMessage, channel=target, text=text,
                          blocks=blocks, thread_ts=thread_ts, metadata=metadata, unfurl_links=False,
                          unfurl_media=False)
        return Posted(channel=resp["channel"], ts=resp["ts"])

    def update(self, team_id: str, channel: str, ts: str, text: str,
               blocks: list[dict[str, Any]] | None = None) -> None:
        self._call(team_id, "chat.update", self._client_for(team_id).chat_update, channel=channel, ts=ts, text=text,
                   blocks=blocks)

    def upload_file(self, team_id: str, channel: str, content: bytes, *, filename: str, title: str,
                    comment: str = "", thread_ts: str | None = None, alt_text: str = "") -> str:
        target = self.channel_id(team_id, channel)
        self._channel_turn(team_id, target)
        resp = self._call(team_id, "files.completeUploadExternal", self._client_for(team_id).files_upload_v2,
                          channel=target, content=content, filename=filename, title=title,
                          initial_comment=comment or None, thread_ts=thread_ts, alt_txt=alt_text or None)
        files = resp.get("files") or [resp.get("file") or {}]
        return files[0].get("id", "")

    def respond(self, team_id: str, url: str, text: str, blocks: list[dict[str, Any]] | None = None, *,
                in_channel: bool = False) -> None:
        hook = WebhookClient(url, timeout=self.webhook_timeout)
        try:
            resp = hook.send(text=outgoing(text), blocks=outgoing(blocks), replace_original=False,
                             response_type="in_channel" if in_channel else "ephemeral")
        except (OSError, TimeoutError) as exc:
            raise DeliveryError(f"could not reach Slack's response_url: {type(exc).__name__}") from None
        body = (resp.body or "").strip()
        if resp.status_code == 200:
            return
        if resp.status_code == 429:
            raise DeliveryError("Slack rate limit (429) on a response_url",
                                retry_after=_retry_after(resp.headers)) from None
        if resp.status_code >= 500:
            raise DeliveryError(f"Slack server error {resp.status_code} on a response_url") from None
        if resp.status_code == 404 or "used_url" in body or "expired_url" in body:
            raise ReplyUrlGone(f"response_url refused: {body[:40] or resp.status_code}", code=body[:40])
        raise DeliveryError(f"Slack refused the reply: {body[:80]}", permanent=True, code=body[:40])

    def publish_home(self, team_id: str, user: str, view: dict[str, Any]) -> None:
        self._call(team_id, "views.publish", self._client_for(team_id).views_publish, user_id=user, view=view)

    def members(self, team_id: str, channel: str | None = None, usergroup: str | None = None) -> list[str]:
        """Members of a channel (conversations.members, every page) or a user group, without this bot."""
        client = self._client_for(team_id)
        if usergroup:
            found = list(self._call(team_id, "usergroups.users.list", client.usergroups_users_list, in_place=True,
                                    usergroup=usergroup).get("users", []))
        else:
            found, cursor = [], None
            target = self.channel_id(team_id, channel or "", in_place=True)
            while True:
                resp = self._call(team_id, "conversations.members", client.conversations_members, in_place=True,
                                  channel=target, limit=200, cursor=cursor)
                found += resp.get("members", [])
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        bot = self._bot_user(team_id)
        return [user for user in dict.fromkeys(found) if user != bot]

    def time_zone(self, team_id: str, user: str) -> str | None:
        """users.info's `tz` (scope users:read); None for a user without one."""
        found = self._call(team_id, "users.info", self._client_for(team_id).users_info, in_place=True, user=user)
        return (found.get("user") or {}).get("tz") or None

    def _bot_user(self, team_id: str) -> str:
        with self._lock:
            cached = self._bots.get(team_id)
        if cached is None:
            cached = self._call(team_id, "auth.test", self._client_for(team_id).auth_test,
                                in_place=True).get("user_id", "")
            with self._lock:
                self._bots[team_id] = cached
        return cached

    def channel_id(self, team_id: str, channel: str, in_place: bool = False) -> str:
        """`#name` → channel id, `U…` → the bot's DM with that user; ids pass through. Cached."""
        if not channel.startswith(("#", "U", "W")):
            return channel
        with self._lock:
            cached = self._channels.get((team_id, channel))
        if cached:
            return cached
        client = self._client_for(team_id)
        if channel.startswith("#"):
            found = self._find_channel(team_id, client, channel[1:], in_place)
        else:
            found = self._call(team_id, "conversations.open", client.conversations_open, in_place=in_place,
                               users=channel)["channel"]["id"]
        with self._lock:
            self._channels[(team_id, channel)] = found
        return found

    def _find_channel(self, team_id: str, client: WebClient, name: str, in_place: bool) -> str:
        cursor = None
        while True:
            resp = self._call(team_id, "conversations.list", client.conversations_list, in_place=in_place,
                              types="public_channel,private_channel", limit=200, exclude_archived=True,
                              cursor=cursor)
            for channel in resp.get("channels", []):
                if channel.get("name") == name:
                    return channel["id"]
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise DeliveryError(f"no channel named #{name}: create it or change the channel in AURUM_CONFIG",
                                    permanent=True, code="channel_not_found")

    def _channel_turn(self, team_id: str, channel: str) -> None:
        wait = self.pacing.channel_wait(team_id, channel)
        if wait > 0:
            raise Later(f"pacing messages into {channel}", timedelta(seconds=wait))

    def _call(self, team_id: str, name: str, method: Callable[..., Any], in_place: bool = False,
              **kwargs: Any) -> Any:
        """Call a Web API method in its turn (`in_place`: wait here rather than put the task back)."""
        wait = self.pacing.method_wait(team_id, name)
        while wait > 0:
            if not in_place:
                raise Later(f"pacing {name} calls", timedelta(seconds=wait))
            time.sleep(min(wait, 5.0))
            wait = self.pacing.method_wait(team_id, name)
        kwargs = {k: outgoing(v) for k, v in kwargs.items() if v is not None}  # the text policy's last word
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            response = exc.response
            error = response.get("error", "") if hasattr(response, "get") else ""
            if response.status_code == 429:
                raise DeliveryError("Slack rate limit (429)", retry_after=_retry_after(response.headers)) from None
            if response.status_code >= 500:
                raise DeliveryError(f"Slack server error {response.status_code}") from None
            raise DeliveryError(f"Slack refused the call: {error}", permanent=error in PERMANENT,
                                code=error) from None
        except (SlackClientError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"could not reach Slack: {type(exc).__name__}") from None


def _retry_after(headers: Any) -> float:
    try:
        return float(headers.get("Retry-After", headers.get("retry-after", 1)))
    except (TypeError, ValueError):
        return 1.0
