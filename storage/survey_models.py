"""Survey tables. Who answered and what was answered live in separate tables that nothing joins.

- `survey_run`: one run of a survey for a period (`2026-W48`, `2026-12`), open → closed (or skipped).
- `survey_respondent`: who was asked and whether they answered (reminders, one response per person; only
  people asked when the run opened may answer).
  It holds no reference to the answers. While the run is open it keeps a random `replace_nonce`; the answers'
  `answer_set` is HMAC(server secret, run id + nonce), so the bot can replace a person's earlier answers when
  they submit again, but the database alone cannot link the two (it never holds the secret). Closing the run
  erases the nonces: after that nobody, the bot included, can tell whose answers are whose.
- `survey_answer`: one row per answered question. No user id, no timestamp, no sequential id: the primary key
  starts with the run and the random-looking answer set, and on SQLite the table is WITHOUT ROWID, so neither
  a rowid nor the physical order reveals the order of submissions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _time(nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


class SurveyRun(SQLModel, table=True):
    __tablename__ = "survey_run"
    __table_args__ = (
        UniqueConstraint("team_id", "survey", "period", name="uq_survey_run_period"),
        Index("ix_survey_run_state", "team_id", "survey", "state"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    survey: str = Field(max_length=40)
    period: str = Field(max_length=20)
    state: str = Field(default="open", max_length=12)  # open, closed, skipped
    opens_at: datetime = Field(sa_column=_time())
    closes_at: datetime = Field(sa_column=_time())
    closed_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    audience: int = 0  # people invited when it opened
    note: str = Field(default="", max_length=200)  # why it was skipped, who opened it by hand
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class SurveyRespondent(SQLModel, table=True):
    __tablename__ = "survey_respondent"
    __table_args__ = (UniqueConstraint("team_id", "run_id", "user_id", name="uq_survey_respondent"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    run_id: int = Field(sa_column=Column(Integer, ForeignKey("survey_run.id", ondelete="CASCADE"), nullable=False))
    user_id: str = Field(max_length=32)
    responded_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    reminded_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    opted_out: bool = False  # no reminder for this run
    replace_nonce: str | None = Field(default=None, max_length=64)  # erased when the run closes


class SurveyAnswer(SQLModel, table=True):
    __tablename__ = "survey_answer"
    __table_args__ = ({"sqlite_with_rowid": False},)
    run_id: int = Field(sa_column=Column(Integer, ForeignKey("survey_run.id", ondelete="CASCADE"),
                                         primary_key=True))
    answer_set: str = Field(primary_key=True, max_length=64)
    question_id: str = Field(primary_key=True, max_length=60)
    team_id: str = Field(max_length=32)
    value: str = Field(default="", sa_column=Column(Text, nullable=False))
    number: float | None = None
