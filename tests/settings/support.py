"""Slack-shaped payloads of the settings modals: an App Home button press and a view submission."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aurum.settings.blocks import CALLBACK_PREFIX, OPEN_PREFIX, VALUE

TEAM = "T0001"  # the fake Slack's workspace


def home_button(kind: str, user: str) -> dict[str, Any]:
    return {
        "type": "block_actions", "token": "legacy", "api_app_id": "A0001", "trigger_id": "set by the sender",
        "team": {"id": TEAM, "domain": "test"}, "user": {"id": user, "team_id": TEAM},
        "container": {"type": "view", "view_id": "VHOME"}, "view": {"id": "VHOME", "type": "home"},
        "actions": [{"action_id": OPEN_PREFIX + kind, "block_id": "settings_buttons", "type": "button",
                     "action_ts": "1.0"}],
    }


def text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def option(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": value},
                                                         "value": value}}


def channel(value: str | None) -> dict[str, Any]:
    return {"type": "conversations_select", "selected_conversation": value}


def channels(values: list[str]) -> dict[str, Any]:
    return {"type": "multi_conversations_select", "selected_conversations": values}


def submission(callback: str, user: str, values: dict[str, dict[str, Any]],
               metadata: dict[str, Any] | None = None, team_id: str = TEAM) -> dict[str, Any]:
    return {
        "type": "view_submission", "token": "legacy", "api_app_id": "A0001", "trigger_id": "set by the sender",
        "team": {"id": team_id, "domain": "test"}, "user": {"id": user, "team_id": team_id, "name": user.lower()},
        "view": {
            "id": f"V{uuid.uuid4().hex[:8]}", "type": "modal", "callback_id": CALLBACK_PREFIX + callback,
            "team_id": team_id, "private_metadata": json.dumps(metadata or {}), "hash": "1", "blocks": [],
            "title": {"type": "plain_text", "text": "Settings"},
            "state": {"values": {block: {VALUE: element} for block, element in values.items()}},
        },
    }
