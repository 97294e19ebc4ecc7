"""What real Slack accepts, for FakeSlack: methods, their arguments and scopes, and rate-limit tiers.

The source is Slack's own Web API description (Swagger 2), slackapi/slack-api-specs `web-api/slack_web_openapi_v2.json`
(MIT, copy and licence in tests/fakes/spec/). It predates some methods and arguments the bot uses; those are in the
small SUPPLEMENT tables below, each line citing the api.slack.com page it comes from.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

SPEC_PATH = Path(__file__).resolve().parent / "spec" / "slack_web_openapi_v2.json"
MANIFEST_PATH = Path(__file__).resolve().parents[2] / "manifest.yml"


@dataclass(frozen=True)
class MethodSpec:
    """A Web API method: the argument names Slack knows, and the scopes of which the token needs any one."""

    params: frozenset[str]
    scopes: tuple[str, ...] = ()  # any-of; () = no scope needed


# Methods newer than the spec. Arguments and scopes as documented on their pages.
SUPPLEMENT_METHODS: dict[str, MethodSpec] = {
    # https://api.slack.com/methods/files.getUploadURLExternal
    "files.getUploadURLExternal": MethodSpec(
        frozenset({"filename", "length", "alt_txt", "snippet_type", "token"}), ("files:write",)),
    # https://api.slack.com/methods/files.completeUploadExternal
    "files.completeUploadExternal": MethodSpec(
        frozenset({"files", "channel_id", "channels", "initial_comment", "thread_ts", "token"}), ("files:write",)),
    # https://api.slack.com/methods/oauth.v2.access (only used when the spec lacks it; this one has it)
    "oauth.v2.access": MethodSpec(
        frozenset({"client_id", "client_secret", "code", "redirect_uri", "grant_type", "refresh_token"})),
}

# Arguments added to existing methods after the spec was written (message metadata, 2022).
SUPPLEMENT_PARAMS: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"metadata"}),  # https://api.slack.com/methods/chat.postMessage#arg_metadata
    "chat.update": frozenset({"metadata"}),  # https://api.slack.com/methods/chat.update#arg_metadata
    # https://api.slack.com/methods/conversations.history#arg_include_all_metadata
    "conversations.history": frozenset({"include_all_metadata"}),
    # https://api.slack.com/methods/conversations.replies#arg_include_all_metadata
    "conversations.replies": frozenset({"include_all_metadata"}),
}

# Arguments slack_sdk adds to every call of a client made with `team_id` (slack_sdk/web/base_client.py: default_params),
# as Bolt makes its per-request clients (slack_bolt/app/app.py): Slack takes `team_id` on most methods for org-wide
# apps (https://api.slack.com/enterprise/apps) and otherwise ignores it. Harmless, so not a violation.
SDK_DEFAULT_PARAMS = frozenset({"team_id"})

# Web API rate-limit tiers, https://api.slack.com/apis/rate-limits: Tier 1 1+/min, Tier 2 20+/min, Tier 3 50+/min,
# Tier 4 100+/min, per method and workspace; "bursts are allowed" (the fake: a bucket of one minute's allowance,
# refilled continuously). Each method's tier is on its page, https://api.slack.com/methods/<method> ("Rate limits").
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
TIERS: dict[str, int] = {
    "auth.test": 4,  # "Special": in practice far above the bot's needs; treated as Tier 4
    "team.info": 3,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "conversations.open": 3,
    # conversations.history/replies are Tier 3 for Marketplace apps; since 2025-05 other new apps get 1/min.
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.members": 4,
    "conversations.list": 2,
    "users.info": 4,
    "users.conversations": 3,
    "usergroups.users.list": 2,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "oauth.v2.access": 4,
}
# chat.postMessage is "Special": about 1 message per second per channel, short bursts allowed, plus an undocumented
# workspace-wide limit (https://api.slack.com/methods/chat.postMessage#rate_limiting). Slack gives no burst size, so
# the fake's per-channel limit is opt-in: FakeSlack.rate_limit("chat.postMessage").


_SCOPE_RE = re.compile(r"Requires scope: `([^`]+)`")


@functools.cache
def methods() -> dict[str, MethodSpec]:
    """Every method Slack knows, with its arguments and any-of scopes (spec plus supplement)."""
    spec = json.loads(SPEC_PATH.read_text())
    found: dict[str, MethodSpec] = {}
    for path, ops in spec["paths"].items():
        name = path.lstrip("/")
        params: set[str] = set()
        scopes: list[str] = []
        for op in ops.values():
            for param in op.get("parameters", []):
                params.add(param["name"])
                if param["name"] == "token":
                    scopes += _SCOPE_RE.findall(param.get("description") or "")
            for security in op.get("security", []):
                scopes += security.get("slackAuth", [])
        params |= SUPPLEMENT_PARAMS.get(name, frozenset())
        wanted = tuple(dict.fromkeys(s for s in scopes if s != "none"))
        found[name] = MethodSpec(frozenset(params), wanted)
    for name, extra in SUPPLEMENT_METHODS.items():
        found.setdefault(name, extra)
    return found


def manifest_bot_scopes(path: Path = MANIFEST_PATH) -> frozenset[str]:
    """The bot scopes the project's app manifest asks for (oauth_config.scopes.bot)."""
    import yaml

    manifest = yaml.safe_load(path.read_text())
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])
