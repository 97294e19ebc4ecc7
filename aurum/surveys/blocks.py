"""Block Kit for surveys: the modal, the invitation and reminder DMs, the results and status messages.

Pure functions (values in, dicts out). The interaction ids live here because both the scheduled jobs (the DM
buttons) and commands/survey_modal.py (their handlers) need them, and domain code may not import commands/.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aurum.kpis.blocks import actions, button, capped, context, escape, header, section
from aurum.surveys.answers import Field, fields
from aurum.surveys.breakdown import Breakdown
from aurum.surveys.model import Question, Survey
from aurum.surveys.results import Results
from storage.surveys import SurveyRun

CALLBACK_ID = "survey_submit"
ANSWER_ACTION = "answer"
TAKE_ACTION = "survey_take"
NO_REMINDER_ACTION = "survey_no_reminder"
INVITE_BLOCK = "survey_invite"
SPARKS = "▁▂▃▄▅▆▇█"


def when(at: datetime, tz) -> str:
    return at.astimezone(tz).strftime("%a %d %b %H:%M %Z")


def period_label(run: SurveyRun, tz) -> str:
    local = run.opens_at.astimezone(tz)
    if "-W" in run.period:
        return f"week {int(run.period.split('-W')[1])} ({local.strftime('%d %b %Y')})"
    return local.strftime("%B %Y")


def promise(threshold: int) -> str:
    return (f"🔒 *Anonymous.* Your answers are stored without your name; Aurum keeps only *whether* you answered "
            f"(for the one reminder). Results show only totals, and only once at least {threshold} people answered; "
            "comments appear without names.")


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(text: str, value: str) -> dict:
    return {"text": _plain(text[:75]), "value": value[:75]}


def _scale_element(question: Question) -> dict:
    if question.widget == "number":
        return {"type": "number_input", "action_id": ANSWER_ACTION, "is_decimal_allowed": False,
                "min_value": str(question.min), "max_value": str(question.max)}
    ends = {question.min: question.min_label, question.max: question.max_label}
    options = [_option(f"{v} — {ends[v]}" if ends.get(v) else str(v), str(v))
               for v in range(question.min, question.max + 1)]
    return {"type": "static_select", "action_id": ANSWER_ACTION, "options": options,
            "placeholder": _plain(f"{question.min} to {question.max}")}


def _element(item: Field) -> dict:
    question = item.question
    if item.comment or question.type == "text":
        return {"type": "plain_text_input", "action_id": ANSWER_ACTION, "multiline": True,
                "max_length": question.max_length}
    if question.type == "scale":
        return _scale_element(question)
    options = [_option(o, o) for o in question.options]
    if len(options) <= 10:
        return {"type": "radio_buttons", "action_id": ANSWER_ACTION, "options": options}
    return {"type": "static_select", "action_id": ANSWER_ACTION, "options": options,
            "placeholder": _plain("Choose one")}


def _hint(item: Field) -> str:
    question = item.question
    if item.comment:
        return ""
    if question.type == "scale" and (question.min_label or question.max_label):
        return f"{question.min} = {question.min_label or 'lowest'}, {question.max} = {question.max_label or 'highest'}"
    return question.hint


def input_block(item: Field) -> dict:
    block = {"type": "input", "block_id": item.block_id, "label": _plain(item.label[:2000]),
             "element": _element(item), "optional": item.comment or item.question.optional}
    hint = _hint(item)
    if hint:
        block["hint"] = _plain(hint[:2000])
    return block


def modal(survey: Survey, run: SurveyRun, tz, threshold: int, answered_before: bool = False) -> dict:
    notes = [f"{escape(survey.name)} · {period_label(run, tz)} · open until {when(run.closes_at, tz)}"]
    if answered_before:
        notes.append("You have answered already: sending again replaces your earlier answers.")
    return {
        "type": "modal", "callback_id": CALLBACK_ID, "title": _plain(survey.short_name[:24]),
        "submit": _plain("Send anonymously"), "close": _plain("Cancel"),
        "private_metadata": json.dumps({"run": run.id, "survey": survey.key}),
        "blocks": [section(promise(threshold)), context(*notes), *(input_block(f) for f in fields(survey))],
    }


def notice_modal(title: str, text: str) -> dict:
    return {"type": "modal", "title": _plain(title[:24]), "close": _plain("Close"), "blocks": [section(text)]}


def closed_text(survey: Survey, run: SurveyRun | None, next_opening: datetime | None, tz) -> str:
    parts = []
    if run is not None and run.state == "closed":
        parts.append(f"The {escape(survey.name)} of {period_label(run, tz)} closed on "
                     f"{when(run.closed_at or run.closes_at, tz)}.")
    else:
        parts.append(f"The {escape(survey.name)} is not open right now.")
    parts.append(f"The next one opens {when(next_opening, tz)}." if next_opening else "No next run is scheduled.")
    return " ".join(parts)


def thanks_modal(survey: Survey, run: SurveyRun, tz, replaced: bool) -> dict:
    first = "Your answers replaced your earlier ones." if replaced else "Your answers are in."
    return notice_modal(survey.short_name, f"🙏 Thank you! {first} You can change them until "
                                           f"{when(run.closes_at, tz)} by taking the survey again.\n\n"
                                           "They are stored without your name.")


def values_from_state(state: dict[str, Any]) -> dict[str, str | None]:
    """A view_submission's state.values → the raw answer of each input block."""
    raw: dict[str, str | None] = {}
    for block_id, inputs in (state.get("values") or {}).items():
        element = (inputs or {}).get(ANSWER_ACTION) or {}
        selected = element.get("selected_option") or {}
        raw[block_id] = element.get("value") if "value" in element else selected.get("value")
    return raw


