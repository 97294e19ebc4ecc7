"""The Delivery and Directory seams over the Slack Web API (slack_sdk WebClient)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from aurum.core.delivery import DeliveryError, Posted

log = logging.getLogger(__name__)
MARKER_EVENT = "aurum_outbox"
# Errors that no retry will cure: the message goes to the dead letters with this reason.
PERMANENT = {
    "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "invalid_auth", "account_inactive",
    "token_revoked", "msg_too_long", "no_text", "invalid_arguments", "missing_scope", "not_authed",
    "user_not_found", "cannot_dm_bot", "message_not_found", "cant_update_message", "invalid_blocks_format",
    "team_access_not_granted", "restricted_action", "file_not_found",
}


class SlackDelivery:
    def __init__(self, client_for: Callable[[str], WebClient]):
        self._client_for = client_for
        self._channels: dict[tuple[str, str], str] = {}
        self._bots: dict[str, str] = {}
        self._lock = threading.Lock()

    def post(self, team_id: str, channel: str, text: str, blocks: list[dict[str, Any]] | None = None, *,
             thread_ts: str | None = None, user: str | None = None, marker: str | None = None) -> Posted:
        client = self._client_for(team_id)
        target = self.channel_id(team_id, channel)
        if user:
            resp = self._call(client.chat_postEphemeral, channel=target, user=user, text=text, blocks=blocks,
                              thread_ts=thread_ts)
            return Posted(channel=target, ts=resp.get("message_ts", ""))
        metadata = {"event_type": MARKER_EVENT, "event_payload": {"key": marker}} if marker else None
        resp = self._call(client.chat_postMessage, channel=target, text=text, blocks=blocks, thread_ts=thread_ts,
                          metadata=metadata, unfurl_links=False, unfurl_media=False)
        return Posted(channel=resp["channel"], ts=resp["ts"])

    def update(self, team_id: str, channel: str, ts: str, text: str,
               blocks: list[dict[str, Any]] | None = None) -> None:
        self._call(self._client_for(team_id).chat_update, channel=channel, ts=ts, text=text, blocks=blocks)

    def upload_file(self, team_id: str, channel: str, content: bytes, *, filename: str, title: str,
                    comment: str = "", thread_ts: str | None = None) -> str:
        target = self.channel_id(team_id, channel)
        resp = self._call(self._client_for(team_id).files_upload_v2, channel=target, content=content,
                          filename=filename, title=title, initial_comment=comment or None, thread_ts=thread_ts)
        files = resp.get("files") or [resp.get("file") or {}]
        return files[0].get("id", "")

    def find_posted(self, team_id: str, channel: str, marker: str, since_ts: float,
                    thread_ts: str | None = None) -> Posted | None:
        client = self._client_for(team_id)
        target = self.channel_id(team_id, channel)
        if thread_ts:
            resp = self._call(client.conversations_replies, channel=target, ts=thread_ts, oldest=f"{since_ts:.6f}",
                              include_all_metadata=True, limit=200)
        else:
            resp = self._call(client.conversations_history, channel=target, oldest=f"{since_ts:.6f}",
                              include_all_metadata=True, limit=200)
        for message in resp.get("messages", []):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == marker:
                return Posted(channel=target, ts=message["ts"])
        return None

    def members(self, team_id: str, channel: str | None = None, usergroup: str | None = None) -> list[str]:
        """Members of a channel (conversations.members, every page) or a user group, without this bot."""
        client = self._client_for(team_id)
        if usergroup:
            found = list(self._call(client.usergroups_users_list, usergroup=usergroup).get("users", []))
        else:
            found, cursor = [], None
            target = self.channel_id(team_id, channel or "")
            while True:
                resp = self._call(client.conversations_members, channel=target, limit=200, cursor=cursor)
                found += resp.get("members", [])
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        bot = self._bot_user(team_id)
        return [user for user in dict.fromkeys(found) if user != bot]

    def _bot_user(self, team_id: str) -> str:
        with self._lock:
            cached = self._bots.get(team_id)
        if cached is None:
            cached = self._call(self._client_for(team_id).auth_test).get("user_id", "")
            with self._lock:
                self._bots[team_id] = cached
        return cached

    def channel_id(self, team_id: str, channel: str) -> str:
        """`#name` → channel id, `U…` → the bot's DM with that user; ids pass through. Cached."""
        if not channel.startswith(("#", "U", "W")):
            return channel
        with self._lock:
            cached = self._channels.get((team_id, channel))
        if cached:
            return cached
        client = self._client_for(team_id)
        if channel.startswith("#"):
            found = self._find_channel(client, channel[1:])
        else:
            found = self._call(client.conversations_open, users=channel)["channel"]["id"]
        with self._lock:
            self._channels[(team_id, channel)] = found
        return found

    def _find_channel(self, client: WebClient, name: str) -> str:
        cursor = None
        while True:
            resp = self._call(client.conversations_list, types="public_channel,private_channel", limit=200,
                              exclude_archived=True, cursor=cursor)
            for channel in resp.get("channels", []):
                if channel.get("name") == name:
                    return channel["id"]
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise DeliveryError(f"no channel named #{name}: create it or change the channel in AURUM_CONFIG",
                                    permanent=True)

    @staticmethod
    def _call(method: Callable[..., Any], **kwargs: Any) -> Any:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            response = exc.response
            error = response.get("error", "") if hasattr(response, "get") else ""
            if response.status_code == 429:
                retry_after = float(response.headers.get("Retry-After", response.headers.get("retry-after", 1)))
                raise DeliveryError("Slack rate limit (429)", retry_after=retry_after) from None
            if response.status_code >= 500:
                raise DeliveryError(f"Slack server error {response.status_code}") from None
            raise DeliveryError(f"Slack refused the call: {error}", permanent=error in PERMANENT) from None
        except (SlackClientError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"could not reach Slack: {type(exc).__name__}") from None
