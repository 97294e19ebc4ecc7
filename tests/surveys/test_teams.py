"""The team survey of a workspace with teams: one run per team, asked of the team's people, its results to the
team's channel, and results by team that never single out fewer answers than the threshold."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from aurum.config import parse_config
from aurum.surveys import answers, blocks, breakdown, runs, service
from storage.queue import QueuedTask
from storage.surveys import SurveyRespondent, SurveyRun
from tests.surveys.support import TEAM_ANSWERS, answer

PEOPLE = {"payments": [f"UPAY{i}" for i in range(6)], "platform": [f"UPLAT{i}" for i in range(3)],
          "search": [f"USRCH{i}" for i in range(5)]}
VELOCITY = {"payments": "8", "platform": "2", "search": "5"}


def _teams(fake_slack) -> dict:
    fake_slack.set_members(fake_slack.add_channel("#payments"), PEOPLE["payments"])
    fake_slack.set_members("S0PLATFORM", PEOPLE["platform"])
    fake_slack.set_members(fake_slack.add_channel("#search"), PEOPLE["search"])
    return {"teams": {
        "payments": {"name": "Payments", "members": {"channel": "#payments"},
                     "channels": {"team": "#payments"}},
        "platform": {"members": {"usergroup": "S0PLATFORM"}},
        "search": {"members": {"channel": "#search"}, "survey_audience": {"channel": "#search"}},
    }}


def test_each_team_runs_its_own_survey_and_results_by_team_hide_what_would_single_out_a_small_team(
        runtime, fake_slack):
    ctx = runtime.ctx
    ctx.config = parse_config(_teams(fake_slack))
    team = fake_slack.team_id
    with ctx.transaction() as session:
        outcome = runs.open_job("team", ctx, session, team, "2026-W48")
    assert outcome == ("payments: opened 2026-W48 for 6 people; platform: opened 2026-W48 for 3 people; "
                       "search: opened 2026-W48 for 5 people")
    with ctx.reading() as session:
        opened = {run.squad: run for run in session.scalars(select(SurveyRun))}
        asked = {squad: sorted(session.scalars(select(SurveyRespondent.user_id).where(
            SurveyRespondent.run_id == run.id))) for squad, run in opened.items()}
    assert asked == {"": sorted(PEOPLE["payments"]), "platform": sorted(PEOPLE["platform"]),
                     "search": sorted(PEOPLE["search"])}  # payments, listed first, is the default team ("")
    for key, squad in (("payments", ""), ("platform", "platform"), ("search", "search")):
        for person in PEOPLE[key]:
            answer(ctx, team, person, opened[squad].id, {**TEAM_ANSWERS, "q_velocity": VELOCITY[key]})
    # `/survey answer` (no run named) goes to the run of the person's own team, replacing their answers there.
    given, _errors = answers.check(ctx.config.surveys.survey("team"), {**TEAM_ANSWERS, "q_velocity": "2"})
    again = service.respond(ctx, team, "UPLAT0", "team", given)
    assert again.run.squad == "platform" and again.replaced

    clock = ctx.clock
    ctx.clock = lambda: clock() + timedelta(days=8)  # past each run's closing time
    with ctx.transaction() as session:
        runs.close_job("team", ctx, session, team, "2026-12-02")
        found = breakdown.by_team(ctx, session, team, "team", "2026-W48")
    # platform (3 answers) is below the threshold (5); with it alone hidden, the total minus the shown teams would
    # be its 3 answers: search, the smallest shown team, is hidden too.
    assert {t.squad: (t.responses, t.shown) for t in found.teams} == {
        "": (6, True), "platform": (3, False), "search": (5, False)}
    assert found.responses == 14
    assert found.means["velocity"] == (6 * 8 + 3 * 2 + 5 * 5) / 14  # every answer counts in the total
    assert [t.means for t in found.teams] == [{"velocity": 8.0, "priorities": 6.0}, {}, {}]
    text, message = blocks.breakdown_message(found, {"": "Payments", "platform": "platform", "search": "search"})
    shown = str(message)
    assert "*Payments* — 6 answers" in shown and "velocity" not in text
    assert "*platform* — 3 answers: no results of its own" in shown
    assert "*search* — 5 answers: no results of its own" in shown
    # Each team's results go to the team's channels: payments' `team` channel is its own #payments.
    with ctx.reading() as session:
        keys = set(session.scalars(select(QueuedTask.key).where(QueuedTask.key.like("survey:%:results:%"),
                                                                QueuedTask.key.not_like("%:chart"))))
    assert keys == {f"survey:{opened[''].id}:results:#payments", f"survey:{opened[''].id}:results:#scrum-masters",
                    *(f"survey:{opened[s].id}:results:{c}" for s in ("platform", "search")
                      for c in ("#engineering", "#scrum-masters"))}
