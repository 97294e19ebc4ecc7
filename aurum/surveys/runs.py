"""A run's life: open (DM everyone asked, each at their local time), remind once, close (results, KPI snapshots).
Jobs call these inside their claim's transaction; every Slack message goes through the outbox with a key that makes
it happen once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.core import ingest, outbox
from aurum.core.context import Context
from aurum.core.zones import zones
from aurum.kpis import charts
from aurum.squads import teams as squads
from aurum.surveys import blocks, results, timing
from aurum.surveys.model import Survey, stored_questions
from aurum.surveys.schedule import closes_at, job_name, last_opening, next_opening, period_of
from storage import claims
from storage import surveys as repo
from storage.rollups import SnapshotBase
from storage.surveys import SurveyRun

log = logging.getLogger(__name__)
KEEP_CLAIMS = timedelta(days=2)  # the deliver job's claims (one per 15 minutes) kept for `aurum jobs`
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
             scheduled: bool = True, local: datetime | None = None) -> str:
    """Open the period's run (once: the run is unique per period) and DM everyone asked whose local opening time
    `local` (a wall-clock time; None: now, for everyone) has come; aurum.surveys.timing invites the others when
    theirs comes. Runs still open past their closing time are closed first. A scheduled opening on a configured
    holiday records a skipped run."""
    survey = ctx.config.surveys.survey(survey_key)
    now = ctx.now()
    overdue = close_due(ctx, session, team_id, survey_key)
    done = f"closed {', '.join(overdue)}; " if overdue else ""
    if scheduled and (local or timing.wall(ctx, now)).date() in ctx.config.surveys.holidays:
        repo.add_run(session, SurveyRun(team_id=team_id, squad=ctx.squad, survey=survey_key, period=period,
                                        state="skipped", opens_at=now, closes_at=now, note="holiday"))
        return f"{done}skipped {period}: holiday"
    existing = repo.run_by_period(session, team_id, survey_key, period, ctx.squad)
    if existing is not None:
        if existing.state == "open" and now < existing.closes_at:
            # Invitations taken back undelivered (`aurum run-job` gives the period back when Slack took none) are
            # queued again; those queued or sent already are one task each, so nobody is asked twice.
            invite_due(ctx, session, survey, existing, again=True)
        return f"{done}{period} already {existing.state}"
    users = audience(ctx, team_id, survey)
    if not users:
        return f"{done}nobody to ask: set surveys.{survey_key}.audience in the config file"
    asked = survey.asked(repo.runs_asked(session, team_id, survey_key, ctx.squad))  # the rotation's next turn
    run = repo.add_run(session, SurveyRun(team_id=team_id, squad=ctx.squad, survey=survey_key, period=period,
                                          opens_at=now,
                                          closes_at=closes_at(ctx, survey_key, now), audience=len(users),
                                          note=note, local_opening=timing.wall_text(local) if local else None,
                                          questions=stored_questions(asked)))
    if run is None:
        return f"{done}{period} already opened"
    repo.add_respondents(session, team_id, run.id, users)  # type: ignore[arg-type]
    invited = invite_due(ctx, session, survey, run)
    log.info("survey opened", extra={"team_id": team_id, "survey": survey_key, "period": period,
                                     "asked": len(users), "invited": invited})
    later = f" ({invited} invited now, the others at their local time)" if invited < len(users) else ""
    return f"{done}opened {period} for {len(users)} {'person' if len(users) == 1 else 'people'}{later}"


def invite_due(ctx: Context, session: Session, survey: Survey, run: SurveyRun, again: bool = False) -> int:
    """Invite once each person of the run whose local opening time has come. `again`: queue anew the invitations
    of those invited before who have not answered (a key queued or sent already stays one task)."""
    waiting = repo.to_invite(session, run.team_id, run.id)  # type: ignore[arg-type]
    ready = timing.due(ctx, session, run.team_id, [p.user_id for p in waiting], timing.local_opening(run))
    for person in waiting:
        if person.user_id in ready:
            person.invited_at = ctx.now()
            session.add(person)
    users = sorted(ready)
    if again:
        not_yet = {p.user_id for p in waiting} - ready
        users = [user for user in repo.not_responded(session, run.team_id, run.id)  # type: ignore[arg-type]
                 if user not in not_yet]
    _invite(ctx, session, survey, run, users)
    return len(ready)


def _invite(ctx: Context, session: Session, survey: Survey, run: SurveyRun, users: list[str]) -> None:
    for user, zone in zones(ctx, session, run.team_id, users, ask=False).items():
        text, message = blocks.invitation(survey.as_asked(run.questions), run, zone, ctx.config.surveys.threshold)
        outbox.post(session, run.team_id, user, text, message, key=f"survey:{run.id}:invite:{user}")


def open_early(ctx: Context, session: Session, team_id: str, survey_key: str) -> str:
    """Open the next scheduled run before the team's opening time when someone's local opening time comes first."""
    now = ctx.now()
    fire = next_opening(ctx, session, team_id, survey_key, now)
    local = timing.wall(ctx, fire) if fire is not None else None
    if local is None or not timing.may_be_due(ctx, local):
        return ""  # nobody's local opening time can have come: Slack is not asked who is in the team
    try:
        users = audience(ctx, team_id, ctx.config.surveys.survey(survey_key))
    except SurveyError:
        return ""  # the team's opening job says why
    if not timing.due(ctx, session, team_id, users, local):
        return ""
    return open_run(ctx, session, team_id, survey_key, period_of(survey_key, local), local=local) + "; "


def remind(ctx: Context, session: Session, team_id: str, survey_key: str) -> str:
    """One reminder per person and run, at their local reminder time, to those who neither answered nor opted
    out."""
    survey = ctx.config.surveys.survey(survey_key)
    now = ctx.now()
    sent = 0
    for run in repo.runs_in_state(session, team_id, survey_key, "open"):
        if now >= run.closes_at:
            continue
        people = {p.user_id: p for p in repo.to_remind(session, team_id, run.id)}  # type: ignore[arg-type]
        ready = timing.due(ctx, session, team_id, people, timing.local_reminder(ctx, run))
        for user, zone in zones(ctx, session, team_id, sorted(ready), ask=False).items():
            person = people[user]
            person.reminded_at = now
            session.add(person)
            text, message = blocks.reminder(survey, run, zone)
            outbox.post(session, team_id, user, text, message, key=f"survey:{run.id}:remind:{user}")
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
    now = ctx.now()
    fire = last_opening(ctx, survey_key, now)
    local = timing.wall(ctx, fire) if fire is not None else None
    if local is not None and period_of(survey_key, local) != period:
        local = None  # opened off its schedule (`aurum run-job`): everyone at once
    outcomes = []
    for squad in _teams_asked(ctx, survey_key):
        outcome = open_run(squads.scope(ctx, squad), session, team_id, survey_key, period, local=local)
        outcomes.append(f"{squad.key}: {outcome}" if squad.key else outcome)
    return "; ".join(outcomes)


def _teams_asked(ctx: Context, survey_key: str) -> list[squads.Squad]:
    """Each team runs the team survey for itself; the stakeholder survey is the workspace's (its default team's)."""
    return squads.all_squads(ctx.config) if survey_key == TEAM_SURVEY else [squads.default_squad(ctx.config)]


def remind_job(survey_key: str, ctx: Context, session: Session, team_id: str, period: str) -> str:
    return remind(ctx, session, team_id, survey_key)


def close_job(survey_key: str, ctx: Context, session: Session, team_id: str, period: str) -> str:
    closed = close_due(ctx, session, team_id, survey_key)
    return f"closed {', '.join(closed)}" if closed else "nothing to close"


def deliver_job(survey_key: str, ctx: Context, session: Session, team_id: str, period: str) -> str:
    """Every 15 minutes: open the next run when someone's local opening time comes before the team's, and invite
    and remind each person whose local time has come."""
    opened = "".join(open_early(squads.scope(ctx, squad), session, team_id, survey_key)
                     for squad in _teams_asked(ctx, survey_key))
    survey = ctx.config.surveys.survey(survey_key)
    invited = sum(invite_due(ctx, session, survey, run) for run in repo.runs_in_state(
        session, team_id, survey_key, "open") if ctx.now() < run.closes_at)
    reminded = remind(ctx, session, team_id, survey_key)
    claims.prune(session, team_id, job_name(survey_key, "deliver"), ctx.now() - KEEP_CLAIMS)
    return f"{opened}invited {invited} people; {reminded}"
