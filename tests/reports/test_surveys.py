"""The reports' survey numbers equal the survey runs' results (checked by value, computed here by hand): runs opened,
answered by the team through the survey service and closed by the same functions the scheduled jobs call, on the
demo history with a controlled clock; below the anonymity threshold the reports show counts only."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest

from aurum import demo
from aurum.config import parse_config
from aurum.kpis import formatting
from aurum.reports import executive, quarterly, reminders, retro, sprints, weekly
from aurum.surveys import runs
from aurum.surveys.schedule import period_of
from storage import surveys as repo
from storage.workspaces import ensure
from tests.blockkit import assert_valid_blocks, text_of
from tests.surveys.support import answer

TEAM = "T0001"
DEMO_UNTIL = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # the demo history ends here; the active sprint starts
TEAM_PEOPLE = [f"U{i}" for i in range(1, 9)]  # 8 asked
STAKEHOLDERS = [f"US{i}" for i in range(1, 8)]  # 7 asked
VELOCITY_LABEL = "How satisfied are you with development velocity?"
PRIORITIES_LABEL = "How clear are the current priorities?"
NEEDS_LABEL = "Are we delivering features that meet your needs?"
QUALITY_LABEL = "How is the quality of delivered features?"

# Week 48 (opens Fri 27 Nov, closes Mon 30 Nov): 6 of 8 answer.
W48_VELOCITY = [8, 7, 9, 6, 8, 7]
W48_PRIORITIES = [5, 6, 7, 6, 5, 8]
W48_BLOCKERS = ["Flaky CI pipeline", "", "Slow code reviews", "", "", ""]
# Week 49 (opens Fri 4 Dec, closes Mon 7 Dec): 3 of 8 answer, below the threshold of 5.
W49_VELOCITY = [2, 3, 2]
# Stakeholder feedback of November (opens Wed 4 Nov, closes Wed 11 Nov): 6 of 7 answer.
NEEDS = [4, 5, 3, 4, 4, 5]
QUALITY = [3, 4, 4, 5, 3, 4]


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def run_survey(ctx, survey: str, opens: datetime, closes: datetime, people: list[str], raws: list[dict]) -> None:
    """Open the period's run (DMs to everyone asked), answer it as `raws[i]` from `people[i]`, close it when due."""
    ctx.clock = lambda: opens
    with ctx.transaction() as session:
        outcome = runs.open_run(ctx, session, TEAM, survey, period_of(survey, opens))
    assert outcome.startswith("opened"), outcome
    with ctx.reading() as session:
        run = repo.run_by_period(session, TEAM, survey, period_of(survey, opens))
    ctx.clock = lambda: opens + timedelta(hours=2)
    for user, raw in zip(people, raws, strict=False):
        answer(ctx, TEAM, user, run.id, raw, survey=survey)
    ctx.clock = lambda: closes
    with ctx.transaction() as session:
        assert runs.close_due(ctx, session, TEAM, survey) == [run.period]


def team_raw(velocity: int, priorities: int, blockers: str = "", keep: str = "Pairing") -> dict:
    return {"q_velocity": str(velocity), "q_priorities": str(priorities), "q_blockers": blockers or None,
            "q_keep_doing": keep}


def stakeholder_raw(needs: int, quality: int) -> dict:
    return {"q_needs": str(needs), "q_quality": str(quality), "q_needs__comment": None, "q_quality__comment": None,
            "q_next_quarter": "Scenario exports", "q_concerns": None}


@pytest.fixture
def survey_ctx(ctx):
    ctx.config = parse_config({"surveys": {"team": {"audience": {"users": TEAM_PEOPLE}},
                                           "stakeholder": {"audience": {"users": STAKEHOLDERS}}}})
    ctx.clock = lambda: DEMO_UNTIL
    with ctx.transaction() as session:
        ensure(session, TEAM)
        demo.load(session, ctx.catalog, TEAM, DEMO_UNTIL)
    return ctx


