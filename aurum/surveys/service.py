"""What people ask of surveys: the view to show, answers, status counts, skipping a date, opening by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from aurum.core.context import Context
from aurum.surveys import answers, blocks, runs
from aurum.surveys.model import SURVEY_KEYS, Survey
from aurum.surveys.runs import TEAM_SURVEY, SurveyError
from aurum.surveys.schedule import next_opening, normal_period, opening_on, period_of
from storage import surveys as repo
from storage.surveys import SurveyRun
from storage.types import DEFAULT_SQUAD


def current_run(ctx: Context, session: Session, team_id: str, survey_key: str,
                user_id: str | None = None) -> SurveyRun | None:
    """The run people can answer now: open and not past its closing time; with teams (a run each), the one that
    asked `user_id`, if any."""
    now = ctx.now()
    open_runs = [r for r in repo.runs_in_state(session, team_id, survey_key, "open") if now < r.closes_at]
    asked = [r for r in open_runs if user_id is not None
             and repo.respondent(session, team_id, r.id, user_id) is not None]  # type: ignore[arg-type]
    return (asked or open_runs)[-1] if open_runs else None


def closed_notice(ctx: Context, session: Session, team_id: str, survey_key: str,
                  run_id: int | None = None) -> str:
    """That the run (by default the latest) has closed, or none is open, and when the next one opens."""
    survey = ctx.config.surveys.survey(survey_key)
    last = repo.get_run(session, team_id, run_id) if run_id is not None else None
    last = last or repo.latest_run(session, team_id, survey_key, states=("closed", "open"))
    upcoming = next_opening(ctx, session, team_id, survey_key, ctx.now())
    return blocks.closed_text(survey, last, upcoming, ctx.tz)


def _pick(ctx: Context, session: Session, team_id: str, user_id: str) -> str:
    """`/survey` without a name: the open survey this person was asked to answer, else any open one."""
    candidates = [k for k in SURVEY_KEYS if current_run(ctx, session, team_id, k) is not None]
    for key in candidates:
        run = current_run(ctx, session, team_id, key, user_id)
        if run is not None and repo.respondent(session, team_id, run.id, user_id) is not None:  # type: ignore[arg-type]
            return key
    return candidates[0] if candidates else SURVEY_KEYS[0]


def view_for(ctx: Context, team_id: str, user_id: str, survey_key: str | None = None,
             run_id: int | None = None) -> dict:
    """The modal for the open run, or a notice that it closed and when the next one opens."""
    with ctx.reading() as session:
        run = repo.get_run(session, team_id, run_id) if run_id is not None else None
        key = run.survey if run is not None else survey_key or _pick(ctx, session, team_id, user_id)
        survey = ctx.config.surveys.survey(key)
        if run_id is None:
            run = current_run(ctx, session, team_id, key, user_id)
        if run is None or run.state != "open" or ctx.now() >= run.closes_at:
            shown = run.id if run is not None else None
            return blocks.notice_modal(survey.short_name, closed_notice(ctx, session, team_id, key, shown))
        person = repo.respondent(session, team_id, run.id, user_id)  # type: ignore[arg-type]
        if person is None:
            return blocks.notice_modal(survey.short_name, answers.NOT_ASKED)
        answered = person.responded_at is not None
    return blocks.modal(survey.as_asked(run.questions), run, ctx.tz, ctx.config.surveys.threshold,
                        answered_before=answered)


def asked(ctx: Context, team_id: str, user_id: str, survey_key: str, run_id: int | None = None) -> Survey:
    """The survey as the run (by default the one the person answers now) asks it: the questions it opened with."""
    survey = ctx.config.surveys.survey(survey_key)
    with ctx.reading() as session:
        run = repo.get_run(session, team_id, run_id) if run_id is not None else \
            current_run(ctx, session, team_id, survey_key, user_id)
    return survey.as_asked(run.questions if run is not None and run.survey == survey_key else None)


def respond(ctx: Context, team_id: str, user_id: str, survey_key: str, given: list[answers.Answer],
            run_id: int | None = None) -> answers.Submitted:
    """Store a checked response to the run (or the survey's current run). Raises answers.SubmitError."""
    with ctx.transaction() as session:
        if run_id is None:
            run = current_run(ctx, session, team_id, survey_key, user_id)
            if run is None:
                raise answers.SubmitError(closed_notice(ctx, session, team_id, survey_key))
            run_id = run.id
        return answers.submit(ctx, session, team_id, run_id, user_id, given)  # type: ignore[arg-type]


def opt_out(ctx: Context, team_id: str, run_id: int, user_id: str) -> bool:
    """No reminder for this person in this run; False when they were not asked."""
    with ctx.transaction() as session:
        person = repo.respondent(session, team_id, run_id, user_id)
        if person is None:
            return False
        person.opted_out = True
        session.add(person)
    return True


def open_now(ctx: Context, team_id: str, survey_key: str, user_id: str) -> str:
    """`/survey open`: the current period's run, opened now (once per period, like the scheduled opening)."""
    period = period_of(survey_key, ctx.now().astimezone(ctx.tz))
    with ctx.transaction() as session:
        return runs.open_run(ctx, session, team_id, survey_key, period, note=f"opened by {user_id}", scheduled=False)


@dataclass(frozen=True)
class Skipped:
    survey: Survey
    period: str
    opens_at: datetime


def skip(ctx: Context, team_id: str, day: date, survey_key: str, user_id: str) -> Skipped:
    """No run opens on `day` (a holiday): recorded as the skipped run of the period it would have opened."""
    survey = ctx.config.surveys.survey(survey_key)
    with ctx.transaction() as session:
        opens = opening_on(ctx, survey_key, day)
        if opens is None:
            upcoming = next_opening(ctx, session, team_id, survey_key, ctx.now())
            hint = f"; the next one opens {blocks.when(upcoming, ctx.tz)}" if upcoming else ""
            raise SurveyError(f"The {survey.name} does not open on {day:%a %d %b %Y}{hint}.")
        period = period_of(survey_key, opens.astimezone(ctx.tz))
        existing = repo.run_by_period(session, team_id, survey_key, period)
        if existing is not None:
            raise SurveyError(f"The {survey.name} of {period} is already {existing.state}.")
        repo.add_run(session, SurveyRun(team_id=team_id, survey=survey_key, period=period, state="skipped",
                                        opens_at=opens, closes_at=opens, note=f"skipped by {user_id}"))
    return Skipped(survey, period, opens)


def status(ctx: Context, team_id: str) -> list[tuple[Survey, SurveyRun, int, int, int]]:
    """Open runs with counts only: answered, asked, reminded; of the team survey, ctx's team's run."""
    rows = []
    now = ctx.now()
    with ctx.reading() as session:
        for key in SURVEY_KEYS:
            squad = ctx.squad if key == TEAM_SURVEY else DEFAULT_SQUAD  # the stakeholder survey is the workspace's
            run = next((r for r in reversed(repo.runs_in_state(session, team_id, key, "open"))
                        if now < r.closes_at and r.squad == squad), None)
            if run is None:
                continue
            answered, asked = repo.response_counts(session, team_id, [run.id]).get(run.id, (0, 0))  # type: ignore
            rows.append((ctx.config.surveys.survey(key), run, answered, asked,
                         repo.reminded_count(session, run.id)))  # type: ignore[arg-type]
    return rows


def find_run(ctx: Context, session: Session, team_id: str, survey_key: str, which: str | None) -> SurveyRun:
    """`/survey results` run argument: a period (`2026-W48`, `W48`, `2026-11`), or the latest closed run."""
    if not which:
        run = repo.latest_run(session, team_id, survey_key, states=("closed",), squad=ctx.squad)
        if run is None:
            raise SurveyError(f"No {ctx.config.surveys.survey(survey_key).name} has closed yet.")
        return run
    period = normal_period(which, ctx.now().astimezone(ctx.tz).year)
    run = repo.run_by_period(session, team_id, survey_key, period or which, ctx.squad)
    if run is None:
        raise SurveyError(f"No run {which} of the {ctx.config.surveys.survey(survey_key).name}.")
    return run
