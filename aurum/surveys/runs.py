"""A run's life: open (DM everyone asked), remind once, close (results, KPI snapshots). Jobs call these inside
their claim's transaction; every Slack message goes through the outbox with a key that makes it happen once."""

from __future__ import annotations

import logging

from sqlmodel import Session

from aurum.core import ingest, outbox
from aurum.core.context import Context
from aurum.kpis import charts
from aurum.squads import teams as squads
from aurum.surveys import blocks, results
from aurum.surveys.model import Survey
from aurum.surveys.schedule import closes_at
from storage import surveys as repo
from storage.rollups import SnapshotBase
from storage.surveys import SurveyRun

log = logging.getLogger(__name__)
TEAM_SURVEY = "team"  # the survey each team runs for itself (the stakeholder survey is the workspace's)


class SurveyError(Exception):
    """Something a person asked for cannot be done; the message says why."""


def audience(ctx: Context, team_id: str, survey: Survey) -> list[str]:
    """Everyone the survey asks: a channel's or user group's members, or a fixed list, minus exclusions. The team
    survey of a team of `teams:` (ctx's) asks the team's `survey_audience`, else its members."""
    who = survey.audience
    team = squads.by_stored(ctx.config, ctx.squad).config if survey.key == TEAM_SURVEY else None
    if who.users is not None and team is None:
        users = list(who.users)
    elif ctx.directory is None:
        raise SurveyError("nobody to ask: this process cannot look up channel members")
    elif team is not None:
        members = team.survey_audience or team.members
        users = ctx.directory.members(team_id, channel=members.channel, usergroup=members.usergroup)
    elif who.usergroup:
        users = ctx.directory.members(team_id, usergroup=who.usergroup)
    else:
        channel = who.channel or "team"
        named = ctx.config.channels.model_dump()
        users = ctx.directory.members(team_id, channel=named.get(channel, channel))
    excluded = set(ctx.config.surveys.exclude)
    return [user for user in dict.fromkeys(users) if user not in excluded]


def open_run(ctx: Context, session: Session, team_id: str, survey_key: str, period: str, note: str = "",
             scheduled: bool = True) -> str:
    """Open the period's run (once: the run is unique per period) and DM everyone asked. Runs still open past
    their closing time are closed first. A scheduled opening on a configured holiday records a skipped run."""
    survey = ctx.config.surveys.survey(survey_key)
    now = ctx.now()
    overdue = close_due(ctx, session, team_id, survey_key)
    done = f"closed {', '.join(overdue)}; " if overdue else ""
    if scheduled and now.astimezone(ctx.tz).date() in ctx.config.surveys.holidays:
        repo.add_run(session, SurveyRun(team_id=team_id, squad=ctx.squad, survey=survey_key, period=period,
                                        state="skipped", opens_at=now, closes_at=now, note="holiday"))
        return f"{done}skipped {period}: holiday"
    existing = repo.run_by_period(session, team_id, survey_key, period, ctx.squad)
    if existing is not None:
        if existing.state == "open" and now < existing.closes_at:
            # Invitations taken back undelivered (`aurum run-job` gives the period back when Slack took none) are
            # queued again; those queued or sent already are one task each, so nobody is asked twice.
            _invite(ctx, session, survey, existing, repo.not_responded(session, team_id, existing.id))  # type: ignore[arg-type]
        return f"{done}{period} already {existing.state}"
    users = audience(ctx, team_id, survey)
    if not users:
        return f"{done}nobody to ask: set surveys.{survey_key}.audience in the config file"
    run = repo.add_run(session, SurveyRun(team_id=team_id, squad=ctx.squad, survey=survey_key, period=period,
                                          opens_at=now,
                                          closes_at=closes_at(ctx, survey_key, now), audience=len(users),
                                          note=note))
    if run is None:
        return f"{done}{period} already opened"
    repo.add_respondents(session, team_id, run.id, users)  # type: ignore[arg-type]
    _invite(ctx, session, survey, run, users)
    log.info("survey opened", extra={"team_id": team_id, "survey": survey_key, "period": period,
                                     "asked": len(users)})
    return f"{done}opened {period} for {len(users)} {'person' if len(users) == 1 else 'people'}"


def _invite(ctx: Context, session: Session, survey: Survey, run: SurveyRun, users: list[str]) -> None:
    text, message = blocks.invitation(survey, run, ctx.tz, ctx.config.surveys.threshold)
    for user in users:
        outbox.post(session, run.team_id, user, text, message, key=f"survey:{run.id}:invite:{user}")


def remind(ctx: Context, session: Session, team_id: str, survey_key: str) -> str:
    """One reminder per person and run, to those who neither answered nor opted out."""
    survey = ctx.config.surveys.survey(survey_key)
    now = ctx.now()
    sent = 0
    for run in repo.runs_in_state(session, team_id, survey_key, "open"):
        if now >= run.closes_at:
            continue
        text, message = blocks.reminder(survey, run, ctx.tz)
        for person in repo.to_remind(session, team_id, run.id):  # type: ignore[arg-type]
            person.reminded_at = now
            session.add(person)
            outbox.post(session, team_id, person.user_id, text, message,
                        key=f"survey:{run.id}:remind:{person.user_id}")
            sent += 1
    return f"reminded {sent} people"


