"""Alembic environment: runs against the engine handed over by storage.migrate."""

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import storage.schema  # noqa: F401  - registers the tables on SQLModel.metadata

MIGRATION_LOCK = 0x417572756D  # "Aurum"
config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite's DDL is transactional too. Alembic assumes otherwise and would commit after each migration,
        # letting a second process starting at the same moment slip in between and apply one again.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        # Several processes start at once: one migrates, the others wait here and then find nothing to do
        # (SQLite: the BEGIN IMMEDIATE of storage.db, held for the whole run; PostgreSQL: an advisory lock).
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()
    connection.commit()
