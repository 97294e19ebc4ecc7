"""Alembic, driven from code: `aurum db upgrade` calls upgrade(); every start calls upgrade_if_behind(), which looks
at the database's revision with one query and imports Alembic only when there is something to apply."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in storage/migrations (tests/storage/test_migrations.py checks it against Alembic's own view).
HEAD = "0016"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # imported when used: a work process never migrates

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def upgrade_if_behind(engine: Engine) -> None:
    """Apply the migrations the database lacks; a database at HEAD costs one query and no Alembic import."""
    if current_revisions(engine) != {HEAD}:
        upgrade(engine)


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (Alembic's version table, read with plain SQL); empty for a new database."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return set()
        return set(conn.scalars(text("SELECT version_num FROM alembic_version")))


def head_revisions() -> set[str]:
    """The newest revision of each branch in storage/migrations."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return set(ScriptDirectory.from_config(config).get_heads())


def at_head(engine: Engine) -> bool:
    """True when the database has every migration applied (readiness)."""
    try:
        return current_revisions(engine) == {HEAD}
    except Exception:  # noqa: BLE001 - readiness reports, never raises
        return False
