"""The team survey's questions picked from the question bank in Slack, through signed requests: the next run asks
them, an open run keeps its own, rotating questions take turns run by run."""

from __future__ import annotations

import pytest

from aurum.surveys import runs
from aurum.surveys.answers import RESPONSE_MARKER
from aurum.surveys.bank import bank
from aurum.surveys.blocks import TAKE_ACTION
from storage import surveys as repo
from tests.blockkit import VIEW_CAP, assert_valid_blocks, assert_valid_view
from tests.settings.conftest import ADMIN
from tests.settings.support import TEAM, home_button, submission, text
from tests.support import is_reply
from tests.surveys.support import block_action, view_submission

PEOPLE = ["U1", "U2"]


@pytest.fixture
def settings(settings, tmp_path):
    config = tmp_path / "team.yml"
    config.write_text("channels:\n  team: '#engineering'\n", encoding="utf-8")
    return settings.model_copy(update={"aurum_config": config})


@pytest.fixture(autouse=True)
def team_channel(fake_slack):
    fake_slack.set_members(fake_slack.add_channel("#engineering"), PEOPLE)


def options(*ids: str) -> dict:
    return {"type": "multi_static_select",
            "selected_options": [{"text": {"type": "plain_text", "text": i}, "value": i} for i in ids]}


def option(value: str | None) -> dict:
    selected = {"text": {"type": "plain_text", "text": value}, "value": value} if value else None
    return {"type": "static_select", "selected_option": selected}


def pick(slack, fixed: list[str], rotating: list[str] = (), rotation: str | None = None) -> dict:
    values = {f"slot:{n}": option(fixed[n - 1] if n <= len(fixed) else None) for n in range(1, 11)}
    values |= {"rotating": options(*rotating), "rotation": text(rotation)}
    response = slack.interaction(submission("questions", ADMIN, values))
    assert response.status_code == 200
    return response.json()


def opened_run(runtime, period: str):
    ctx = runtime.ctx
    with ctx.serving(TEAM), ctx.transaction() as session:
        assert runs.open_run(ctx, session, TEAM, "team", period, scheduled=False).startswith("opened")
        return repo.run_by_period(session, TEAM, "team", period)


def form_of(slack, fake_slack, run_id: int, user: str = "U1") -> list[str]:
    """The labels of the survey form the person gets from the invitation's button."""
    before = len(fake_slack.views)
    slack.interaction(block_action(TAKE_ACTION, str(run_id), user=user))
    fake_slack.wait_for("views.open", count=before + 1)
    view = fake_slack.views[-1]["view"]
    assert_valid_view(view)
    assert_valid_blocks(view["blocks"], VIEW_CAP)
    return [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]


def label(runtime, qid: str) -> str:
    return next(q.label for q in bank(runtime.ctx.config.surveys.survey("team")) if q.id == qid)


def test_the_questions_form_offers_the_bank_within_slacks_limits(runtime, server, slack, fake_slack):
    slack.interaction(home_button("questions", ADMIN))
    fake_slack.wait_for("views.open")
    view = fake_slack.views[-1]["view"]
    assert_valid_view(view)
    assert_valid_blocks(view["blocks"], VIEW_CAP)
    assert view["title"]["text"] == "Survey questions" and len(view["title"]["text"]) <= 24
    selects = [b["element"] for b in view["blocks"] if b["type"] == "input" and "options" in b["element"]]
    assert selects and all(len(s["options"]) <= 100 for s in selects)
    values = {o["value"] for o in selects[0]["options"]}
    assert {"velocity", "priorities", "blockers", "keep_doing", "enps", "psych_safety", "one_change"} <= values
    assert "How likely are you to recommend this team as a place to work? (0–10)" in str(selects[0]["options"])
    assert selects[0]["initial_option"]["value"] == "velocity"  # the seed's questions, in order, to start with