@pytest.fixture
def surveyed(survey_ctx):
    ctx = survey_ctx
    run_survey(ctx, "stakeholder", at(4, 10), at(11, 10), STAKEHOLDERS,
               [stakeholder_raw(n, q) for n, q in zip(NEEDS, QUALITY, strict=True)])
    run_survey(ctx, "team", at(27, 10), at(30, 10), TEAM_PEOPLE,
               [team_raw(v, p, b) for v, p, b in zip(W48_VELOCITY, W48_PRIORITIES, W48_BLOCKERS, strict=True)])
    run_survey(ctx, "team", at(4, 10, 12), at(7, 10, 12), TEAM_PEOPLE,
               [team_raw(v, 9, "Too many meetings") for v in W49_VELOCITY])
    return ctx


def build(ctx, module, now: datetime, *args):
    ctx.clock = lambda: now
    with ctx.reading() as session:
        return module.compute(ctx, session, TEAM, *args), module.build(ctx, session, TEAM, *args)


def mean(values: list[int]) -> float:
    return statistics.fmean(values)


def test_weekly_summary_shows_the_weeks_survey_as_the_run_computed_it(surveyed):
    data, report = build(surveyed, weekly, at(4, 17, 12))  # Friday 4 December: week 48's run closed Monday

    survey = data.survey
    assert (survey.period, survey.responses, survey.asked) == ("2026-W48", 6, 8)
    assert survey.response_rate == pytest.approx(6 / 8 * 100)
    assert {s.question: s.mean for s in survey.scores} == pytest.approx(
        {VELOCITY_LABEL: mean(W48_VELOCITY), PRIORITIES_LABEL: mean(W48_PRIORITIES)})
    text = text_of(report.blocks)
    assert (f"📝 *Team survey 2026-W48*\n{VELOCITY_LABEL}: {formatting.number(mean(W48_VELOCITY))}/10 · "
            f"{PRIORITIES_LABEL}: {formatting.number(mean(W48_PRIORITIES))}/10\n6 of 8 answered (75%)") in text
    impediments = [line for line in text.splitlines() if "IMPEDIMENT" in line]
    assert impediments == [f"• *IMPEDIMENT* (survey): {b}" for b in sorted(b for b in W48_BLOCKERS if b)]
    assert "Survey blockers" not in text  # the survey input exists
    assert_valid_blocks(report.blocks)


def test_weekly_summary_withholds_a_run_below_the_anonymity_threshold(surveyed):
    data, report = build(surveyed, weekly, at(11, 17, 12))  # week 49's run: 3 answers

    assert (data.survey.period, data.survey.responses, data.survey.scores, data.survey.blockers) == \
        ("2026-W49", 3, [], [])
    text = text_of(report.blocks)
    assert ("📝 *Team survey 2026-W49*\nscores hidden: fewer than 5 answers (anonymity)\n"
            f"3 of 8 answered ({formatting.number(3 / 8 * 100)}%)") in text
    assert "IMPEDIMENT" not in text and "Too many meetings" not in text
    assert formatting.number(mean(W49_VELOCITY)) not in text
    assert_valid_blocks(report.blocks)


def test_what_works_well_is_never_listed_as_an_impediment(survey_ctx):
    run_survey(survey_ctx, "team", at(27, 10), at(30, 10), TEAM_PEOPLE, [team_raw(7, 7) for _ in range(5)])
    data, report = build(survey_ctx, weekly, at(4, 17, 12))
    assert data.survey.responses == 5 and data.survey.blockers == []
    assert "IMPEDIMENT" not in text_of(report.blocks)


