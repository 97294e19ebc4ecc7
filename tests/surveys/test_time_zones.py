"""Each person is invited, and reminded, at the schedule's time in their own time zone (Slack's users.info `tz`);
the run stays the team's. The clock is time-machine's: the queue, the claims and the zone cache all read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from aurum.core.jobs import JobRunner
from aurum.core.outbox import OutboxWorker
from aurum.surveys import runs
from aurum.surveys.jobs import jobs as survey_jobs
from bot.compose import build_web
from bot.runtime import register_workspace
from storage.surveys import SurveyRun

TEAM_ZONE = "Europe/Berlin"
PEOPLE = {"UTOKYO": "Asia/Tokyo", "UBERLIN": "Europe/Berlin", "ULA": "America/Los_Angeles", "UFAIL": None}
CONFIG = """
channels:
  team: "#engineering"
surveys:
  stakeholder:
    audience: {users: [US1]}
"""


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def team(settings, tmp_path, fake_slack):
    """A Berlin team whose people live in Tokyo, Berlin and Los Angeles, and one whose time zone Slack will not
    tell; team.run(start, until) runs the team survey's jobs every 15 minutes, noting when each DM arrives."""
    channel = fake_slack.add_channel("#engineering")
    fake_slack.set_members(channel, [*PEOPLE, fake_slack.bot_user_id])
    for user, zone in PEOPLE.items():
        fake_slack.set_user(user, **({"tz": zone} if zone else {"error": "user_not_visible"}))
    config = tmp_path / "team.yml"
    config.write_text(CONFIG)
    built = []

    class Team:
        received: dict[str, list[datetime]] = {user: [] for user in PEOPLE}

        def start(self, traveller: time_machine.Coordinates) -> Team:
            self.traveller = traveller
            runtime = build_web(settings.model_copy(update={"aurum_timezone": TEAM_ZONE, "aurum_config": config}),
                                work_process=False)
            built.append(runtime)
            register_workspace(runtime)
            self.runtime, self.ctx = runtime, runtime.ctx
            jobs = {job.name: job for job in survey_jobs() if job.name.startswith("survey_team_")}
            self.runner = JobRunner(runtime.ctx, jobs=jobs, owner="clock")
            return self

        def tick(self) -> None:
            assert [outcome for outcome in self.runner.due(self.ctx.now()) if outcome.failed] == []
            OutboxWorker(self.ctx, self.runtime.delivery).drain()
            for user, seen in self.received.items():
                seen += [self.ctx.now()] * (len(fake_slack.messages(f"D{user}")) - len(seen))

        def run(self, until: datetime) -> None:
            while self.ctx.now() < until:
                self.traveller.move_to(self.ctx.now() + timedelta(minutes=15))
                self.tick()

        def runs(self) -> list[SurveyRun]:
            with self.ctx.reading() as session:
                return list(session.scalars(select(SurveyRun).where(SurveyRun.survey == "team")))

    yield Team()
    for runtime in built:
        runtime.shutdown()


# Friday 29 October 2027: Berlin on summer time (UTC+2), Los Angeles on daylight time (UTC−7).
# Friday 5 November 2027: Berlin back on standard time (UTC+1) since Sunday, Los Angeles still on daylight time.
# Friday 12 November 2027: both on standard time (UTC+1, UTC−8). Tokyo keeps UTC+9 throughout.
@pytest.mark.parametrize(("friday", "berlin", "los_angeles"), [
    ("2027-10-29", 8, 17),
    ("2027-11-05", 9, 17),
    ("2027-11-12", 9, 18),
])
def test_each_person_is_invited_and_reminded_at_their_own_local_time(team, fake_slack, friday, berlin, los_angeles):
    day = _utc(friday)
    with time_machine.travel(day - timedelta(days=1), tick=False) as traveller:
        team.start(traveller).run(day + timedelta(days=1))

        opening, reminder = timedelta(hours=berlin), timedelta(hours=berlin + 5)  # Berlin's 10:00 and 15:00
        assert team.received == {
            "UTOKYO": [day + timedelta(hours=1), day + timedelta(hours=6)],  # Tokyo's 10:00 and 15:00
            "UBERLIN": [day + opening, day + reminder],
            "ULA": [day + timedelta(hours=los_angeles), day + timedelta(hours=los_angeles + 5)],
            "UFAIL": [day + opening, day + reminder],  # no time zone from Slack: the team's
        }
        (run,) = team.runs()  # one run for the team: opened with Tokyo's 10:00, closing on the team's Monday
        assert run.opens_at == day + timedelta(hours=1)
        assert run.period == f"2027-W{day.isocalendar()[1]:02d}" and run.audience == len(PEOPLE)
        assert run.closes_at == day + timedelta(days=3, hours=9)
        invitations = [m for m in fake_slack.messages("DULA") if m["text"].startswith("The Team Satisfaction")]
        assert len(invitations) == 1


def test_the_jobs_run_again_and_again_invite_and_remind_each_person_once(team, fake_slack):
    day = _utc("2027-11-05")
    with time_machine.travel(day + timedelta(minutes=30), tick=False) as traveller:
        team.start(traveller).run(day + timedelta(hours=24))
        (run,) = team.runs()
        for _ in range(3):  # each job's function again (a second clock process, `aurum run-job`), and the tick
            for job in (runs.deliver_job, runs.open_job, runs.remind_job):
                with team.ctx.transaction() as session:
                    job("team", team.ctx, session, fake_slack.team_id, run.period)
            team.tick()

    posts = [call.params["channel"] for call in fake_slack.calls_to("chat.postMessage", failed=False)]
    assert {channel: posts.count(channel) for channel in set(posts)} == {f"D{user}": 2 for user in PEOPLE}
    texts = sorted(m["text"].split(" ")[0] for user in PEOPLE for m in fake_slack.messages(f"D{user}"))
    assert texts == ["Reminder:"] * len(PEOPLE) + ["The"] * len(PEOPLE)  # an invitation and a reminder each
    asked = [call.params["user"] for call in fake_slack.calls_to("users.info")]
    assert sorted(asked) == sorted(PEOPLE)  # once each within the day (the cache), the failed lookup included


def test_whoever_s_local_opening_time_has_passed_when_the_run_opens_is_invited_at_once(team, fake_slack):
    day = _utc("2027-11-05")  # Berlin's 10:00 is 09:00 UTC; at 10:30 the clock is past its grace window
    with time_machine.travel(day + timedelta(hours=10, minutes=30), tick=False) as traveller:
        team.start(traveller)
        (outcome,) = team.runner.run_now("survey_team_open")  # an admin opens it (`aurum run-job`)
        assert outcome.result == "opened 2027-W44 for 4 people (3 invited now, the others at their local time)"
        team.tick()
        team.run(day + timedelta(hours=18))
    opened = day + timedelta(hours=10, minutes=30)
    assert {user: seen[0] for user, seen in team.received.items()} == {
        "UTOKYO": opened, "UBERLIN": opened, "UFAIL": opened, "ULA": day + timedelta(hours=17)}
