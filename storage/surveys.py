"""Survey tables and their repository: runs, respondents and anonymous answers. Never commits; never joins answers
to people.


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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    Result,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from storage.types import DEFAULT_SQUAD, SQUAD_DEFAULT, table_of, utcnow, when_column


class SurveyRun(SQLModel, table=True):
    __tablename__ = "survey_run"
    __table_args__ = (
        UniqueConstraint("team_id", "squad", "survey", "period", name="uq_survey_run_period"),
        Index("ix_survey_run_state", "team_id", "squad", "survey", "state"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    squad: str = Field(default=DEFAULT_SQUAD, max_length=32, sa_column_kwargs=SQUAD_DEFAULT)
    survey: str = Field(max_length=40)
    period: str = Field(max_length=20)
    state: str = Field(default="open", max_length=12)  # open, closed, skipped
    opens_at: datetime = Field(sa_column=when_column())
    closes_at: datetime = Field(sa_column=when_column())
    closed_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    audience: int = 0  # people invited when it opened
    note: str = Field(default="", max_length=200)  # why it was skipped, who opened it by hand
    # The scheduled opening as a wall-clock time ("2026-10-30T10:00"): each person is invited when it comes in
    # their own time zone. NULL for a run opened by hand (everyone invited at once).
    local_opening: str | None = Field(default=None, max_length=16)
    # The questions asked (a JSON list of their definitions) as the run opened; NULL for runs from before it was
    # kept (they ask the survey's questions as configured).
    questions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())


class SurveyRespondent(SQLModel, table=True):
    __tablename__ = "survey_respondent"
    __table_args__ = (UniqueConstraint("team_id", "run_id", "user_id", name="uq_survey_respondent"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    run_id: int = Field(sa_column=Column(Integer, ForeignKey("survey_run.id", ondelete="CASCADE"), nullable=False))
    user_id: str = Field(max_length=32)
    responded_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    reminded_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    invited_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
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


def _insert(session: Session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# ----- runs ------------------------------------------------------------------------------------------------------

def add_run(session: Session, run: SurveyRun) -> SurveyRun | None:
    """Insert a run in a savepoint; None when its (team, survey, period) already exists."""
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:
        return None
    return run


def run_by_period(session: Session, team_id: str, survey: str, period: str,
                  squad: str = DEFAULT_SQUAD) -> SurveyRun | None:
    return session.scalars(select(SurveyRun).where(
        col(SurveyRun.team_id) == team_id, col(SurveyRun.squad) == squad, col(SurveyRun.survey) == survey,
        col(SurveyRun.period) == period)).first()


# The submission path's statements, built once (building a statement costs more than running it on SQLite).
_RUN_SHARED = select(SurveyRun).where(col(SurveyRun.id) == bindparam("run"),
                                      col(SurveyRun.team_id) == bindparam("team")).with_for_update(read=True)
_LOCK_RESPONDENT = (select(col(SurveyRespondent.id), col(SurveyRespondent.responded_at),
                           col(SurveyRespondent.replace_nonce))
                    .where(col(SurveyRespondent.team_id) == bindparam("team"),
                           col(SurveyRespondent.run_id) == bindparam("run"),
                           col(SurveyRespondent.user_id) == bindparam("user"))
                    .with_for_update())
_MARK_RESPONDED = (update(SurveyRespondent).where(col(SurveyRespondent.id) == bindparam("respondent"))
                   .values(responded_at=bindparam("at"), replace_nonce=bindparam("nonce")))
_DELETE_SET = (delete(table_of(SurveyAnswer))
               .where(col(SurveyAnswer.run_id) == bindparam("run"),
                      col(SurveyAnswer.answer_set) == bindparam("answer_set")))
_INSERT_ANSWER = table_of(SurveyAnswer).insert()


def get_run(session: Session, team_id: str, run_id: int, *, share_lock: bool = False) -> SurveyRun | None:
    """A run of this team; `share_lock` keeps it from closing until the transaction ends (PostgreSQL)."""
    if share_lock:
        return session.scalars(_RUN_SHARED, {"run": run_id, "team": team_id}).first()
    query = select(SurveyRun).where(col(SurveyRun.id) == run_id, col(SurveyRun.team_id) == team_id)
    return session.scalars(query).first()


def runs_in_state(session: Session, team_id: str, survey: str | None, state: str) -> list[SurveyRun]:
    query = select(SurveyRun).where(col(SurveyRun.team_id) == team_id, col(SurveyRun.state) == state)
    if survey:
        query = query.where(col(SurveyRun.survey) == survey)
    return list(session.scalars(query.order_by(col(SurveyRun.opens_at))))


def runs_asked(session: Session, team_id: str, survey: str, squad: str = DEFAULT_SQUAD) -> int:
    """How many runs of the survey the team was asked (open or closed; not the skipped ones)."""
    return session.scalar(select(func.count()).select_from(SurveyRun).where(
        col(SurveyRun.team_id) == team_id, col(SurveyRun.squad) == squad, col(SurveyRun.survey) == survey,
        col(SurveyRun.state) != "skipped")) or 0


def latest_run(session: Session, team_id: str, survey: str, states: Sequence[str] = ("open", "closed"),
               period: str | None = None, squad: str = DEFAULT_SQUAD) -> SurveyRun | None:
    query = select(SurveyRun).where(col(SurveyRun.team_id) == team_id, col(SurveyRun.squad) == squad,
                                    col(SurveyRun.survey) == survey, col(SurveyRun.state).in_(states))
    if period:
        query = query.where(col(SurveyRun.period) == period)
    return session.scalars(query.order_by(col(SurveyRun.opens_at).desc()).limit(1)).first()


def closed_runs_until(session: Session, team_id: str, survey: str, until: datetime, limit: int,
                      squad: str = DEFAULT_SQUAD) -> list[SurveyRun]:
    """The newest `limit` closed runs opened at or before `until`, oldest first."""
    query = (select(SurveyRun)
             .where(col(SurveyRun.team_id) == team_id, col(SurveyRun.squad) == squad, col(SurveyRun.survey) == survey,
                    col(SurveyRun.state) == "closed", col(SurveyRun.opens_at) <= until)
             .order_by(col(SurveyRun.opens_at).desc()).limit(limit))
    return list(reversed(list(session.scalars(query))))


def close_run(session: Session, run: SurveyRun, now: datetime) -> None:
    """Mark closed and erase the respondents' nonces: from now on no answer can be traced to anyone."""
    run.state, run.closed_at = "closed", now
    session.add(run)
    # Every respondent row is rewritten (also on PostgreSQL, where that gives each row a new xmin, so
    # transaction ids no longer pair a respondent with the answers written in the same transaction).
    session.execute(update(SurveyRespondent).where(col(SurveyRespondent.run_id) == run.id)
                    .values(replace_nonce=None).execution_options(synchronize_session=False))