def test_an_admin_picks_questions_the_next_run_asks_them_an_open_run_keeps_its_own(runtime, server, slack,
                                                                                  fake_slack):
    first = opened_run(runtime, "2026-W48")  # open with the seed's questions
    answer = pick(slack, ["priorities", "enps", "one_change"])
    assert answer["response_action"] == "update" and "surveys.team.questions" in str(answer["view"])

    assert form_of(slack, fake_slack, first.id) == [label(runtime, q) for q in
                                                   ("velocity", "priorities", "blockers", "keep_doing")]
    seed = runtime.ctx.config.surveys.survey("team")
    with runtime.ctx.reading() as session:
        kept = seed.as_asked(repo.get_run(session, TEAM, first.id).questions)
    answered = slack.interaction(view_submission(kept, first.id, {"q_velocity": "8", "q_priorities": "7"}))
    assert answered.json()["response_action"] == "update"  # the thank-you: answers match the run's questions

    second = opened_run(runtime, "2026-W49")
    assert form_of(slack, fake_slack, second.id) == [label(runtime, q) for q in ("priorities", "enps", "one_change")]
    invitation = fake_slack.wait_for(lambda c: c.method == "chat.postMessage" and "3 questions" in str(c.params))
    assert invitation


def test_rotating_questions_take_turns_in_consecutive_runs(runtime, server, slack, fake_slack):
    assert pick(slack, ["velocity"], ["workload", "focus_time", "pace"], "1")["response_action"] == "update"
    asked = []
    for period in ("2026-W48", "2026-W49", "2026-W50", "2026-W51"):
        run = opened_run(runtime, period)
        asked.append(form_of(slack, fake_slack, run.id)[1:])
        with runtime.ctx.transaction() as session:
            repo.close_run(session, repo.get_run(session, TEAM, run.id), runtime.ctx.now())
    assert asked == [[label(runtime, "workload")], [label(runtime, "focus_time")], [label(runtime, "pace")],
                     [label(runtime, "workload")]]


@pytest.mark.parametrize(("fixed", "rotating", "rotation", "field", "message"), [
    (["enps", "enps"], [], None, "slot:2", "is picked already (slot 1)"),
    (["enps"], ["enps"], None, "rotating", "is picked already (slot 1)"),
    ([], [], None, "slot:1", "Pick at least one question."),
    (["enps"], ["pace"], "two", "rotation", "'two' is not a whole number"),
    (["enps"], ["pace"], "3", "rotation", "rotation asks 3 rotating questions each run but 1 question is marked"),
])
def test_a_wrong_pick_is_said_on_its_field_and_nothing_is_stored(runtime, server, slack, fake_slack, fixed,
                                                                 rotating, rotation, field, message):
    answer = pick(slack, fixed, rotating, rotation)
    assert answer["response_action"] == "errors" and message in answer["errors"][field], answer
    assert [q.id for q in runtime.ctx.config.surveys.survey("team").questions][:1] == ["velocity"]


def test_someone_not_an_admin_cannot_change_the_questions(runtime, server, slack, fake_slack):
    response = slack.interaction(submission("questions", "U1", {"slot:1": option("enps")}))
    assert "Only admins can change the bot's settings" in str(response.json()["view"])
    assert not any(is_reply(c) for c in fake_slack.calls)


def test_a_one_line_answer_is_checked_against_the_runs_rotating_questions(runtime, server, slack, fake_slack):
    pick(slack, ["velocity"], ["workload", "pace"], "1")
    run = opened_run(runtime, "2026-W48")
    slack.command("/survey", "answer 8", user="U1")
    refused = fake_slack.wait_for(lambda c: is_reply(c) and "Not saved" in c.params["text"])[0].params["text"]
    assert f"2. {label(runtime, 'workload')} — Please answer this question." in refused
    slack.command("/survey", "answer 8 | 4", user="U1")
    fake_slack.wait_for(lambda c: is_reply(c) and "Thank you" in c.params["text"])
    with runtime.ctx.reading() as session:
        stored = {(q, v) for _set, q, v, _n in repo.answers(session, run.id) if q != RESPONSE_MARKER}
    assert {("velocity", "8"), ("workload", "4")} <= stored
