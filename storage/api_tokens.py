"""Repository of push-API tokens and idempotent requests. Never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from storage.collection import ApiRequest, ApiToken


def add(session: Session, token: ApiToken) -> ApiToken:
    session.add(token)
    session.flush()
    return token


def by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def listing(session: Session, team_id: str | None = None) -> list[ApiToken]:
    query = select(ApiToken)
    if team_id:
        query = query.where(ApiToken.team_id == team_id)
    return list(session.scalars(query.order_by(ApiToken.id)))


def revoke(session: Session, prefix: str) -> int:
    rows = list(session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)))
    for row in rows:
        session.delete(row)
    return len(rows)


def request(session: Session, team_id: str, key: str) -> ApiRequest | None:
    return session.scalars(select(ApiRequest).where(ApiRequest.team_id == team_id, ApiRequest.key == key)).first()


def remember(session: Session, row: ApiRequest) -> None:
    session.add(row)
    session.flush()