def invitation(survey: Survey, run: SurveyRun, tz, threshold: int) -> tuple[str, list[dict]]:
    count = len(survey.questions)
    text = f"The {survey.name} is open until {when(run.closes_at, tz)}"
    blocks = [
        section(f"👋 The *{escape(survey.name)}* is open until *{when(run.closes_at, tz)}*: {count} questions, "
                "about two minutes."),
        context(promise(threshold)),
        actions(INVITE_BLOCK, button("Take the survey", TAKE_ACTION, str(run.id), style="primary"),
                button("No reminder", NO_REMINDER_ACTION, str(run.id))),
    ]
    return text, blocks


def reminder(survey: Survey, run: SurveyRun, tz) -> tuple[str, list[dict]]:
    text = f"Reminder: the {survey.name} closes {when(run.closes_at, tz)}"
    blocks = [section(f"⏰ Reminder: the *{escape(survey.name)}* closes *{when(run.closes_at, tz)}*. "
                      "It takes about two minutes, and it is anonymous. This is the only reminder."),
              actions(INVITE_BLOCK, button("Take the survey", TAKE_ACTION, str(run.id), style="primary"))]
    return text, blocks


def _spark(distribution: list[tuple[int, int]]) -> str:
    top = max((c for _, c in distribution), default=0) or 1
    return "".join(SPARKS[round(c / top * (len(SPARKS) - 1))] if c else " " for _, c in distribution)


def _change(change: float | None, previous: SurveyRun | None) -> str:
    if change is None:
        return "no comparable earlier run" if previous is None else "change hidden (too few answers last time)"
    arrow = "→" if abs(change) < 0.05 else "↑" if change > 0 else "↓"
    return f"{arrow} {abs(change):.1f} vs {previous.period if previous else 'last run'}"


def _comment_sections(label: str, texts: list[str]) -> list[dict]:
    chunks, current = [], f"*{escape(label)}*"
    for text in texts:
        line = "\n• " + escape(" ".join(text.split()))[:1500]
        if len(current) + len(line) > 2900:
            chunks.append(current)
            current = ""
        current += line
    chunks.append(current)
    return [section(chunk.lstrip("\n")) for chunk in chunks]


def rate_line(responses: int, asked: int) -> str:
    pct = f" ({responses / asked:.0%})" if asked else ""
    return f"*{responses} of {asked} answered*{pct}"


