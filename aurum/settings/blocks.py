"""Block Kit of the settings: the App Home section and the modals (pure functions: values in, dicts out)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aurum.alerts.rules import AlertRule
from aurum.core.text import escape
from aurum.kpis.blocks import actions, button, context, divider, section
from aurum.kpis.catalog import Catalog
from aurum.kpis.formatting import target
from aurum.surveys.model import Question, Survey

OPEN_PREFIX = "settings_open_"  # + the modal's kind: the App Home buttons
KINDS = {"kpi": "KPI target", "channels": "Channels", "schedules": "Schedules", "anonymity": "Anonymity",
         "questions": "Survey questions", "alert": "Alert rule"}
TEAM_KINDS = ("kpi", "channels")  # what a team's leads change, for their own team
CALLBACK_PREFIX = "settings_"  # + the modal's kind, and "alert_save" for the dry run's confirmation
ALERT_SAVE = "alert_save"
VALUE = "value"  # the action_id of every input
MAX_OPTIONS = 100
SLOTS = 10  # the survey questions asked every run, in order: a select each


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(text: str, value: str) -> dict:
    return {"text": _plain(text[:75]), "value": value[:150]}


def _modal(kind: str, blocks: list[dict], submit: str = "Save", metadata: dict | None = None,
           callback: str | None = None) -> dict:
    view = {"type": "modal", "callback_id": CALLBACK_PREFIX + (callback or kind), "title": _plain(KINDS[kind]),
            "submit": _plain(submit), "close": _plain("Cancel"), "blocks": blocks[:100]}
    if metadata is not None:
        view["private_metadata"] = json.dumps(metadata)
    return view


def _input(block_id: str, label: str, element: dict, hint: str | None = None, optional: bool = False) -> dict:
    block = {"type": "input", "block_id": block_id, "label": _plain(label[:2000]),
             "element": {**element, "action_id": VALUE}, "optional": optional}
    if hint:
        block["hint"] = _plain(hint[:2000])
    return block


def _text(initial: str | None = None, placeholder: str | None = None) -> dict:
    element: dict[str, Any] = {"type": "plain_text_input"}
    if initial:
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    return element


def _select(options: list[dict], placeholder: str, groups: dict[str, list[dict]] | None = None) -> dict:
    """A static_select; past 100 options, grouped (each group at most 100, at most 100 groups)."""
    if len(options) <= MAX_OPTIONS or not groups:
        return {"type": "static_select", "options": options[:MAX_OPTIONS], "placeholder": _plain(placeholder)}
    return {"type": "static_select", "placeholder": _plain(placeholder),
            "option_groups": [{"label": _plain(label[:75]), "options": found[:MAX_OPTIONS]}
                              for label, found in list(groups.items())[:MAX_OPTIONS]]}


def home_section(changes: Sequence[tuple[datetime, str, str, str | None, str | None]], tz,
                 team: str = "") -> list[dict]:
    """Admins' part of the App Home: a button per setting, and the latest changes (at, who, path, before, after);
    given a team (its name), its leads' part: the settings of that team only."""
    lines = [f"{at.astimezone(tz):%d %b %H:%M} <@{user}> `{escape(path)}`: {escape(before or 'not set')} → "
             f"{escape(after or 'not set')}" for at, user, path, before, after in changes]
    kinds = [kind for kind in KINDS if not team or kind in TEAM_KINDS]
    heading = f"*Settings of {escape(team)}* (team leads)" if team else "*Settings* (admins)"
    return [divider(), section(heading),
            actions("settings_buttons", *(button(KINDS[kind], OPEN_PREFIX + kind) for kind in kinds)),
            context(*(line[:3000] for line in lines[:10])) if lines else context("No change made in Slack yet.")]


def _of_team(team: tuple[str, str] | None, what: str) -> tuple[list[dict], dict | None]:
    """For a team's form (its key and name): a line saying whose settings change, and the metadata naming it."""
    if team is None:
        return [], None
    return [section(f"{what} of *{escape(team[1])}* only; the workspace's stay as they are.")], {"team": team[0]}


def kpi_modal(catalog: Catalog, team: tuple[str, str] | None = None) -> dict:
    """A KPI's target, the workspace's; given a team (key, name), that team's own target over it."""
    intro, metadata = _of_team(team, "Targets")
    options = [_option(f"{kpi.name} ({target(kpi)})", kpi.key) for kpi in catalog]
    groups = {catalog.categories.get(c, c): [_option(f"{k.name} ({target(k)})", k.key) for k in kpis]
              for c, kpis in catalog.by_category().items()}
    return _modal("kpi", [
        *intro,
        _input("kpi", "KPI", _select(options, "Pick a KPI", groups)),
        _input("target", "Target", _text(placeholder="<200, >=99.9, 40-60"),
               hint="As the config file writes it: a band 40-60 (lower bound first) or a bound <200, <=3, >80."),
        _input("stretch", "Stretch goal", _text(placeholder="e.g. 150"), optional=True,
               hint="A number in the KPI's unit; leave empty to keep the current one."),
    ], metadata=metadata)


