"""Push-API bearer tokens: one or more per workspace, shown once, stored only as SHA-256, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session

from storage import api_tokens as repo
from storage.collection import ApiToken

PREFIX = "aurum_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(session: Session, team_id: str, name: str = "") -> str:
    """A new token for the workspace; the plain text is returned once and never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    repo.add(session, ApiToken(team_id=team_id, name=name, token_hash=digest(token), prefix=token[:12]))
    return token


def team_of(session: Session, token: str) -> str | None:
    """The workspace a presented token belongs to, or None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    presented = digest(token)
    row = repo.by_hash(session, presented)
    # The lookup is by hash (a secret-independent index key); the final comparison is constant-time anyway.
    if row is None or not hmac.compare_digest(row.token_hash, presented):
        return None
    return row.team_id
