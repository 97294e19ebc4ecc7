"""manifest.yml validates against Slack's manifest schema and lists exactly the commands the app handles."""

from __future__ import annotations

import json

import jsonschema
import yaml

from tests.support import ROOT

SCHEMA = ROOT / "tests" / "data" / "slack-app-manifest.schema.1.0.0.json"


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_matches_slack_schema():
    jsonschema.validate(_manifest(), json.loads(SCHEMA.read_text()))


def test_manifest_commands_are_the_registered_ones(runtime):
    registered = set()
    for listener in runtime.app._listeners:
        for matcher in listener.matchers:
            name = getattr(matcher, "func", None)
            closure = getattr(name, "__closure__", None) or ()
            for cell in closure:
                if isinstance(cell.cell_contents, str) and cell.cell_contents.startswith("/"):
                    registered.add(cell.cell_contents)
    listed = {c["command"] for c in _manifest()["features"]["slash_commands"]}
    assert registered and listed == registered


def test_manifest_asks_for_the_scopes_the_bot_uses():
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "files:write", "im:write"} <= scopes
    assert "app_home_opened" in _manifest()["settings"]["event_subscriptions"]["bot_events"]
