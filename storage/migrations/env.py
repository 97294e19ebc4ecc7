"""Alembic environment: runs against the engine handed over by storage.migrate."""

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  - registers the tables on SQLModel.metadata

MIGRATION_LOCK = 0x417572756D  # "Aurum"
config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes start at once: one migrates, the others wait here and then find nothing to do.
            # (SQLite needs nothing: the BEGIN IMMEDIATE of storage.db already serialises them.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()
    connection.commit()
