"""Survey definitions, config overrides, answer checking and the Block Kit builders (validated by slack_sdk)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from aurum.config import ConfigError, parse_config
from aurum.surveys import answers, blocks
from aurum.surveys.model import SurveyConfig, stored_questions
from storage.surveys import SurveyRun

OPENS = datetime(2026, 11, 27, 9, tzinfo=UTC)
RUN = SurveyRun(id=7, team_id="T1", survey="team", period="2026-W48", opens_at=OPENS,
                closes_at=OPENS + timedelta(days=3))


def _check_view(view: dict) -> dict:
    View(**view).to_dict()
    assert len(view["blocks"]) <= 100
    return view


def test_the_seed_surveys():
    surveys = SurveyConfig().definitions
    team, stakeholder = surveys["team"], surveys["stakeholder"]
    assert [(q.type, q.min, q.max) for q in team.scales] == [("scale", 1, 10), ("scale", 1, 10)]
    assert [q.type for q in team.questions] == ["scale", "scale", "text", "text"]
    assert [q.label for q in stakeholder.questions] == [
        "Are we delivering features that meet your needs?", "How is the quality of delivered features?",
        "What features are most important for next quarter?", "Any concerns about the current direction?"]
    assert [q.comment is not None for q in stakeholder.questions] == [True, True, False, False]


def test_stakeholder_modal_has_a_comment_box_beside_each_rating():
    survey = SurveyConfig().survey("stakeholder")
    view = _check_view(blocks.modal(survey, RUN, UTC, 5))
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == ["q_needs", "q_needs__comment", "q_quality", "q_quality__comment",
                                               "q_next_quarter", "q_concerns"]
    assert [b["optional"] for b in inputs] == [False, True, False, True, True, True]
    assert inputs[0]["element"]["options"][0]["text"]["text"] == "1 — not at all"


def test_a_team_may_replace_questions_with_single_choice_and_number_inputs():
    config = parse_config({"surveys": {"threshold": 4, "team": {"short_name": "Pulse", "questions": [
        {"id": "mood", "type": "single_choice", "label": "How was your week?", "options": ["Great", "OK", "Rough"]},
        {"id": "focus", "type": "scale", "label": "Focus time", "min": 0, "max": 40, "widget": "number"},
    ]}}}, "team.yml")
    survey = config.surveys.survey("team")
    view = _check_view(blocks.modal(survey, RUN, UTC, config.surveys.threshold, answered_before=True))
    elements = [b["element"] for b in view["blocks"] if b["type"] == "input"]
    assert elements[0]["type"] == "radio_buttons" and elements[1]["type"] == "number_input"
    assert "replaces your earlier answers" in str(view["blocks"][1])
    given, errors = answers.check(survey, {"q_mood": "Meh", "q_focus": "12.5"})
    assert errors == {"q_mood": "Choose one of the options.", "q_focus": "Enter a whole number from 0 to 40."}
    given, errors = answers.check(survey, {"q_mood": "OK", "q_focus": "12"})
    assert not errors and [(a.question_id, a.value, a.number) for a in given] == [("mood", "OK", None),
                                                                                ("focus", "12", 12.0)]


@pytest.mark.parametrize(("override", "message"), [
    ({"questions": [{"id": "a", "type": "text", "label": "x"}, {"id": "a", "type": "text", "label": "y"}]},
     "surveys.team.questions: question ids must be unique: a"),
    ({"questions": [{"id": "a", "type": "single_choice", "label": "x", "options": ["only"]}]},
     "surveys.team.questions.0: question a: single_choice needs 2 to 100 options"),
    ({"questions": [{"id": "a", "type": "text", "label": "x", "kpi": "priority_clarity"}]},
     "question a: only a scale question can feed a KPI"),
    ({"audience": {"channel": "#eng", "users": ["U1"]}}, "give exactly one of channel, usergroup or users"),
    ({"short_name": "A title far longer than a modal allows"}, "surveys.team.short_name"),
    ({"cadence": "daily"}, "surveys.team.cadence: unknown key 'cadence'. Valid keys: audience, name, questions, "
                          "response_rate_kpi, results_to, rotation, short_name"),
    ({"results_to": ["teem"]}, "surveys.team: unknown channel 'teem'; use a #name or a key of channels:"),
])
def test_bad_survey_overrides_name_the_file_and_field(override, message):
    with pytest.raises(ConfigError) as raised:
        parse_config({"surveys": {"team": override}}, "team.yml")
    assert f"team.yml: {message}" in str(raised.value) or message in str(raised.value)
    assert "team.yml" in str(raised.value)


def test_values_from_state_reads_every_element_kind():
    state = {"values": {
        "q_a": {"answer": {"type": "static_select", "selected_option": {"value": "7"}}},
        "q_b": {"answer": {"type": "plain_text_input", "value": "text"}},
        "q_c": {"answer": {"type": "number_input", "value": None}},
        "q_d": {"answer": {"type": "radio_buttons", "selected_option": None}},
    }}
    assert blocks.values_from_state(state) == {"q_a": "7", "q_b": "text", "q_c": None, "q_d": None}


def test_one_line_answers_follow_the_field_order():
    survey = SurveyConfig().survey("stakeholder")
    raw = answers.from_text(survey, "4 | fine | 3")
    assert raw == {"q_needs": "4", "q_needs__comment": "fine", "q_quality": "3", "q_quality__comment": None,
                   "q_next_quarter": None, "q_concerns": None}
    given, errors = answers.check(survey, raw)
    assert not errors and [a.question_id for a in given] == ["needs", "needs__comment", "quality"]


@pytest.mark.parametrize("builder", [
    lambda s: blocks.invitation(s, RUN, UTC, 5)[1],
    lambda s: blocks.reminder(s, RUN, UTC)[1],
    lambda s: blocks.status_message([(s, RUN, 3, 7, 2)], UTC),
    lambda s: blocks.status_message([], UTC),
])
def test_messages_are_valid_block_kit(builder):
    message = builder(SurveyConfig().survey("team"))
    assert len(message) <= 50
    for block in message:
        Block.parse(block).to_dict()


def test_notices_and_thanks_are_valid_views():
    survey = SurveyConfig().survey("team")
    closed = SurveyRun(**{**RUN.model_dump(), "state": "closed", "closed_at": RUN.closes_at})
    text = blocks.closed_text(survey, closed, OPENS + timedelta(days=7), UTC)
    assert text == ("The Team Satisfaction Survey of week 48 (27 Nov 2026) closed on Mon 30 Nov 09:00 UTC. "
                    "The next one opens Fri 04 Dec 09:00 UTC.")
    _check_view(blocks.notice_modal(survey.short_name, text))
    _check_view(blocks.thanks_modal(survey, RUN, UTC, replaced=False))


def test_the_console_prints_the_questions_and_how_to_answer(settings, tmp_path):
    from bot.compose import build_console
    from bot.console import run_command
    from bot.runtime import register_workspace

    runtime = build_console(settings.model_copy(update={"slack_bot_token": None, "aurum_admins": "U0CONSOLE"}))
    register_workspace(runtime)
    out = io.StringIO()
    run_command(runtime, "/survey", out)
    assert "not open right now" in out.getvalue()
    run_command(runtime, "/survey open", io.StringIO())
    out = io.StringIO()
    run_command(runtime, "/survey", out)
    printed = out.getvalue()
    assert "1. How satisfied are you with development velocity?" in printed
    assert "/survey answer <1> | <2> | <3> | <4>" in printed
    runtime.shutdown()


def _rotating(rotation: int) -> dict:
    fixed = {"id": "velocity", "type": "scale", "label": "Velocity?"}
    pool = [{"id": f"r{i}", "type": "text", "label": f"Rotating {i}?", "optional": True, "rotating": True}
            for i in range(3)]
    return {"surveys": {"team": {"questions": [fixed, *pool], "rotation": rotation}}}


def test_a_rotation_asks_the_next_rotating_questions_each_run_in_turn():
    survey = parse_config(_rotating(2)).surveys.survey("team")
    asked = [[q.id for q in survey.asked(turn)] for turn in range(3)]
    assert asked == [["velocity", "r0", "r1"], ["velocity", "r0", "r2"], ["velocity", "r1", "r2"]]
    assert [q.id for q in parse_config(_rotating(0)).surveys.survey("team").asked(5)] == \
        ["velocity", "r0", "r1", "r2"]  # no rotation: every question each run


def test_a_rotation_beyond_the_rotating_questions_says_what_to_change():
    with pytest.raises(ConfigError) as raised:
        parse_config(_rotating(4), "team.yml")
    assert "rotation asks 4 rotating questions each run but 3 questions are marked rotating: true" in str(raised.value)


def test_a_run_asks_the_questions_it_kept_whatever_the_settings_say_since():
    survey = parse_config(_rotating(1)).surveys.survey("team")
    kept = stored_questions(survey.asked(1))
    assert [q.id for q in survey.as_asked(kept).questions] == ["velocity", "r1"]
    assert survey.as_asked(None) is survey
