"""Anonymity: the schema joins no answer to a person, thresholds hide small groups, closing erases the link."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import inspect, select, text
from sqlmodel import SQLModel

from aurum.core import outbox
from aurum.surveys import answers, results, runs
from storage import queue as outbox_repo
from storage.rollups import KpiSnapshot
from storage.surveys import SurveyAnswer, SurveyRespondent
from tests.surveys.support import TEAM_ANSWERS, answer, seed_run

PEOPLE = [f"U{i}" for i in range(1, 10)]
PERSON_WORDS = ("user", "respondent", "person", "member", "who", "author", "slack_id")


def _close(ctx, run):
    with ctx.transaction() as session:
        return runs.close(ctx, session, run)


def _week(ctx, period: str, day: int, velocities: list[str], priorities: str = "6") -> results.Results:
    """A run that opened on `day` of November 2026, answered by len(velocities) people, then closed."""
    opens = datetime(2026, 11, day, 10, tzinfo=UTC)
    ctx.clock = lambda: opens + timedelta(hours=1)
    run = seed_run(ctx, "T1", PEOPLE, period=period, opens_at=opens)
    for user, velocity in zip(PEOPLE, velocities, strict=False):
        answer(ctx, "T1", user, run.id, {**TEAM_ANSWERS, "q_velocity": velocity, "q_priorities": priorities})
    return _close(ctx, run)


def test_no_table_joins_an_answer_to_a_person(ctx):
    schema = inspect(ctx.engine)
    answer_columns = {c["name"] for c in schema.get_columns("survey_answer")}
    assert answer_columns == {"run_id", "answer_set", "question_id", "team_id", "value", "number"}
    assert not any(word in column for column in answer_columns for word in PERSON_WORDS)
    assert not any("_at" in column or "time" in column for column in answer_columns)  # no timing to correlate
    assert [fk["referred_table"] for fk in schema.get_foreign_keys("survey_answer")] == ["survey_run"]
    for table in schema.get_table_names():
        referred = {fk["referred_table"] for fk in schema.get_foreign_keys(table)}
        assert "survey_answer" not in referred, f"{table} points at answers"
    respondent_columns = {c["name"] for c in schema.get_columns("survey_respondent")}
    assert not any("answer" in column for column in respondent_columns)
    assert schema.get_pk_constraint("survey_answer")["constrained_columns"] == ["run_id", "answer_set", "question_id"]
    if ctx.engine.dialect.name == "sqlite":  # no rowid that would number answers in submission order
        with ctx.engine.connect() as conn:
            ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'survey_answer'")).scalar_one()
        assert "WITHOUT ROWID" in ddl.upper()


def _is_text(column) -> bool:
    try:
        return column.type.python_type is str
    except NotImplementedError:
        return False


def _text_values(ctx, table) -> set[str]:
    columns = [c for c in table.columns if _is_text(c)]
    if not columns:
        return set()
    with ctx.reading() as session:
        return {str(v) for row in session.execute(select(*columns)) for v in row if v is not None}


def test_no_stored_value_links_respondents_and_answer_sets(ctx):
    run = seed_run(ctx, "T1", PEOPLE)
    for user in PEOPLE[:6]:
        answer(ctx, "T1", user, run.id, TEAM_ANSWERS)
    with ctx.reading() as session:
        sets = set(session.scalars(select(SurveyAnswer.answer_set)))
        nonces = set(session.scalars(select(SurveyRespondent.replace_nonce).where(
            SurveyRespondent.replace_nonce.is_not(None))))
    assert len(sets) == 6 and len(nonces) == 6
    for table in SQLModel.metadata.sorted_tables:  # every table, the outbox included
        if table.name != "survey_answer":
            assert not sets & _text_values(ctx, table), f"{table.name} holds an answer set"
    # the HMAC needs the server secret: the nonce alone gives nothing, and another secret gives other sets
    assert not {answers._answer_set(b"another secret", run.id, n) for n in nonces} & sets
    assert {answers._answer_set(ctx.survey_secret, run.id, n) for n in nonces} == sets

    _close(ctx, run)
    with ctx.reading() as session:
        assert session.scalars(select(SurveyRespondent.replace_nonce).where(
            SurveyRespondent.replace_nonce.is_not(None))).all() == []  # after close, nobody can link them


def test_postgres_transaction_ids_do_not_pair_respondents_with_answers_after_close(ctx):
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("xmin is a PostgreSQL system column")
    run = seed_run(ctx, "T1", PEOPLE)
    for user in PEOPLE[:5]:
        answer(ctx, "T1", user, run.id, TEAM_ANSWERS)
    _close(ctx, run)
    with ctx.reading() as session:
        respondent_xids = set(session.scalars(text("SELECT xmin::text FROM survey_respondent")))
        answer_xids = set(session.scalars(text("SELECT xmin::text FROM survey_answer")))
    assert len(respondent_xids) == 1 and not respondent_xids & answer_xids


def test_four_respondents_show_nothing_per_question(ctx):
    run = seed_run(ctx, "T1", PEOPLE)
    for i, user in enumerate(PEOPLE[:4]):
        answer(ctx, "T1", user, run.id, {**TEAM_ANSWERS, "q_velocity": str(2 + i), "q_blockers": f"secret {i}"})
    found = _close(ctx, run)
    assert found.responses == 4 and not found.shown
    assert found.scales == [] and found.comments == [] and found.themes == []
    with ctx.reading() as session:
        rows = outbox_repo.listing(session, limit=50, kinds=outbox.KINDS)
        kpis = {k.kpi for k in session.scalars(select(KpiSnapshot))}
    posted = [json.loads(r.payload) for r in rows if r.key.startswith(f"survey:{run.id}:results:")]
    assert posted and all("Fewer than 5 people answered" in json.dumps(p) for p in posted)
    dumped = json.dumps(posted)
    assert "secret" not in dumped and "Mean" not in dumped and "median" not in dumped
    assert "4 of 9 answered" in dumped
    assert kpis == {"survey_response_rate"}  # no mean stored below the threshold


def test_five_respondents_show_aggregates_and_comments(ctx):
    run = seed_run(ctx, "T1", PEOPLE)
    for i, user in enumerate(PEOPLE[:5]):
        answer(ctx, "T1", user, run.id, {**TEAM_ANSWERS, "q_velocity": str(4 + i), "q_blockers": f"flaky CI {i}"})
    found = _close(ctx, run)
    assert found.shown
    velocity = found.scales[0]
    assert (velocity.count, velocity.mean, velocity.median) == (5, 6.0, 6)
    assert dict(velocity.distribution)[4] == 1 and dict(velocity.distribution)[1] == 0
    assert found.comments[0][0] == "What's blocking your productivity this week?"  # blockers first
    assert sorted(found.comments[0][1]) == [f"flaky CI {i}" for i in range(5)]
    assert ("flaky ci", 5) in found.themes


def test_change_is_hidden_when_the_previous_run_had_too_few_answers(ctx):
    _week(ctx, "2026-W46", 13, ["2"] * 3)
    found = _week(ctx, "2026-W47", 20, ["8"] * 6)
    assert found.shown and found.scales[0].change is None  # else it would give away the hidden mean of 2
    assert found.trend[0].means == {} and found.trend[1].means["velocity"] == 8
    from aurum.surveys.runs import trend_alt_text

    alt = trend_alt_text(found)  # what the trend chart shows, for people who cannot see it
    assert alt.startswith(f"{found.survey.name}, last 2 runs (2026-W46 to 2026-W47)") and "response rate" in alt
    assert "How satisfied are you with development velocity?" in alt


def test_a_drop_of_a_point_and_a_low_response_rate_are_flagged(ctx):
    assert not _week(ctx, "2026-W46", 13, ["8"] * 8, priorities="7").flags
    found = _week(ctx, "2026-W47", 20, ["7"] * 5, priorities="7")
    assert found.scales[0].change == pytest.approx(-1.0) and found.scales[1].change == 0
    assert len(found.flags) == 2
    assert "development velocity?* dropped by 1.0 points since 2026-W46" in found.flags[0]
    assert "Response rate 56% is below 60%" in found.flags[1]


def test_results_message_is_valid_block_kit_within_the_cap(ctx):
    run = seed_run(ctx, "T1", [f"U{i}" for i in range(120)])
    for i in range(120):
        answer(ctx, "T1", f"U{i}", run.id, {**TEAM_ANSWERS, "q_blockers": f"{'waiting for review ' * 40} {i}",
                                            "q_keep_doing": "pairing " * 100})
    found = _close(ctx, run)
    from aurum.surveys.blocks import results_message

    _text, message = results_message(found, ctx.tz, chart_note="chart")
    assert len(message) <= 50
    for block in message:
        Block.parse(block).to_dict()
    assert "more comments in `/survey export`" in json.dumps(message[-1])


def test_results_go_to_the_team_channel_scrum_masters_and_their_dms(ctx):
    ctx.config = ctx.config.model_copy(update={"surveys": ctx.config.surveys.model_copy(
        update={"scrum_masters": ["USM1"]})})
    run = seed_run(ctx, "T1", PEOPLE)
    for user in PEOPLE[:5]:
        answer(ctx, "T1", user, run.id, TEAM_ANSWERS)
    _close(ctx, run)
    _close(ctx, run)  # closing twice posts nothing twice: the outbox keys are per run and destination
    with ctx.reading() as session:
        rows = [r for r in outbox_repo.listing(session, limit=100, kinds=outbox.KINDS)
                if r.key.startswith(f"survey:{run.id}:results")]
    posts = sorted(outbox.channel_of(r) for r in rows if r.kind == "post")
    assert posts == ["#engineering", "#scrum-masters", "USM1"]
    assert sorted(r.kind for r in rows) == ["post"] * 3 + ["upload"] * 3


def test_results_below_threshold_never_leak_through_the_export(ctx):
    from aurum.surveys.export import export

    run = seed_run(ctx, "T1", PEOPLE)
    for user in PEOPLE[:4]:
        answer(ctx, "T1", user, run.id, TEAM_ANSWERS)
    _close(ctx, run)
    with ctx.reading() as session:
        data = export(ctx, session, "T1")
    assert (data.runs, data.withheld, data.rows) == (0, 1, 0)
    assert data.content.decode().strip() == "survey,period,opened,closed,response,question_id,question,value"


def test_threshold_is_never_below_three():
    from aurum.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match="surveys.threshold"):
        parse_config({"surveys": {"threshold": 2}}, "team.yml")
    assert parse_config({"surveys": {"threshold": 3}}).surveys.threshold == 3


def test_themes_count_each_answer_once_and_prefer_phrases():
    found = results.themes(["Flaky tests in CI, flaky tests again", "flaky tests", "Slow code review",
                            "code reviews take days", "meetings"])
    assert found == [("code review", 2), ("flaky test", 2)]
