"""`/survey` and the survey modal through the real HTTP endpoint, with signed requests, into the fake Slack API."""

from __future__ import annotations

import contextlib
import csv
import io
import json

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import func, select

from aurum.surveys import runs, service
from aurum.surveys.blocks import NO_REMINDER_ACTION, TAKE_ACTION
from storage.surveys import SurveyAnswer, SurveyRespondent
from tests.support import is_reply
from tests.surveys.support import TEAM_ANSWERS, answer, block_action, seed_run, send_concurrently, view_submission

SEED_QUESTIONS = [
    "How satisfied are you with development velocity?",
    "How clear are the current priorities?",
    "What's blocking your productivity this week?",
    "What's working well that we should continue?",
]


@pytest.fixture
def settings(settings, tmp_path):
    config = tmp_path / "team.yml"
    config.write_text("channels:\n  team: '#engineering'\n  scrum_masters: '#scrum-masters'\n")
    return settings.model_copy(update={"aurum_admins": "UADMIN", "aurum_config": config})


@pytest.fixture(autouse=True)
def channels(fake_slack):
    fake_slack.add_channel("#engineering")
    fake_slack.add_channel("#scrum-masters")


@pytest.fixture
def team_run(runtime, fake_slack):
    return seed_run(runtime.ctx, fake_slack.team_id, [f"U{i}" for i in range(1, 8)])


def _survey(runtime):
    return runtime.ctx.config.surveys.survey("team")


def _answer_rows(runtime, run_id: int) -> list[tuple[str, str, str]]:
    with runtime.ctx.reading() as session:
        rows = session.execute(select(SurveyAnswer.answer_set, SurveyAnswer.question_id, SurveyAnswer.value)
                               .where(SurveyAnswer.run_id == run_id))
        return [tuple(r) for r in rows]


def _responses(runtime, run_id: int) -> int:
    return len({row[0] for row in _answer_rows(runtime, run_id)})


def test_survey_opens_a_valid_modal_with_the_four_seed_questions(runtime, server, slack, fake_slack, team_run):
    response = slack.command("/survey", "", user="U1")
    assert response.status_code == 200 and response.text == ""
    call = fake_slack.wait_for("views.open")[0]
    assert call.params["trigger_id"] in fake_slack.issued_trigger_ids  # the command's, issued by "Slack"
    view = fake_slack.views[0]["view"]
    View(**view).to_dict()  # raises SlackObjectFormationError on any Block Kit violation
    assert len(view["blocks"]) <= 100
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["label"]["text"] for b in inputs] == SEED_QUESTIONS
    assert [b["block_id"] for b in inputs] == ["q_velocity", "q_priorities", "q_blockers", "q_keep_doing"]
    assert inputs[0]["element"]["type"] == "static_select" and len(inputs[0]["element"]["options"]) == 10
    assert inputs[2]["element"]["type"] == "plain_text_input" and inputs[2]["element"]["max_length"] == 1000
    assert "Anonymous" in view["blocks"][0]["text"]["text"]  # the promise comes first
    assert json.loads(view["private_metadata"]) == {"run": team_run.id, "survey": "team"}


@pytest.mark.parametrize(("raw", "expected"), [
    ({"q_velocity": "11"}, {"q_velocity": "out of range"}),
    ({"q_velocity": "0", "q_priorities": None}, {"q_velocity": "out of range", "q_priorities": "Please answer"}),
    ({"q_priorities": None}, {"q_priorities": "Please answer"}),
    ({"q_blockers": "x" * 1001}, {"q_blockers": "1,000 characters"}),
    ({"q_blockers": "Flaky\x00 CI"}, {"q_blockers": "NUL character"}),  # no database stores them: never "again"
    ({"q_keep_doing": "Pair\ud800ing"}, {"q_keep_doing": "unpaired UTF-16 surrogate"}),
])
def test_bad_submissions_get_errors_keyed_to_the_block(runtime, server, slack, team_run, raw, expected):
    payload = view_submission(_survey(runtime), team_run.id, {**TEAM_ANSWERS, **raw})
    body = slack.interaction(payload).json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == set(expected)
    for block_id, fragment in expected.items():
        assert fragment in body["errors"][block_id]
    assert _responses(runtime, team_run.id) == 0


