"""The question bank the team survey's questions are picked from in Slack: the survey's questions now, the seed's
(aurum/data/surveys.yml) and well-known engineering-team pulse questions (aurum/data/question_bank.yml)."""

from __future__ import annotations

from aurum.core import builtin_data
from aurum.surveys.model import Question, Survey, builtin_survey_data

MAX_QUESTIONS = 100  # a select's options


def bank(survey: Survey) -> list[Question]:
    """Every question there is to pick, each once by id: the survey's own first (in their order), then the seed's,
    then the pulse questions."""
    found = {q.id: q.model_copy(update={"rotating": False}) for q in survey.questions}
    for data in [*builtin_survey_data()[survey.key]["questions"], *builtin_data.load("question_bank.yml")["questions"]]:
        found.setdefault(str(data["id"]), Question.model_validate(data))
    return list(found.values())[:MAX_QUESTIONS]
