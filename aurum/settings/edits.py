"""One change of a workspace's settings: its document with the new values, checked as the config file is, stored
with a line per changed setting in the change log."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from aurum.config import ConfigError
from aurum.core.context import Context

ORIGIN = "settings"


def with_values(document: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the document with each dotted path set to its value (None: removed)."""
    changed = copy.deepcopy(document)
    for path, value in values.items():
        *parents, last = path.split(".")
        node = changed
        for key in parents:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return changed


def kpi_entry(ctx: Context, document: dict[str, Any], key: str, within: str = "") -> str:
    """The name under which the document's `kpis:` (under the dotted path `within`, e.g. a team's "teams.payments.")
    already changes the KPI (its key or an alias), else its key."""
    for part in filter(None, within.split(".")):
        found = document.get(part)
        document = found if isinstance(found, dict) else {}
    for name in document.get("kpis") or {}:
        found = ctx.catalog.resolve(str(name))
        if found is not None and found.key == key:
            return str(name)
    return key


def change(ctx: Context, team_id: str, user_id: str, values: Mapping[str, Any]) -> list[str]:
    """Store the workspace's settings with `values` (dotted path → value); ConfigError, nothing stored, when the
    result would not pass as a config file. Returns the changed paths."""
    assert ctx.live is not None, "settings are stored only by a context with a database"
    document = with_values(ctx.live.document(team_id), values)
    return ctx.live.replace(team_id, document, user_id, ctx.now(), ORIGIN)


def problem(exc: ConfigError) -> str:
    """A ConfigError's message for a form field: its problems, without the heading and the origin."""
    lines = [line.strip().removeprefix(f"{ORIGIN}:").strip() for line in str(exc).splitlines()[1:]]
    return "\n".join(lines)[:1900] or str(exc)[:1900]
