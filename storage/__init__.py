"""Persistence: SQLModel tables, repositories that take a session and never commit, and Alembic migrations."""
