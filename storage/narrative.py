"""The report narrative's own tables: the quarterly budget as people enter it (every entry kept, for the trend) and
the titles and states of the Jira/GitHub issues that report notes link to (a cache). Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, select
from sqlmodel import Field, Session, SQLModel, col

from storage.types import utcnow, when_column


class BudgetEntry(SQLModel, table=True):
    """`/report budget <spent> of <quarterly budget>`: one row per entry; the newest of a quarter is in force."""

    __tablename__ = "budget_entry"
    __table_args__ = (Index("ix_budget_entry_quarter", "team_id", "quarter", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    quarter: str = Field(max_length=8)  # 2026-Q4, in the team's time zone
    spent: float
    budget: float
    author: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_column=when_column())


class LinkUnfurl(SQLModel, table=True):
    """An issue a note links to, as its source last described it."""

    __tablename__ = "link_unfurl"
    __table_args__ = (UniqueConstraint("team_id", "link", name="uq_link_unfurl"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    link: str = Field(max_length=300)  # PROJ-123, owner/repo#12
    title: str = Field(max_length=300)
    state: str = Field(max_length=60)
    fetched_at: datetime = Field(default_factory=utcnow, sa_column=when_column())


def add_budget(session: Session, entry: BudgetEntry) -> BudgetEntry:
    session.add(entry)
    session.flush()
    return entry


def budget_history(session: Session, team_id: str, quarter: str) -> list[BudgetEntry]:
    """The quarter's entries, oldest first."""
    query = select(BudgetEntry).where(col(BudgetEntry.team_id) == team_id, col(BudgetEntry.quarter) == quarter)
    return list(session.scalars(query.order_by(col(BudgetEntry.at), col(BudgetEntry.id))))


def unfurls(session: Session, team_id: str, links: list[str]) -> dict[str, LinkUnfurl]:
    if not links:
        return {}
    query = select(LinkUnfurl).where(col(LinkUnfurl.team_id) == team_id, col(LinkUnfurl.link).in_(links))
    return {row.link: row for row in session.scalars(query)}


def save_unfurl(session: Session, team_id: str, link: str, title: str, state: str, at: datetime) -> None:
    row = unfurls(session, team_id, [link]).get(link) or LinkUnfurl(team_id=team_id, link=link, title="", state="")
    row.title, row.state, row.fetched_at = title[:300], state[:60], at
    session.add(row)
    session.flush()