def close_due(ctx: Context, session: Session, team_id: str, survey_key: str) -> list[str]:
    """Close every open run of the survey whose closing time has passed; returns their periods."""
    now = ctx.now()
    closed = []
    for run in repo.runs_in_state(session, team_id, survey_key, "open"):
        if run.closes_at <= now:
            close(ctx, session, run)
            closed.append(run.period)
    return closed


def close(ctx: Context, session: Session, run: SurveyRun) -> results.Results:
    """Close a run, turn its scores into KPI snapshots of its team and post the results to the team's channels
    (each once, by outbox key)."""
    ctx = squads.scope(ctx, squads.by_stored(ctx.config, run.squad))
    repo.close_run(session, run, ctx.now())
    found = results.compute(ctx, session, run)
    ingest.store(ctx, session, run.team_id, snapshots(found))
    publish(ctx, session, found)
    log.info("survey closed", extra={"team_id": run.team_id, "survey": run.survey, "period": run.period,
                                     "responses": found.responses, "asked": found.asked})
    return found


def snapshots(found: results.Results) -> list[SnapshotBase]:
    """Response rate always (a count); a question's mean only when enough people answered."""
    at, source = found.run.closes_at, f"survey:{found.run.survey}"
    points = []
    if found.survey.response_rate_kpi and found.rate is not None:
        points.append(SnapshotBase(kpi=found.survey.response_rate_kpi, value=round(100 * found.rate, 2), at=at,
                                   source=source))
    points += [SnapshotBase(kpi=s.question.kpi, value=round(s.mean, 3), at=at, source=source)
               for s in found.scales if s.question.kpi]
    return points


def trend_chart(found: results.Results, tz) -> bytes | None:
    scales = found.survey.scales
    if not scales or not any(point.means for point in found.trend):
        return None
    labels = [point.period.replace("-W", " W") for point in found.trend]
    series = [(q.label if len(q.label) <= 40 else q.label[:39] + "…",
               [point.means.get(q.id) for point in found.trend]) for q in scales]
    low, high = min(q.min for q in scales), max(q.max for q in scales)
    title = f"{found.survey.name}: last {len(found.trend)} runs"
    return charts.runs_chart(labels, series, [p.rate for p in found.trend], title, (low - 0.5, high + 0.5))


def trend_alt_text(found: results.Results) -> str:
    """The alt text of trend_chart: the survey, its runs, and the questions it plots."""
    periods = [point.period for point in found.trend]
    questions = "; ".join(q.label for q in found.survey.scales)
    return charts.alt_text(f"{found.survey.name}, last {len(periods)} runs ({periods[0]} to {periods[-1]}): the mean "
                           f"score of each question per run, over bars of the response rate. Questions: {questions}.")


def destinations(ctx: Context, survey: Survey) -> list[str]:
    """Where results go: the survey's `results_to` channels as ctx's team sees them, and the scrum masters (the
    team's own, if it names any)."""
    squad = squads.by_stored(ctx.config, ctx.squad)
    channels = [squads.channel(ctx.config, squad, target) for target in survey.results_to]
    masters = (squad.config.scrum_masters if squad.config else []) or ctx.config.surveys.scrum_masters
    return list(dict.fromkeys([*channels, *masters]))


def publish(ctx: Context, session: Session, found: results.Results) -> None:
    png = trend_chart(found, ctx.tz)
    note = "📈 Trend of the last runs in the thread" if png else None
    text, message = blocks.results_message(found, ctx.tz, chart_note=note)
    run = found.run
    for target in destinations(ctx, found.survey):
        key = outbox.post(session, run.team_id, target, text, message, key=f"survey:{run.id}:results:{target}")
        if png:
            outbox.upload(session, run.team_id, target, png, filename=f"survey-{run.survey}-{run.period}.png",
                          title=f"{found.survey.name} trend", thread_key=key, key=f"{key}:chart",
                          alt_text=trend_alt_text(found))


# ----- jobs (aurum.surveys.schedule registers them) --------------------------------------------------------------

def open_job(survey_key: str, ctx: Context, session: Session, team_id: str, period: str) -> str:
    """The period's run of the team survey for each team; the stakeholder survey's, the workspace's (its default
    team's)."""
    outcomes = []
    teams = squads.all_squads(ctx.config) if survey_key == TEAM_SURVEY else [squads.default_squad(ctx.config)]
    for squad in teams:
        outcome = open_run(squads.scope(ctx, squad), session, team_id, survey_key, period)
        outcomes.append(f"{squad.key}: {outcome}" if squad.key else outcome)
    return "; ".join(outcomes)


def remind_job(survey_key: str, ctx: Context, session: Session, team_id: str, period: str) -> str:
    return remind(ctx, session, team_id, survey_key)


def close_job(survey_key: str, ctx: Context, session: Session, team_id: str, period: str) -> str:
    closed = close_due(ctx, session, team_id, survey_key)
    return f"closed {', '.join(closed)}" if closed else "nothing to close"