def channels_modal(channels: dict[str, str], team: tuple[str, str] | None = None) -> dict:
    """The channel of each kind of post, the workspace's; given a team (key, name), that team's own."""
    intro, metadata = _of_team(team, "Channels")
    blocks = [*intro, section("Pick the channel each kind of post goes to; leave one empty to keep it.")]
    for key, current in channels.items():
        element: dict[str, Any] = {"type": "conversations_select", "placeholder": _plain("Pick a channel"),
                                   "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
        if current.startswith(("C", "G")):
            element["initial_conversation"] = current
        blocks.append(_input(f"channel:{key}"[:255], key, element, hint=f"Now: {current}", optional=True))
    return _modal("channels", blocks, metadata=metadata)


def schedules_modal(rows: Sequence[tuple[str, str, str, list[datetime]]], tz) -> dict:
    """rows: (job, description, crontab, its next three run times)."""
    blocks = [section("Crontab lines (minute hour day month weekday) in the team's time zone.")]
    for name, description, cron, upcoming in rows[:99]:
        when = ", ".join(f"{at.astimezone(tz):%a %d %b %H:%M}" for at in upcoming) or "never"
        blocks.append(_input(f"job:{name}"[:255], f"{name} — {description}"[:2000], _text(cron),
                             hint=f"Next: {when}"))
    return _modal("schedules", blocks)


def _question_option(question: Question) -> dict:
    kind = f"{question.min}–{question.max}" if question.type == "scale" else question.type.replace("_", " ")
    return _option(f"{question.label} ({kind})", question.id)


def questions_modal(bank: Sequence[Question], survey: Survey) -> dict:
    """The team survey's questions picked from the bank: those asked every run in order, the rotating ones and how
    many of those each run asks."""
    options = [_question_option(q) for q in bank[:MAX_OPTIONS]]
    by_id = {q.id: option for q, option in zip(bank, options, strict=False)}
    fixed = [q for q in survey.questions if not q.rotating]
    blocks = [section("Pick the questions asked every run, in order, and the rotating ones: each run asks the next "
                      "few of those in turn. Changes apply from the next run; an open run keeps its questions.")]
    for slot in range(1, SLOTS + 1):
        element = {"type": "static_select", "options": options, "placeholder": _plain("Pick a question")}
        if slot <= len(fixed) and fixed[slot - 1].id in by_id:
            element["initial_option"] = by_id[fixed[slot - 1].id]
        blocks.append(_input(f"slot:{slot}", f"Question {slot}", element, optional=slot > 1))
    rotating: dict[str, Any] = {"type": "multi_static_select", "options": options,
                                "placeholder": _plain("Rotating questions")}
    chosen = [by_id[q.id] for q in survey.rotating if q.id in by_id]
    if chosen:
        rotating["initial_options"] = chosen
    blocks += [_input("rotating", "Rotating questions", rotating, optional=True,
                      hint="Asked in turn, a few each run, after the questions above."),
               _input("rotation", "Rotating questions asked each run",
                      _text(str(survey.rotation) if survey.rotation else None, "e.g. 2"), optional=True,
                      hint="A whole number; empty or 0: every rotating question each run.")]
    return _modal("questions", blocks)


def anonymity_modal(threshold: int) -> dict:
    return _modal("anonymity", [
        _input("threshold", "Fewest answers shown", _text(str(threshold)),
               hint="Survey results and comments show only once at least this many people answered."),
    ])


def alert_modal(rules: Sequence[AlertRule]) -> dict:
    options = [_option(f"{rule.name} ({rule.condition})", rule.name) for rule in rules]
    return _modal("alert", [
        section("Change what you want; leave a field empty to keep it. You see a dry run over the last 30 days "
                "before anything is saved."),
        _input("rule", "Alert rule", _select(options, "Pick a rule")),
        _input("threshold", "Threshold", _text(placeholder="e.g. 250"), optional=True),
        _input("for", "For (how long the condition holds before it fires)", _text(placeholder="e.g. 10m, 1h, 0s"),
               optional=True),
        _input("channels", "Channels", {"type": "multi_conversations_select", "placeholder": _plain("Channels"),
                                        "filter": {"include": ["public", "private"], "exclude_bot_users": True}},
               optional=True),
    ], submit="Dry run")


def alert_confirm_modal(rule: AlertRule, changes: dict[str, Any], fired_now: int, fired_new: int) -> dict:
    """The dry run of a rule's changes (threshold, for, channels), with Save; the changes ride in the metadata."""
    lines = [f"• {name}: " + (", ".join(f"<#{c}>" for c in value) if name == "channels" else escape(f"{value}"))
             for name, value in changes.items()]
    text = (f"*{escape(rule.name)}* ({escape(rule.condition)} now)\n" + "\n".join(lines) +
            f"\n\nWith these changes this rule would have fired *{fired_new}* time{'s' * (fired_new != 1)} in the "
            f"last 30 days (as it is now: {fired_now}). Save to apply them.")
    return _modal("alert", [section(text)], metadata={"rule": rule.name, "changes": changes}, callback=ALERT_SAVE)


def done_modal(kind: str, text: str) -> dict:
    return {"type": "modal", "title": _plain(KINDS[kind]), "close": _plain("Close"), "blocks": [section(text)]}


def values(state: dict[str, Any]) -> dict[str, Any]:
    """A view submission's state → each input block's value: text, a selected option's value, a conversation id,
    or a list of conversation ids."""
    found: dict[str, Any] = {}
    for block_id, inputs in (state.get("values") or {}).items():
        element = (inputs or {}).get(VALUE) or {}
        if "selected_conversations" in element:
            found[block_id] = element["selected_conversations"] or []
        elif "selected_options" in element:
            found[block_id] = [(option or {}).get("value") for option in element["selected_options"] or []]
        elif "selected_conversation" in element:
            found[block_id] = element["selected_conversation"]
        elif "selected_option" in element:
            found[block_id] = (element["selected_option"] or {}).get("value")
        else:
            found[block_id] = element.get("value")
    return found
