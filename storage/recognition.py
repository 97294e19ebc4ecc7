"""Kudos, team achievements and KPI crossing state. Never commits."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import Column, Index, Result, Text, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from storage.types import utcnow, when_column


class Kudos(SQLModel, table=True):
    """One award from one person to another; `suggestion_key` makes a confirmed suggestion count once."""

    __tablename__ = "kudos"
    __table_args__ = (
        UniqueConstraint("team_id", "suggestion_key", name="uq_kudos_suggestion"),
        Index("ix_kudos_team_at", "team_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    giver: str = Field(max_length=32)
    receiver: str = Field(max_length=32)
    award: str = Field(max_length=40)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    suggestion_key: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())


class Achievement(SQLModel, table=True):
    """A team achievement (Sprint Excellence, Release Success, Quality Milestone, Customer Impact, a KPI on target,
    a phase complete), recorded once per `key`."""

    __tablename__ = "achievement"
    __table_args__ = (
        UniqueConstraint("team_id", "key", name="uq_achievement_key"),
        Index("ix_achievement_team_at", "team_id", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    key: str = Field(max_length=160)
    kind: str = Field(max_length=40)
    title: str = Field(max_length=200)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    by: str = Field(default="", max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_column=when_column())


class KpiCrossing(SQLModel, table=True):
    """Whether a KPI currently meets a level (its target, its stretch goal, a whole phase): celebrate on each rise."""

    __tablename__ = "kpi_crossing"
    __table_args__ = (UniqueConstraint("team_id", "kpi", "level", name="uq_kpi_crossing"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    kpi: str = Field(max_length=80)
    level: str = Field(max_length=20)
    reached: bool = False
    crossings: int = 0
    changed_at: datetime = Field(default_factory=utcnow, sa_column=when_column())


def add_kudos(session: Session, kudos: Kudos) -> Kudos | None:
    """Store kudos; None when its suggestion was already confirmed (the unique suggestion key)."""
    try:
        with session.begin_nested():
            session.add(kudos)
    except IntegrityError:
        return None
    return kudos


def by_suggestion(session: Session, team_id: str, key: str) -> Kudos | None:
    return session.scalars(select(Kudos).where(col(Kudos.team_id) == team_id, col(Kudos.suggestion_key) == key)).first()


def given_since(session: Session, team_id: str, giver: str, since: datetime) -> int:
    query = select(func.count()).select_from(Kudos).where(
        col(Kudos.team_id) == team_id, col(Kudos.giver) == giver, col(Kudos.created_at) >= since)
    return int(session.scalar(query) or 0)


def kudos_between(session: Session, team_id: str, since: datetime, until: datetime, limit: int = 200) -> list[Kudos]:
    query = select(Kudos).where(col(Kudos.team_id) == team_id, col(Kudos.created_at) >= since,
                                col(Kudos.created_at) < until)
    return list(session.scalars(query.order_by(col(Kudos.created_at).desc(), col(Kudos.id).desc()).limit(limit)))


def leaderboard(session: Session, team_id: str, since: datetime, until: datetime) -> list[tuple[str, int, Counter]]:
    """(receiver, count, awards) ordered by count, most first; ties by who got there first."""
    rows: Result[str, str, datetime] = session.execute(
        select(col(Kudos.receiver), col(Kudos.award), col(Kudos.created_at))
        .where(col(Kudos.team_id) == team_id, col(Kudos.created_at) >= since, col(Kudos.created_at) < until)
        .order_by(col(Kudos.created_at))
    )
    awards: dict[str, Counter] = {}
    for receiver, award, _at in rows:
        awards.setdefault(receiver, Counter())[award] += 1
    ranked = sorted(awards.items(), key=lambda item: -sum(item[1].values()))
    return [(receiver, sum(counts.values()), counts) for receiver, counts in ranked]


def add_achievement(session: Session, achievement: Achievement) -> Achievement | None:
    """Record an achievement once per key; None when it was recorded before."""
    existing = session.scalars(select(Achievement).where(
        col(Achievement.team_id) == achievement.team_id, col(Achievement.key) == achievement.key)).first()
    if existing is not None:
        return None
    try:
        with session.begin_nested():
            session.add(achievement)
    except IntegrityError:
        return None
    return achievement


def achievements_between(session: Session, team_id: str, since: datetime, until: datetime,
                         limit: int = 100) -> list[Achievement]:
    query = select(Achievement).where(col(Achievement.team_id) == team_id, col(Achievement.at) >= since,
                                      col(Achievement.at) < until)
    return list(session.scalars(query.order_by(col(Achievement.at).desc(), col(Achievement.id).desc()).limit(limit)))


def crossings(session: Session, team_id: str, kpis: list[str], lock: bool = True) -> dict[tuple[str, str], KpiCrossing]:
    """Crossing state rows of these KPIs, locked for update (PostgreSQL) so two writers celebrate once."""
    query = select(KpiCrossing).where(col(KpiCrossing.team_id) == team_id, col(KpiCrossing.kpi).in_(kpis))
    if lock:
        query = query.with_for_update()
    return {(row.kpi, row.level): row for row in session.scalars(query)}


def new_crossing(session: Session, team_id: str, kpi: str, level: str, reached: bool,
                 at: datetime) -> KpiCrossing | None:
    """Insert a state row; None when another writer inserted it first."""
    row = KpiCrossing(team_id=team_id, kpi=kpi, level=level, reached=reached, changed_at=at)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row
