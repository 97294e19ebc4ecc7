"""The whole schema: every module that declares tables, imported so that SQLModel.metadata holds them all (for
Alembic, `aurum workspace purge` and the tests). Each table lives beside its repository, in storage/<thing>.py."""

from storage import (  # noqa: F401
    alerts,
    api_tokens,
    claims,
    events,
    installations,
    live,
    narrative,
    notes,
    queue,
    recognition,
    rollups,
    settings,
    sources,
    sprints,
    surveys,
    workspaces,
    zones,
)
