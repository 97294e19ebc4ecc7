"""The surveys' scheduled jobs: open, remind and close each survey (times and periods in aurum.surveys.schedule)."""

from __future__ import annotations

from functools import partial

from aurum.core.jobs import Job
from aurum.surveys import runs
from aurum.surveys.schedule import CRONS, DESCRIPTIONS, NAMES, STEPS, date_key, job_name, period_of


def jobs() -> list[Job]:
    steps = {"open": runs.open_job, "remind": runs.remind_job, "close": runs.close_job}
    found = []
    for survey, crons in CRONS.items():
        for step in STEPS:
            period = date_key if step == "close" else partial(period_of, survey)
            found.append(Job(job_name(survey, step), DESCRIPTIONS[step].format(name=NAMES[survey]), crons[step],
                             partial(steps[step], survey), period=period))
    return found
