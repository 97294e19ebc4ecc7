"""Checking a submission and storing it anonymously: one response per person and run, replaceable while open.

How a person's earlier answers are found again without linking answers to people:
the person's `survey_respondent` row gets a random nonce on their first submission; their answers are stored
under `answer_set = HMAC(key, run id + nonce)`, where the key derives from a server secret (AURUM_SURVEY_SECRET,
else the Slack signing secret) that is never written to the database. Submitting again recomputes the same
answer set, deletes its rows and writes the new ones, in one transaction that holds the respondent row's lock,
so a double submit can never leave two responses. Without the secret, the database cannot say which answer set
belongs to which respondent; with it, it can, but only while the run is open: closing the run erases the nonces.

Alternatives considered: a deterministic HMAC of the user id (linkable forever by whoever holds the secret),
a foreign key or token shared by both tables (linkable by anyone who can read the database), and refusing a
second submission (simple, but people do want to correct an answer).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlmodel import Session

from aurum.core.context import Context
from aurum.surveys.model import Question, Survey
from storage import surveys as repo
from storage.surveys import SurveyRun

RESPONSE_MARKER = "_response"  # one row per answer set, so that an all-empty response still counts once
KEY_LABEL = b"aurum survey answer set v1"
NOT_ASKED = ("You were not asked in this run: it went to the people in the survey's audience when it opened. "
             "You will get the next one if you are in it then.")


@dataclass(frozen=True)
class Field:
    """One input of the modal: a question's answer, or the optional comment that goes with a rating."""

    question: Question
    comment: bool = False

    @property
    def block_id(self) -> str:
        return self.question.comment_block_id if self.comment else self.question.block_id

    @property
    def answer_id(self) -> str:
        return self.question.comment_id if self.comment else self.question.id

    @property
    def label(self) -> str:
        return (self.question.comment or "") if self.comment else self.question.label


@dataclass(frozen=True)
class Answer:
    question_id: str
    value: str
    number: float | None = None


class SubmitError(Exception):
    """The answers could not be stored; the message says why, for the person who answered."""


class RunClosed(SubmitError):
    def __init__(self, run_id: int | None):
        super().__init__("This survey has closed; your answers were not saved.")
        self.run_id = run_id


def fields(survey: Survey) -> list[Field]:
    found = []
    for question in survey.questions:
        found.append(Field(question))
        if question.comment is not None:
            found.append(Field(question, comment=True))
    return found


def _check_scale(question: Question, text: str) -> Answer | str:
    span = f"from {question.min} to {question.max}"
    try:
        number = float(text)
    except ValueError:
        return f"Enter a whole number {span}."
    if not number.is_integer():
        return f"Enter a whole number {span}."
    if not question.min <= number <= question.max:
        return f"{text} is out of range: choose a number {span}."
    return Answer(question.id, str(int(number)), float(number))


def _check_text(answer_id: str, text: str, limit: int) -> Answer | str:
    if len(text) > limit:
        return f"Please keep it to {limit:,} characters (this has {len(text):,})."
    return Answer(answer_id, text)


def check(survey: Survey, raw: dict[str, str | None]) -> tuple[list[Answer], dict[str, str]]:
    """Raw inputs by block id → (answers, errors by block id). Pure: no database, fit for the 3-second ack."""
    answers: list[Answer] = []
    errors: dict[str, str] = {}
    for field in fields(survey):
        question = field.question
        text = (raw.get(field.block_id) or "").strip()
        if not text:
            if not (field.comment or question.optional):
                errors[field.block_id] = "Please answer this question."
            continue
        if field.comment or question.type == "text":
            result = _check_text(field.answer_id, text, question.max_length)
        elif question.type == "scale":
            result = _check_scale(question, text)
        else:
            result = Answer(question.id, text) if text in question.options else "Choose one of the options."
        if isinstance(result, str):
            errors[field.block_id] = result
        else:
            answers.append(result)
    return answers, errors


def from_text(survey: Survey, text: str) -> dict[str, str | None]:
    """`8 | 7 | flaky CI | pairing`: the answers in the order of the fields, separated by `|`."""
    parts = [part.strip() for part in text.split("|")]
    return {field.block_id: (parts[i] if i < len(parts) else None) for i, field in enumerate(fields(survey))}


def _answer_set(secret: bytes, run_id: int, nonce: str) -> str:
    key = hmac.new(secret, KEY_LABEL, hashlib.sha256).digest()
    return hmac.new(key, f"{run_id}:{nonce}".encode(), hashlib.sha256).hexdigest()[:40]


@dataclass(frozen=True)
class Submitted:
    run: SurveyRun
    replaced: bool


def submit(ctx: Context, session: Session, team_id: str, run_id: int, user_id: str,
           answers: list[Answer]) -> Submitted:
    """Store (or replace) this person's response to an open run. Raises RunClosed or SubmitError."""
    now = ctx.now()
    run = repo.get_run(session, team_id, run_id, share_lock=True)
    if run is None or run.state != "open" or now >= run.closes_at:
        raise RunClosed(run.id if run is not None else None)
    respondent = repo.lock_respondent(session, team_id, run.id, user_id)  # type: ignore[arg-type]
    if respondent is None:
        raise SubmitError(NOT_ASKED)
    first = respondent.responded_at is None
    nonce = respondent.replace_nonce or secrets.token_hex(16)
    answer_set = _answer_set(ctx.survey_secret, run.id, nonce)  # type: ignore[arg-type]
    rows = [(RESPONSE_MARKER, "", None), *((a.question_id, a.value, a.number) for a in answers)]
    removed = repo.replace_answers(session, team_id, run.id, answer_set, rows)  # type: ignore[arg-type]
    if not first and removed == 0:
        raise SubmitError("Your earlier answers can no longer be changed (the server's survey key changed), "
                          "so they stay as they were.")
    repo.mark_responded(session, respondent.id, now, nonce)
    return Submitted(run=run, replaced=not first)
