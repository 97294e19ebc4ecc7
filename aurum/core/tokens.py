"""API tokens for the bot's HTTP APIs (the push API and whatever follows).

A token is random (`aur_` + 43 URL-safe characters, 256 bits), shown once when created, and stored only as its
SHA-256 hash with the workspace it belongs to. A presented token is hashed, looked up by that hash, and the
stored hash is compared with `hmac.compare_digest`, so neither the database nor the timing gives it away.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage import api_tokens as repo
from storage.api_tokens import ApiToken

PREFIX = "aur_"
SHOWN_PREFIX = 10


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the whole token; shown to the user once and never stored


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create(session: Session, team_id: str, name: str, *, scopes: str = "", created_by: str = "") -> NewToken:
    secret = PREFIX + secrets.token_urlsafe(32)
    row = repo.add(session, ApiToken(team_id=team_id, name=name[:80], prefix=secret[:SHOWN_PREFIX],
                                     token_hash=hash_token(secret), scopes=scopes, created_by=created_by))
    return NewToken(token=row, secret=secret)


def verify(session: Session, secret: str | None, *, scope: str | None = None,
           now: datetime | None = None) -> ApiToken | None:
    """The live token matching `secret` (with `scope`, when given), or None. Records when it was last used."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    presented = hash_token(secret)
    row = repo.by_hash(session, presented)
    if row is None or not hmac.compare_digest(row.token_hash, presented) or row.revoked_at is not None:
        return None
    if scope is not None and scope not in {s.strip() for s in row.scopes.split(",") if s.strip()}:
        return None
    if now is not None:
        row.last_used_at = now
        session.add(row)
    return row


def revoke(session: Session, token_id: int, now: datetime, team_id: str | None = None) -> ApiToken | None:
    row = session.get(ApiToken, token_id)
    if row is None or (team_id is not None and row.team_id != team_id):
        return None
    row.revoked_at = row.revoked_at or now
    session.add(row)
    return row


def matching(session: Session, reference: str) -> list[ApiToken]:
    """The tokens `reference` names: an id as `aurum token list` shows it (3 or #3), the first characters shown
    there (aur_jfVNDg, with or without the …; fewer name every token starting so), or the whole token."""
    wanted = reference.strip().lstrip("#").rstrip("…").strip()
    if wanted.isdigit():
        row = session.get(ApiToken, int(wanted))
        return [row] if row is not None else []
    if not wanted.startswith(PREFIX) or len(wanted) == len(PREFIX):
        return []
    if len(wanted) > SHOWN_PREFIX:
        row = repo.by_hash(session, hash_token(wanted))
        return [row] if row is not None else []
    return [row for row in repo.listing(session) if row.prefix.startswith(wanted)]


def from_header(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer aur_…` header."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
