"""Whether every channel the config file names is one the bot can post in, asked of Slack (conversations.list)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)


def channel_problems(client: WebClient, uses: Mapping[str, list[str]]) -> list[str]:
    """One line per channel the bot cannot post in (or can post in, but not share files in), with the config keys
    that name it and the fix. `uses`: channel (`#name` or id) → config keys (AurumConfig.posting_channels)."""
    if not uses:
        return []
    by_name: dict[str, dict[str, Any]] = {}
    by_id: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:  # public channels, and the private ones the bot is in
        resp = client.conversations_list(types="public_channel,private_channel", exclude_archived=True, limit=200,
                                         cursor=cursor)
        listed: list[dict[str, Any]] = resp.get("channels") or []
        for entry in listed:
            by_id[entry["id"]] = entry
            by_name[entry.get("name", "")] = entry
        cursor = (resp.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    problems = []
    for channel, keys in uses.items():
        found = by_name.get(channel[1:]) if channel.startswith("#") else by_id.get(channel)
        where = f"{channel} ({', '.join(keys)})"
        if found is None:
            problems.append(f"{where}: Slack knows no such channel, or it is private and I am not in it. Correct "
                            f"the name in the config file, create the channel, or `/invite @Aurum` in it")
        elif not found.get("is_member"):
            problems.append(f"{where}: I am not in it: messages reach it, charts and files do not. "
                            f"`/invite @Aurum` in {channel}")
    return problems


def log_channel_problems(client: WebClient, uses: Mapping[str, list[str]], team_id: str | None = None) -> list[str]:
    """Start-up: log each channel problem of a workspace as a warning (nothing when Slack cannot be asked)."""
    try:
        problems = channel_problems(client, uses)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("could not check the configured channels", extra={"team_id": team_id,
                                                                      "error": type(exc).__name__})
        return []
    for problem in problems:
        log.warning("channel problem: %s", problem, extra={"team_id": team_id})
    return problems