def test_sprint_retrospective_shows_the_survey_trend_across_the_sprint(surveyed):
    ctx = surveyed
    ctx.clock = lambda: at(8, 12, 12)
    with ctx.transaction() as session:
        sprint = sprints.end(ctx, session, TEAM, 44.0)
    data, report = build(ctx, retro, at(8, 12, 12), sprint)

    assert [(s.period, s.responses, s.asked) for s in data.surveys] == [("2026-W48", 6, 8), ("2026-W49", 3, 8)]
    text = text_of(report.blocks)
    assert (f"• Team Satisfaction Survey 2026-W48 — 6 of 8 answered (75%): {VELOCITY_LABEL}: "
            f"{formatting.number(mean(W48_VELOCITY))}/10 · {PRIORITIES_LABEL}: "
            f"{formatting.number(mean(W48_PRIORITIES))}/10") in text
    assert (f"• Team Satisfaction Survey 2026-W49 — 3 of 8 answered ({formatting.number(37.5)}%): scores hidden: "
            "fewer than 5 answers (anonymity)") in text
    assert "Survey: ⚠️ Response rate 38% is below 60%" in text  # the low turnout is a discussion point
    assert formatting.number(mean(W49_VELOCITY)) not in text
    assert_valid_blocks(report.blocks)


def test_executive_dashboard_and_monthly_agenda_show_the_stakeholder_feedback(surveyed):
    ctx = surveyed
    data, report = build(ctx, executive, at(2, 9, 12))  # the first Wednesday of December
    ctx.clock = lambda: at(2, 9, 12)
    with ctx.reading() as session:
        agenda = reminders.monthly_agenda(ctx, session, TEAM)

    feedback = data.stakeholders
    assert (feedback.period, feedback.responses, feedback.asked) == ("2026-11", 6, 7)
    assert feedback.response_rate == pytest.approx(6 / 7 * 100)
    assert {s.question: s.mean for s in feedback.scores} == pytest.approx({NEEDS_LABEL: mean(NEEDS),
                                                                          QUALITY_LABEL: mean(QUALITY)})
    line = (f"Stakeholder Feedback 2026-11 — 6 of 7 answered ({formatting.number(6 / 7 * 100)}%): "
            f"{NEEDS_LABEL}: {formatting.number(mean(NEEDS))}/5 · "
            f"{QUALITY_LABEL}: {formatting.number(mean(QUALITY))}/5")
    assert f"*🗣️ Stakeholder feedback*\n{line}" in text_of(report.blocks)
    assert line in text_of(agenda.blocks)
    assert_valid_blocks(report.blocks)
    assert_valid_blocks(agenda.blocks)


def test_executive_dashboard_withholds_stakeholder_scores_below_the_threshold(survey_ctx):
    run_survey(survey_ctx, "stakeholder", at(4, 10), at(11, 10), STAKEHOLDERS,
               [stakeholder_raw(n, q) for n, q in zip(NEEDS[:3], QUALITY[:3], strict=True)])
    data, report = build(survey_ctx, executive, at(2, 9, 12))

    assert (data.stakeholders.responses, data.stakeholders.scores) == (3, [])
    text = text_of(report.blocks)
    assert (f"Stakeholder Feedback 2026-11 — 3 of 7 answered ({formatting.number(3 / 7 * 100)}%): scores hidden: "
            "fewer than 5 answers (anonymity)") in text
    assert NEEDS_LABEL not in text and QUALITY_LABEL not in text


def test_executive_dashboard_says_when_no_stakeholder_feedback_closed(survey_ctx):
    _, report = build(survey_ctx, executive, at(2, 9, 12))
    assert "_Stakeholder feedback: not available yet_" in text_of(report.blocks)


def test_quarterly_pack_shows_the_survey_kpis_the_runs_wrote(surveyed):
    data, report = build(surveyed, quarterly, at(31, 17, 12))
    moves = {m.kpi.key: m for m in data.changes}

    # week 48 wrote the means; week 49 (3 answers) wrote only its response rate
    assert moves["team_satisfaction_velocity"].end == round(mean(W48_VELOCITY), 3)
    assert moves["priority_clarity"].end == round(mean(W48_PRIORITIES), 3)
    assert moves["survey_response_rate"].end == 37.5
    text = text_of(report.blocks)
    assert moves["survey_response_rate"].regressed
    assert f"*KPIs that regressed this quarter*\n• {moves['survey_response_rate'].line()}" in text
    assert (f"Satisfaction with development velocity is at {formatting.number(mean(W48_VELOCITY))} (target ≥7)"
            in text)  # the run's mean crossed the target: celebrated once, rolled into the quarter's achievements
    assert_valid_blocks(report.blocks)
