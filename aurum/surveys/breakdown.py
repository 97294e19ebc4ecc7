"""A survey's results by team, under the anonymity threshold: which teams' results may show beside the
organisation's.

A team with fewer than `threshold` answers shows nothing of its own. Hiding it is not enough when the
organisation's total shows too: the total minus every shown team is the hidden teams together, so they must add
up to no answer or to at least `threshold`. Otherwise the smallest shown team is hidden as well (it has at least
`threshold` answers, so the hidden ones then do too). Filters name one team at a time (`team:<key>`), so every
figure a person can see is the organisation's, a shown team's, or a difference of those, and each such group is
empty or holds at least `threshold` answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from aurum.core.context import Context
from aurum.surveys.model import Survey
from storage import surveys as repo
from storage.surveys import SurveyRun


def shown_teams(answers: Mapping[str, int], threshold: int) -> set[str]:
    """The teams (of {team: answer count}) whose results may show; none when the organisation's total cannot."""
    if sum(answers.values()) < threshold:
        return set()
    shown = {team for team, count in answers.items() if count >= threshold}
    hidden = sum(count for team, count in answers.items() if team not in shown)
    if 0 < hidden < threshold and shown:
        shown.remove(min(shown, key=lambda team: (answers[team], team)))
    return shown


@dataclass(frozen=True)
class TeamResult:
    squad: str
    responses: int
    shown: bool
    means: dict[str, float]  # question id → mean; empty when not shown


@dataclass(frozen=True)
class Breakdown:
    """The organisation's results of one period of a survey and each team's, as far as anonymity allows."""

    survey: Survey
    period: str
    threshold: int
    responses: int
    means: dict[str, float]  # the organisation's; empty below the threshold
    teams: list[TeamResult]


def by_team(ctx: Context, session: Session, team_id: str, survey_key: str, period: str) -> Breakdown:
    """Every team's closed run of the period, combined: the organisation's means over all answers, each team's
    where shown_teams lets it show."""
    survey, threshold = ctx.config.surveys.survey(survey_key), ctx.config.surveys.threshold
    runs = repo.closed_runs_of_period(session, team_id, survey_key, period)
    ids = [run.id for run in runs if run.id is not None]
    counts, means = repo.answer_sets(session, team_id, ids), repo.means(session, team_id, ids)
    answers = {run.squad: counts.get(run.id, 0) for run in runs}  # type: ignore[arg-type]
    shown = shown_teams(answers, threshold)
    teams = [TeamResult(run.squad, answers[run.squad], run.squad in shown,
                        {q: mean for (rid, q), (_n, mean) in means.items() if rid == run.id}
                        if run.squad in shown else {}) for run in runs]
    org: dict[str, float] = {}
    if sum(answers.values()) >= threshold:
        for question in survey.scales:
            parts = [(n, mean) for (_rid, q), (n, mean) in means.items() if q == question.id and n]
            if parts:
                org[question.id] = sum(n * mean for n, mean in parts) / sum(n for n, _ in parts)
    return Breakdown(survey, period, threshold, sum(answers.values()), org, teams)


def may_show(session: Session, team_id: str, run: SurveyRun, threshold: int) -> bool:
    """Whether a closed run's answers may show on their own: by shown_teams over every team's run of its period, so
    that no team's answers can be told apart from the organisation's."""
    runs = repo.closed_runs_of_period(session, team_id, run.survey, run.period)
    counts = repo.answer_sets(session, team_id, [r.id for r in runs if r.id is not None])
    return run.squad in shown_teams({r.squad: counts.get(r.id, 0) for r in runs}, threshold)  # type: ignore[arg-type]
