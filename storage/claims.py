"""Job claims: the unique (team, job, period) row that makes a job run at most once per period."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Column, CursorResult, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from storage.types import utcnow, when_column


class JobClaim(SQLModel, table=True):
    """At most one run of a job per team and period, across restarts and clock processes."""

    __tablename__ = "job_claim"
    __table_args__ = (UniqueConstraint("team_id", "job", "period", name="uq_job_period"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    job: str = Field(max_length=80)
    period: str = Field(max_length=80)
    status: str = Field(default="running", max_length=12)
    owner: str = Field(default="", max_length=120)
    claimed_at: datetime = Field(default_factory=utcnow, sa_column=when_column())
    finished_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text))


def try_claim(session: Session, team_id: str, job: str, period: str, owner: str) -> JobClaim | None:
    """Insert the claim in a savepoint; None when another run already holds this period."""
    claim = JobClaim(team_id=team_id, job=job, period=period, owner=owner)
    try:
        with session.begin_nested():
            session.add(claim)
    except IntegrityError:
        return None
    return claim


def finish(session: Session, claim: JobClaim, error: str | None = None) -> None:
    claim.status = "failed" if error else "done"
    claim.error = error
    claim.finished_at = utcnow()
    session.add(claim)


def release(session: Session, claim: JobClaim) -> None:
    """Give a failed period back so that a later tick may try again."""
    session.delete(claim)


def release_period(session: Session, team_id: str, job: str, period: str, owner: str) -> bool:
    """Give a period back that `owner` claimed (its run's deliveries were all taken back), so that the job may run
    for it again; False when no such claim is held."""
    # A DELETE's result is a CursorResult (Session.execute is typed for any statement).
    result = cast(CursorResult, session.execute(delete(JobClaim).where(
        col(JobClaim.team_id) == team_id, col(JobClaim.job) == job, col(JobClaim.period) == period,
        col(JobClaim.owner) == owner)))
    return result.rowcount == 1


def find(session: Session, team_id: str, job: str, period: str) -> JobClaim | None:
    return session.scalars(
        select(JobClaim).where(col(JobClaim.team_id) == team_id, col(JobClaim.job) == job,
                               col(JobClaim.period) == period)
    ).first()


def recent(session: Session, team_id: str, job: str, limit: int = 10) -> list[JobClaim]:
    query = select(JobClaim).where(col(JobClaim.team_id) == team_id, col(JobClaim.job) == job)
    return list(session.scalars(query.order_by(col(JobClaim.claimed_at).desc()).limit(limit)))


def prune(session: Session, team_id: str, job: str, before: datetime) -> int:
    """Forget finished claims of a frequent job older than `before` (their periods can never come again)."""
    # A DELETE's result is a CursorResult (Session.execute is typed for any statement).
    result = cast(CursorResult, session.execute(delete(JobClaim).where(
        col(JobClaim.team_id) == team_id, col(JobClaim.job) == job, col(JobClaim.claimed_at) < before,
        col(JobClaim.status) == "done")))
    return int(result.rowcount or 0)