def test_a_valid_submission_is_stored_without_the_person(runtime, server, slack, team_run):
    body = slack.interaction(view_submission(_survey(runtime), team_run.id, TEAM_ANSWERS, user="U3")).json()
    assert body["response_action"] == "update"
    View(**body["view"]).to_dict()
    assert "Thank you" in body["view"]["blocks"][0]["text"]["text"]
    rows = _answer_rows(runtime, team_run.id)
    assert {(q, v) for _s, q, v in rows} == {("_response", ""), ("velocity", "8"), ("priorities", "6"),
                                            ("blockers", "Flaky CI pipeline"), ("keep_doing", "Pairing")}
    assert "U3" not in json.dumps(rows)
    with runtime.ctx.reading() as session:
        person = session.scalars(select(SurveyRespondent).where(SurveyRespondent.user_id == "U3")).one()
    assert person.responded_at is not None


def test_the_same_person_twice_leaves_one_response(runtime, server, slack, team_run):
    survey = _survey(runtime)
    slack.interaction(view_submission(survey, team_run.id, TEAM_ANSWERS, user="U2"))
    second = slack.interaction(view_submission(survey, team_run.id, {**TEAM_ANSWERS, "q_velocity": "3",
                                                                     "q_blockers": None}, user="U2")).json()
    assert "replaced your earlier ones" in second["view"]["blocks"][0]["text"]["text"]
    rows = _answer_rows(runtime, team_run.id)
    assert len({s for s, _q, _v in rows}) == 1
    assert {(q, v) for _s, q, v in rows} == {("_response", ""), ("velocity", "3"), ("priorities", "6"),
                                            ("keep_doing", "Pairing")}


def test_someone_not_asked_cannot_answer(runtime, server, slack, fake_slack, team_run):
    slack.command("/survey", "", user="UOTHER")
    fake_slack.wait_for("views.open")
    assert "not asked" in fake_slack.views[0]["view"]["blocks"][0]["text"]["text"]
    body = slack.interaction(view_submission(_survey(runtime), team_run.id, TEAM_ANSWERS, user="UOTHER")).json()
    assert body["response_action"] == "errors" and "not asked" in body["errors"]["q_velocity"]
    assert _responses(runtime, team_run.id) == 0


def _burst(server, payloads: list[dict], workdir) -> list[dict]:
    """Send all at once; anyone whose answer Slack would show as failed (Bolt gave up waiting for the ack after
    3 s, on an overloaded machine) sends the same answers again, as a person would."""
    results = send_concurrently(server.url, payloads, threads=len(payloads), workdir=workdir)
    failed = [i for i, r in enumerate(results) if r["status"] != 200]
    if failed:
        again = send_concurrently(server.url, [payloads[i] for i in failed], threads=1, workdir=workdir)
        for i, result in zip(failed, again, strict=True):
            results[i] = result
    assert [r["status"] for r in results] == [200] * len(payloads)
    return results


def test_500_concurrent_submissions_lose_none_and_duplicate_none(runtime, server, fake_slack, tmp_path):
    people = [f"U{i:04d}" for i in range(500)]
    run = seed_run(runtime.ctx, fake_slack.team_id, people)
    survey = _survey(runtime)
    payloads = [view_submission(survey, run.id, {**TEAM_ANSWERS, "q_velocity": str(1 + i % 10),
                                                 "q_blockers": f"blocker {i}"}, user=people[i]) for i in range(500)]
    results = _burst(server, payloads, tmp_path)
    assert {json.loads(r["body"])["response_action"] for r in results} == {"update"}
    rows = _answer_rows(runtime, run.id)
    blockers = sorted(v for _s, q, v in rows if q == "blockers")
    assert blockers == sorted(f"blocker {i}" for i in range(500))  # none lost, none twice
    assert len({s for s, _q, _v in rows}) == 500
    with runtime.ctx.reading() as session:
        answered = session.scalar(select(func.count(SurveyRespondent.responded_at))
                                  .where(SurveyRespondent.run_id == run.id))
    assert answered == 500


