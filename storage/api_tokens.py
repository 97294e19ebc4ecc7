"""API tokens for the bot's HTTP APIs: only a SHA-256 hash is stored. Repository functions never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint, select
from sqlmodel import Field, Session, SQLModel, col

from storage.types import utcnow, when_column


class ApiRequest(SQLModel, table=True):
    """An accepted push-API request by its Idempotency-Key: a retry gets the first answer, nothing is stored twice."""

    __tablename__ = "api_request"
    __table_args__ = (UniqueConstraint("team_id", "key", name="uq_api_request_key"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    key: str = Field(max_length=200)
    body_hash: str = Field(max_length=64)
    status: int = 200
    response: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16)  # the first characters, to recognise a token in listings
    token_hash: str = Field(max_length=64, unique=True)  # hex SHA-256 of the whole token
    scopes: str = Field(default="", max_length=200)  # comma-separated, e.g. "push"
    created_by: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())
    last_used_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))


def add(session: Session, token: ApiToken) -> ApiToken:
    session.add(token)
    session.flush()
    return token


def by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalars(select(ApiToken).where(col(ApiToken.token_hash) == token_hash)).first()


def listing(session: Session, team_id: str | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(col(ApiToken.id))
    if team_id:
        query = query.where(col(ApiToken.team_id) == team_id)
    return list(session.scalars(query))


def request(session: Session, team_id: str, key: str) -> ApiRequest | None:
    query = select(ApiRequest).where(col(ApiRequest.team_id) == team_id, col(ApiRequest.key) == key)
    return session.scalars(query).first()


def remember(session: Session, row: ApiRequest) -> None:
    session.add(row)
    session.flush()