# ----- respondents -----------------------------------------------------------------------------------------------

def add_respondents(session: Session, team_id: str, run_id: int, users: Iterable[str]) -> int:
    rows = [{"team_id": team_id, "run_id": run_id, "user_id": user, "opted_out": False}
            for user in dict.fromkeys(users)]
    if rows:
        stmt = _insert(session)(table_of(SurveyRespondent)).on_conflict_do_nothing(
            index_elements=["team_id", "run_id", "user_id"])
        session.execute(stmt, rows)
    return len(rows)


@dataclass(frozen=True)
class Locked:
    id: int
    responded_at: datetime | None
    replace_nonce: str | None


def lock_respondent(session: Session, team_id: str, run_id: int, user_id: str) -> Locked | None:
    """This person's row for the run, locked until the transaction ends; None when they were not asked."""
    row = session.connection().execute(_LOCK_RESPONDENT, {"team": team_id, "run": run_id, "user": user_id}).first()
    if row is None:
        return None
    respondent_id, responded_at, replace_nonce = row
    assert respondent_id is not None  # a stored row's primary key
    return Locked(respondent_id, responded_at, replace_nonce)


def mark_responded(session: Session, respondent_id: int, at: datetime, nonce: str) -> None:
    session.connection().execute(_MARK_RESPONDED, {"respondent": respondent_id, "at": at, "nonce": nonce})


def respondent(session: Session, team_id: str, run_id: int, user_id: str) -> SurveyRespondent | None:
    return session.scalars(select(SurveyRespondent).where(
        col(SurveyRespondent.team_id) == team_id, col(SurveyRespondent.run_id) == run_id,
        col(SurveyRespondent.user_id) == user_id)).first()


def not_responded(session: Session, team_id: str, run_id: int) -> list[str]:
    """The people asked in a run who have not answered yet."""
    return list(session.scalars(select(col(SurveyRespondent.user_id)).where(
        col(SurveyRespondent.team_id) == team_id, col(SurveyRespondent.run_id) == run_id,
        col(SurveyRespondent.responded_at).is_(None)).order_by(col(SurveyRespondent.user_id))))


def to_invite(session: Session, team_id: str, run_id: int) -> list[SurveyRespondent]:
    """The people of a run not invited yet (their local opening time had not come)."""
    return list(session.scalars(select(SurveyRespondent).where(
        col(SurveyRespondent.team_id) == team_id, col(SurveyRespondent.run_id) == run_id,
        col(SurveyRespondent.invited_at).is_(None)).order_by(SurveyRespondent.user_id)))


def to_remind(session: Session, team_id: str, run_id: int) -> list[SurveyRespondent]:
    return list(session.scalars(select(SurveyRespondent).where(
        col(SurveyRespondent.team_id) == team_id, col(SurveyRespondent.run_id) == run_id,
        col(SurveyRespondent.responded_at).is_(None), col(SurveyRespondent.reminded_at).is_(None),
        col(SurveyRespondent.opted_out).is_(False),
    ).order_by(SurveyRespondent.user_id)))