def test_concurrent_double_submits_by_the_same_people_keep_one_response_each(runtime, server, fake_slack, tmp_path):
    people = [f"U{i:03d}" for i in range(40)]
    run = seed_run(runtime.ctx, fake_slack.team_id, people)
    survey = _survey(runtime)
    payloads = [view_submission(survey, run.id, {**TEAM_ANSWERS, "q_velocity": str(1 + i % 2)}, user=people[i // 4])
                for i in range(160)]
    _burst(server, payloads, tmp_path)
    rows = _answer_rows(runtime, run.id)
    assert len({s for s, _q, _v in rows}) == 40
    assert sum(1 for _s, q, _v in rows if q == "velocity") == 40


def test_after_close_the_button_and_survey_say_closed_and_when_next(runtime, server, slack, fake_slack, team_run):
    with runtime.ctx.transaction() as session:
        runs.close(runtime.ctx, session, service.current_run(runtime.ctx, session, fake_slack.team_id, "team"))
    slack.interaction(block_action(TAKE_ACTION, str(team_run.id), user="U1"))
    slack.command("/survey", "", user="U1")
    fake_slack.wait_for("views.open", count=2)
    for call in fake_slack.views:
        View(**call["view"]).to_dict()
        text = call["view"]["blocks"][0]["text"]["text"]
        assert "closed on" in text and "The next one opens Fri" in text
    late = slack.interaction(view_submission(_survey(runtime), team_run.id, TEAM_ANSWERS, user="U1")).json()
    assert late["response_action"] == "update" and "closed on" in late["view"]["blocks"][0]["text"]["text"]
    assert _responses(runtime, team_run.id) == 0


def test_take_button_opens_the_modal_and_no_reminder_opts_out(runtime, server, slack, fake_slack, team_run):
    slack.interaction(block_action(TAKE_ACTION, str(team_run.id), user="U4"))
    fake_slack.wait_for("views.open")
    assert fake_slack.views[0]["view"]["callback_id"] == "survey_submit"
    slack.interaction(block_action(NO_REMINDER_ACTION, str(team_run.id), user="U4"))
    reply = fake_slack.wait_for(is_reply)[0].params
    assert "no reminder" in reply["text"]
    with runtime.ctx.reading() as session:
        person = session.scalars(select(SurveyRespondent).where(SurveyRespondent.user_id == "U4")).one()
    assert person.opted_out is True


def test_status_shows_counts_only(runtime, server, slack, fake_slack, team_run):
    answer(runtime.ctx, fake_slack.team_id, "U1", team_run.id, TEAM_ANSWERS)
    answer(runtime.ctx, fake_slack.team_id, "U2", team_run.id, TEAM_ANSWERS)
    slack.command("/survey", "status", user="U5")
    blocks = fake_slack.wait_for(is_reply)[0].params["blocks"]
    for block in blocks:
        Block.parse(block).to_dict()
    text = json.dumps(blocks)
    assert "2 of 7 answered" in text and "(29%)" in text
    assert "Flaky" not in text and "U1" not in text


def test_export_is_for_admins_and_has_no_user_ids(runtime, server, slack, fake_slack, team_run):
    people = [f"U{i}" for i in range(1, 8)]
    for i, user in enumerate(people[:6]):
        answer(runtime.ctx, fake_slack.team_id, user, team_run.id,
               {**TEAM_ANSWERS, "q_velocity": str(i + 3), "q_blockers": f"=HYPERLINK(\"x\") {i}"})
    with runtime.ctx.transaction() as session:
        runs.close(runtime.ctx, session, team_run)
    slack.command("/survey", "export", user="U1")
    refused = fake_slack.wait_for(is_reply)[0]
    assert refused.params["text"].startswith("Only admins can export survey answers")
    assert not [f for f in fake_slack.files.values() if f.filename.endswith(".csv")]

    slack.command("/survey", "export", user="UADMIN")
    fake_slack.wait_for(lambda c: c.method == "files.completeUploadExternal" and "Survey answers" in str(c.params))
    (upload,) = [f for f in fake_slack.files.values() if f.filename.endswith(".csv")]
    assert upload.channel == "DUADMIN"
    text = upload.bytes.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["survey", "period", "opened", "closed", "response", "question_id", "question", "value"]
    assert sorted({r["response"] for r in rows}) == ["1", "2", "3", "4", "5", "6"]
    assert sorted(int(r["value"]) for r in rows if r["question_id"] == "velocity") == [3, 4, 5, 6, 7, 8]
    assert all(r["value"].startswith("'=") for r in rows if r["question_id"] == "blockers")
    for user in [*people, "UADMIN"]:
        assert user not in text
    assert not any(v.startswith("U") for r in rows for v in r.values())


@pytest.mark.work_process
def test_survey_in_the_work_process_mode_opens_the_modal_once(runtime, server, slack, fake_slack, team_run):
    response = slack.command("/survey", "", user="U1")
    assert response.status_code == 200
    fake_slack.wait_for("views.open")
    with contextlib.suppress(AssertionError):  # the work process's part, if any (slow on a busy machine)
        fake_slack.wait_for("views.open", count=2, timeout=3)
    assert len(fake_slack.calls_to("views.open")) == 1 and len(fake_slack.views) == 1
