"""The survey schedule with a controlled clock: Friday 10:00 local, one reminder, Monday close, results once —
across daylight-saving changes, restarts, a clock process that was down, holidays and skipped dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from aurum.core.job_delivery import run_and_deliver
from aurum.core.jobs import JobRunner
from aurum.core.outbox import OutboxWorker
from aurum.surveys import service
from aurum.surveys.jobs import jobs as survey_jobs
from bot.compose import build_web
from bot.runtime import register_workspace
from storage.claims import JobClaim
from storage.rollups import KpiSnapshot
from storage.surveys import SurveyRespondent, SurveyRun
from tests.surveys.support import TEAM_ANSWERS, answer

TEAM = [f"U{i}" for i in range(1, 8)]
CONFIG = """
channels:
  team: "#engineering"
  scrum_masters: "#scrum-masters"
surveys:
  scrum_masters: [USM]
  holidays: [{holiday}]
  stakeholder:
    audience: {{users: [US1, US2, US3, US4, US5, US6]}}
"""


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def bot(settings, tmp_path, fake_slack):
    """bot(zone, start) → a runtime on a controlled clock; bot.restart() builds a fresh one on the same database."""
    built = []
    channel = fake_slack.add_channel("#engineering")
    fake_slack.add_channel("#scrum-masters")
    fake_slack.set_members(channel, [*TEAM, fake_slack.bot_user_id])

    class Bot:
        holiday = "2000-01-01"

        def start(self, zone: str, start: datetime) -> Bot:
            self.zone, self.clock = zone, Clock(start)
            fake_slack.default_tz = zone  # everyone lives in the team's time zone (users.info)
            return self.restart()

        def restart(self) -> Bot:
            config = tmp_path / "team.yml"
            config.write_text(CONFIG.format(holiday=self.holiday))
            runtime = build_web(settings.model_copy(update={"aurum_timezone": self.zone, "aurum_config": config}),
                                work_process=False)
            runtime.ctx.clock = self.clock
            register_workspace(runtime)
            built.append(runtime)
            self.runtime, self.ctx = runtime, runtime.ctx
            jobs = {job.name: job for job in survey_jobs()}
            self.runner = JobRunner(runtime.ctx, jobs=jobs, owner=f"clock{len(built)}")
            return self

        def run_until(self, until: datetime, step: timedelta = timedelta(minutes=30), hook=None) -> None:
            while self.clock.now < until:
                self.clock.now = min(self.clock.now + step, until)
                self.runner.due(self.clock.now)
                OutboxWorker(self.ctx, self.runtime.delivery).drain()
                if hook:
                    hook(self.clock.now)

        def runs(self, survey: str = "team") -> list[SurveyRun]:
            with self.ctx.reading() as session:
                return list(session.scalars(select(SurveyRun).where(SurveyRun.survey == survey)))

    yield Bot()
    for runtime in built:
        runtime.shutdown()


def _local(zone: str, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))


def _dm_texts(fake_slack, user: str) -> list[str]:
    return [m["text"] for m in fake_slack.messages(f"D{user}")]


@pytest.mark.parametrize(("zone", "friday"), [
    ("Europe/Berlin", date(2027, 10, 29)),      # summer time ends Sunday 31 October
    ("America/New_York", date(2027, 11, 5)),    # daylight time ends Sunday 7 November
    ("Europe/Berlin", date(2027, 3, 26)),       # summer time starts Sunday 28 March
    ("America/New_York", date(2027, 3, 12)),    # daylight time starts Sunday 14 March
])
def test_a_week_across_a_dst_change(bot, fake_slack, zone, friday):
    monday = friday + timedelta(days=3)
    opened_at = []

    def people_answer(now: datetime) -> None:
        if not bot.runs() or opened_at:
            return
        opened_at.append(now)
        run = bot.runs()[0]
        for i, user in enumerate(TEAM[:5]):
            answer(bot.ctx, fake_slack.team_id, user, run.id, {**TEAM_ANSWERS, "q_velocity": str(5 + i)})
        service.opt_out(bot.ctx, fake_slack.team_id, run.id, "U6")

    bot.start(zone, _local(zone, friday, 8))
    bot.run_until(_local(zone, friday + timedelta(days=1), 12), hook=people_answer)
    bot.restart()  # a new process between opening and closing
    bot.run_until(_local(zone, monday + timedelta(days=1), 12))

    assert opened_at == [_local(zone, friday, 10)]
    (run,) = bot.runs()
    assert run.state == "closed" and run.period == f"{friday.isocalendar()[0]}-W{friday.isocalendar()[1]:02d}"
    assert run.opens_at == _local(zone, friday, 10)
    assert run.closes_at == run.closed_at == _local(zone, monday, 10)
    for user in TEAM:  # one invitation each; the one reminder only to who neither answered nor opted out
        texts = _dm_texts(fake_slack, user)
        assert texts[0].startswith("The Team Satisfaction Survey is open until Mon")
        assert len(texts) == (2 if user == "U7" else 1), (user, texts)
    assert _dm_texts(fake_slack, "U7")[1].startswith("Reminder")
    assert fake_slack.messages("DUBOT") == []  # the bot does not ask itself
    with bot.ctx.reading() as session:
        reminded = session.scalars(select(SurveyRespondent.reminded_at).where(
            SurveyRespondent.reminded_at.is_not(None))).all()
        claims = session.scalars(select(JobClaim.job).where(JobClaim.job.like("survey_team_%"))).all()
        kpis = {s.kpi: (s.value, s.at) for s in session.scalars(select(KpiSnapshot))}
    assert reminded == [_local(zone, friday, 15)]
    assert sorted(set(claims)) == ["survey_team_close", "survey_team_deliver", "survey_team_open",
                                   "survey_team_remind"]
    posts = [(p["channel"], p["text"]) for p in fake_slack.delivered_posts() if "answered" in p["text"]]
    channels = sorted(channel for channel, _ in posts)
    assert channels == sorted([fake_slack.channel_id("#engineering"), fake_slack.channel_id("#scrum-masters"),
                               "DUSM"])
    assert all("5 of 7 answered" in text for _, text in posts)
    assert kpis["team_satisfaction_velocity"] == (7.0, run.closes_at)
    assert kpis["survey_response_rate"] == (pytest.approx(71.43), run.closes_at)


def test_a_clock_that_was_down_at_opening_time_opens_once_within_the_grace_window(bot, fake_slack):
    zone, friday = "Europe/Berlin", date(2027, 10, 29)
    bot.start(zone, _local(zone, friday, 10, 40))
    bot.runner.due(bot.clock.now)  # the catch-up a clock process does when it starts
    bot.run_until(_local(zone, friday, 12))
    (run,) = bot.runs()
    assert run.opens_at == _local(zone, friday, 10, 40)
    assert all(len(_dm_texts(fake_slack, user)) == 1 for user in TEAM)


def test_a_clock_down_past_the_grace_window_does_not_open_late(bot, fake_slack):
    zone, friday = "Europe/Berlin", date(2027, 10, 29)
    bot.start(zone, _local(zone, friday, 11, 30))
    bot.runner.due(bot.clock.now)
    bot.run_until(_local(zone, friday, 14))
    assert bot.runs() == []  # an admin can still open it with /survey open or `aurum run-job survey_team_open`
    assert bot.runner.run_now("survey_team_open")[0].result == "opened 2027-W43 for 7 people"
    assert bot.runner.run_now("survey_team_open")[0].result == "already ran"


def test_an_opening_slack_took_nothing_of_is_given_back_and_the_next_run_job_invites_everyone_once(bot, fake_slack):
    zone, friday = "Europe/Berlin", date(2027, 10, 29)
    bot.start(zone, _local(zone, friday, 11, 30))  # past the grace window: an admin runs `aurum run-job`
    fake_slack.chaos(1.0, modes=("500",), methods=["conversations.open", "chat.postMessage"])  # no DM goes out
    (seen,) = run_and_deliver(bot.ctx, bot.runner, bot.runtime.delivery, "survey_team_open", wait=0.5)
    assert seen.released and (seen.delivered, len(seen.tasks)) == (0, 7)
    assert fake_slack.delivered_posts() == []
    (run,) = bot.runs()  # the run stays open; its invitations were taken back

    fake_slack.chaos(0)
    (again,) = run_and_deliver(bot.ctx, bot.runner, bot.runtime.delivery, "survey_team_open", wait=10)
    assert again.outcome.result == "2027-W43 already open" and not again.released
    assert (again.delivered, len(again.tasks)) == (7, 7)
    assert all(len(_dm_texts(fake_slack, user)) == 1 for user in TEAM)
    assert [r.id for r in bot.runs()] == [run.id]
    assert bot.runner.run_now("survey_team_open")[0].result == "already ran"
    OutboxWorker(bot.ctx, bot.runtime.delivery).drain()
    assert all(len(_dm_texts(fake_slack, user)) == 1 for user in TEAM)


def test_a_configured_holiday_skips_the_run(bot, fake_slack):
    zone, friday = "America/New_York", date(2027, 12, 24)
    bot.holiday = friday.isoformat()
    bot.start(zone, _local(zone, friday, 9))
    bot.run_until(_local(zone, friday + timedelta(days=4), 12))
    (run,) = bot.runs()
    assert (run.state, run.note) == ("skipped", "holiday")
    assert all(_dm_texts(fake_slack, user) == [] for user in TEAM)


def test_survey_skip_a_date_skips_that_run_and_the_next_one_opens(bot, fake_slack):
    zone, friday = "Europe/Berlin", date(2027, 11, 5)
    bot.start(zone, _local(zone, friday - timedelta(days=2), 9))
    skipped = service.skip(bot.ctx, fake_slack.team_id, friday, "team", "UADMIN")
    assert skipped.period == "2027-W44" and skipped.opens_at == _local(zone, friday, 10)
    with pytest.raises(service.SurveyError, match="does not open on Thu 04 Nov 2027; the next one opens Fri 12 Nov"):
        service.skip(bot.ctx, fake_slack.team_id, friday - timedelta(days=1), "team", "UADMIN")
    bot.run_until(_local(zone, friday + timedelta(days=8), 11), step=timedelta(hours=1))
    assert [(r.period, r.state) for r in bot.runs()] == [("2027-W44", "skipped"), ("2027-W45", "open")]


def test_the_stakeholder_survey_opens_first_wednesday_and_closes_a_week_later(bot, fake_slack):
    zone = "Europe/Berlin"
    bot.start(zone, _local(zone, date(2027, 9, 30), 0))
    answered = []

    def two_answer(now: datetime) -> None:
        runs = bot.runs("stakeholder")
        if runs and not answered:
            for user in ("US1", "US2"):
                answer(bot.ctx, fake_slack.team_id, user, runs[0].id, {"q_needs": "4", "q_quality": "3"},
                       survey="stakeholder")
            answered.append(now)

    bot.run_until(_local(zone, date(2027, 10, 15), 0), step=timedelta(hours=1), hook=two_answer)
    (run,) = bot.runs("stakeholder")
    assert run.period == "2027-10" and run.state == "closed"
    assert run.opens_at == _local(zone, date(2027, 10, 6), 10)  # the first Wednesday
    assert run.closed_at == _local(zone, date(2027, 10, 13), 10)  # a week later
    assert [len(_dm_texts(fake_slack, u)) for u in ("US1", "US2", "US3")] == [1, 1, 2]  # Monday reminder
    posts = [p for p in fake_slack.delivered_posts() if p["text"].startswith("Stakeholder Feedback")]
    assert len(posts) == 3 and "2 of 6 answered" in posts[0]["text"]
