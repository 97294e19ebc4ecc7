"""The tables of slack_sdk's SQLAlchemy installation and OAuth state stores, declared on our metadata.

slack_sdk builds these tables itself (`create_tables()`); declaring the same columns here lets Alembic create
and evolve them like every other table, and lets `aurum workspace purge` find them. tests/storage checks that
these columns match what the installed slack_sdk expects. Timestamps are naive UTC, as slack_sdk writes them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, func
from sqlmodel import SQLModel

BOTS = "slack_bots"
INSTALLATIONS = "slack_installations"
OAUTH_STATES = "slack_oauth_states"


def _token_columns(prefix: str) -> list[Column]:
    return [
        Column(f"{prefix}_token", String(200)),
        *([Column("bot_id", String(32)), Column("bot_user_id", String(32))] if prefix == "bot" else []),
        Column(f"{prefix}_scopes", String(1000)),
        Column(f"{prefix}_refresh_token", String(200)),
        Column(f"{prefix}_token_expires_at", DateTime),
    ]


slack_installations = Table(
    INSTALLATIONS, SQLModel.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    *_token_columns("bot"),
    Column("user_id", String(32), nullable=False),
    *_token_columns("user"),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index(f"{INSTALLATIONS}_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)

slack_bots = Table(
    BOTS, SQLModel.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    *_token_columns("bot"),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index(f"{BOTS}_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

slack_oauth_states = Table(
    OAUTH_STATES, SQLModel.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)