def response_counts(session: Session, team_id: str, run_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """run id → (people who answered, people asked or who answered unasked)."""
    if not run_ids:
        return {}
    query = (select(col(SurveyRespondent.run_id), func.count(col(SurveyRespondent.responded_at)), func.count())
             .where(col(SurveyRespondent.team_id) == team_id, col(SurveyRespondent.run_id).in_(run_ids))
             .group_by(col(SurveyRespondent.run_id)))
    rows: Result[int, int, int] = session.execute(query)
    return {run_id: (answered, total) for run_id, answered, total in rows}


def reminded_count(session: Session, run_id: int) -> int:
    return session.scalar(select(func.count(col(SurveyRespondent.reminded_at))).where(
        col(SurveyRespondent.run_id) == run_id)) or 0


# ----- answers (no person anywhere) ------------------------------------------------------------------------------

def replace_answers(session: Session, team_id: str, run_id: int, answer_set: str,
                    answers: Sequence[tuple[str, str, float | None]]) -> int:
    """Delete an answer set's rows and write the new ones; returns how many rows were replaced."""
    connection = session.connection()
    removed = connection.execute(_DELETE_SET, {"run": run_id, "answer_set": answer_set}).rowcount
    rows = [{"run_id": run_id, "answer_set": answer_set, "question_id": qid, "team_id": team_id,
             "value": value, "number": number} for qid, value, number in answers]
    if rows:
        connection.execute(_INSERT_ANSWER, rows)
    return removed


def answers(session: Session, run_id: int) -> list[tuple[str, str, str, float | None]]:
    """(answer set, question id, value, number) of a run, ordered by the random answer set."""
    query = (select(col(SurveyAnswer.answer_set), col(SurveyAnswer.question_id), col(SurveyAnswer.value),
                    col(SurveyAnswer.number))
             .where(col(SurveyAnswer.run_id) == run_id)
             .order_by(SurveyAnswer.answer_set, SurveyAnswer.question_id))
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def answer_sets(session: Session, team_id: str, run_ids: Sequence[int]) -> dict[int, int]:
    """run id → how many answer sets (responses) it holds."""
    if not run_ids:
        return {}
    query = (select(col(SurveyAnswer.run_id), func.count(func.distinct(col(SurveyAnswer.answer_set))))
             .where(col(SurveyAnswer.run_id).in_(run_ids), col(SurveyAnswer.team_id) == team_id)
             .group_by(col(SurveyAnswer.run_id)))
    return dict(session.execute(query).all())


def means(session: Session, team_id: str, run_ids: Sequence[int]) -> dict[tuple[int, str], tuple[int, float]]:
    """(run id, question id) → (answers, mean) over numeric answers, computed by the database."""
    if not run_ids:
        return {}
    query = (select(col(SurveyAnswer.run_id), col(SurveyAnswer.question_id), func.count(col(SurveyAnswer.number)),
                    func.avg(SurveyAnswer.number))
             .where(col(SurveyAnswer.run_id).in_(run_ids), col(SurveyAnswer.team_id) == team_id,
                    col(SurveyAnswer.number).is_not(None))
             .group_by(col(SurveyAnswer.run_id), col(SurveyAnswer.question_id)))
    rows: Result[int, str, int, Any] = session.execute(query)  # the mean: a Decimal on PostgreSQL
    return {(run_id, qid): (count, float(mean)) for run_id, qid, count, mean in rows}


def closed_runs_of_period(session: Session, team_id: str, survey: str, period: str) -> list[SurveyRun]:
    """The closed runs of every team of the workspace for one period."""
    query = select(SurveyRun).where(col(SurveyRun.team_id) == team_id, col(SurveyRun.survey) == survey,
                                    col(SurveyRun.period) == period, col(SurveyRun.state) == "closed")
    return list(session.scalars(query.order_by(col(SurveyRun.squad))))


def closed_runs(session: Session, team_id: str, survey: str | None = None, since: datetime | None = None,
                until: datetime | None = None, squad: str = DEFAULT_SQUAD) -> list[SurveyRun]:
    """Closed runs (of one survey, closed in (since, until]), by survey, then oldest first."""
    query = select(SurveyRun).where(col(SurveyRun.team_id) == team_id, col(SurveyRun.squad) == squad,
                                    col(SurveyRun.state) == "closed")
    if survey:
        query = query.where(col(SurveyRun.survey) == survey)
    if since is not None:
        query = query.where(col(SurveyRun.closed_at) > since)
    if until is not None:
        query = query.where(col(SurveyRun.closed_at) <= until)
    return list(session.scalars(query.order_by(col(SurveyRun.survey), col(SurveyRun.opens_at))))
