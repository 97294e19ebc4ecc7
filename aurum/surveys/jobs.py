"""The surveys' scheduled jobs: open, remind and close each survey (times and periods in aurum.surveys.schedule), and
deliver each person's invitation and reminder at their local time (aurum.surveys.timing)."""

from __future__ import annotations

from functools import partial

from aurum.core.jobs import Job
from aurum.surveys import runs
from aurum.surveys.schedule import CRONS, DESCRIPTIONS, NAMES, STEPS, date_key, job_name, period_of
from aurum.surveys.timing import DELIVER_CRON


def jobs() -> list[Job]:
    steps = {"open": runs.open_job, "remind": runs.remind_job, "close": runs.close_job}
    found = []
    for survey, crons in CRONS.items():
        for step in STEPS:
            period = date_key if step == "close" else partial(period_of, survey)
            found.append(Job(job_name(survey, step), DESCRIPTIONS[step].format(name=NAMES[survey]), crons[step],
                             partial(steps[step], survey), period=period))
        found.append(Job(job_name(survey, "deliver"), f"Invites and reminds each person asked by the "
                         f"{NAMES[survey]} at their local time (every 15 minutes)", DELIVER_CRON,
                         partial(runs.deliver_job, survey)))
    return found
