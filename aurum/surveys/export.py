"""`/survey export`: closed runs' answers as CSV, one row per answer, numbered per run, never a user id.

Responses are numbered within each run in the order of their random answer set, so a number says nothing
about who answered or when, and the same number in two runs is not the same person. Runs that did not reach
the anonymity threshold are left out, as in the results.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlmodel import Session

from aurum.core.context import Context
from aurum.surveys.answers import RESPONSE_MARKER, fields
from aurum.surveys.breakdown import may_show
from aurum.surveys.runs import TEAM_SURVEY
from storage import surveys as repo

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ["survey", "period", "opened", "closed", "response", "question_id", "question", "value"]


@dataclass(frozen=True)
class Export:
    content: bytes
    runs: int
    withheld: int
    rows: int


def export(ctx: Context, session: Session, team_id: str, survey_key: str | None = None) -> Export:
    """ctx's team's closed runs of the team survey and the workspace's of the stakeholder survey; a run is left out
    where the team results would leave it out (aurum.surveys.breakdown.may_show)."""
    threshold = ctx.config.surveys.threshold
    runs = [run for run in repo.closed_runs(session, team_id, survey_key, squad=ctx.squad) if run.survey == TEAM_SURVEY]
    runs += [run for run in repo.closed_runs(session, team_id, survey_key) if run.survey != TEAM_SURVEY]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    exported = withheld = count = 0
    for run in runs:
        rows = repo.answers(session, run.id)  # type: ignore[arg-type]
        numbers: dict[str, int] = {}
        for answer_set, *_ in rows:
            numbers.setdefault(answer_set, len(numbers) + 1)
        if len(numbers) < threshold or not may_show(session, team_id, run, threshold):
            withheld += 1
            continue
        exported += 1
        survey = ctx.config.surveys.survey(run.survey).as_asked(run.questions)  # the labels the run asked
        labels = {f.answer_id: f.label for f in fields(survey)}
        for answer_set, question_id, value, _number in rows:
            if question_id == RESPONSE_MARKER:
                continue
            writer.writerow([run.survey, run.period, run.opens_at.isoformat(),
                             (run.closed_at or run.closes_at).isoformat(), numbers[answer_set], question_id,
                             labels.get(question_id, question_id), _cell(value)])
            count += 1
    return Export(buffer.getvalue().encode("utf-8"), exported, withheld, count)


def _cell(value: str) -> str:
    """Free text that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value