def breakdown_message(found: Breakdown, labels: dict[str, str]) -> tuple[str, list[dict]]:
    """The organisation's results of a period and each team's (`labels`: squad → team name)."""
    survey, k = found.survey, found.threshold
    text = f"{survey.name}, {found.period}: {found.responses} answered in {len(found.teams)} teams"
    blocks = [header(f"📋 {survey.name} — {found.period} — by team")]
    if found.means:
        blocks.append(section(f"*All teams* — {found.responses} answers\n" + "\n".join(
            f"{escape(q.label)}: mean *{found.means[q.id]:.1f}*" for q in survey.scales if q.id in found.means)))
    else:
        blocks.append(section(f"Fewer than {k} people answered in all teams together, so no results are shown."))
    for team in found.teams:
        name = escape(labels.get(team.squad, team.squad))
        if team.shown:
            means = " · ".join(f"{escape(q.label)}: *{team.means[q.id]:.1f}*" for q in survey.scales
                               if q.id in team.means)
            blocks.append(section(f"*{name}* — {team.responses} answers\n{means}"))
        else:
            blocks.append(section(f"*{name}* — {team.responses} answers: no results of its own, to keep every answer "
                                  f"anonymous (fewer than {k}, or showing them would single out a smaller team)"))
    blocks.append(context(f"Anonymous: results need at least {k} answers, for each team and for every difference "
                          "between what shows"))
    return text, capped(blocks)


def results_message(results: Results, tz, chart_note: str | None = None) -> tuple[str, list[dict]]:
    run, survey = results.run, results.survey
    text = f"{survey.name}, {period_label(run, tz)}: {results.responses} of {results.asked} answered"
    closed = f" · closed {when(run.closed_at, tz)}" if run.closed_at else ""
    blocks = [header(f"📋 {survey.name} — {period_label(run, tz)}"),
              section(rate_line(results.responses, results.asked) + closed)]
    if results.flags:
        blocks.append(section("\n".join(results.flags)))
    if not results.shown:
        blocks.append(section(f"Fewer than {results.threshold} people answered, so no per-question results are "
                              "shown: that keeps every answer anonymous."))
    for scale in results.scales:
        q = scale.question
        counts = " · ".join(f"{v}×{c}" for v, c in scale.distribution if c)
        blocks.append(section(f"*{escape(q.label)}*\nMean *{scale.mean:.1f}* · median {scale.median:g} "
                              f"(of {q.min}–{q.max}) · {_change(scale.change, results.previous)}\n"
                              f"`{_spark(scale.distribution)}` {counts}"))
    for choice in results.choices:
        lines = [f"{escape(o)}: {c} ({c / choice.count:.0%})" for o, c in choice.distribution if choice.count]
        blocks.append(section(f"*{escape(choice.question.label)}*\n" + "\n".join(lines)))
    if results.themes:
        themes = " · ".join(f"{escape(t)} ({c})" for t, c in results.themes)
        blocks.append(section(f"*Frequent themes in blockers:* {themes}"))
    for label, texts in results.comments:
        blocks.extend(_comment_sections(label, texts))
    notes = [f"Anonymous: per-question results need at least {results.threshold} answers"]
    if chart_note:
        notes.append(chart_note)
    blocks.append(context(*notes))
    return text, capped(blocks, note="…more comments in `/survey export`")


def status_message(rows: list[tuple[Survey, SurveyRun, int, int, int]], tz, team: str = "") -> list[dict]:
    """(survey, open run, answered, asked, reminded) per open run: counts only. `team`: whose team survey run it
    shows ("" without teams)."""
    whose = [context(f"The team survey of {escape(team)}; the stakeholder survey is the workspace's.")] if team else []
    if not rows:
        return [section("No survey is open right now."), *whose]
    blocks = whose
    for survey, run, answered, asked, reminded in rows:
        blocks.append(section(f"*{escape(survey.name)}* · {period_label(run, tz)}\n{rate_line(answered, asked)}"
                              f" · closes {when(run.closes_at, tz)} · {reminded} reminded"))
    return blocks
