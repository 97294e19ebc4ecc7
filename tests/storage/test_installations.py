"""The stores' tables: created by our migrations, the same columns slack_sdk's stores use."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, inspect
from sqlmodel import SQLModel

from storage import installations


def _columns(table) -> dict[str, tuple[str, bool]]:
    return {c.name: (type(c.type).__name__, bool(c.nullable)) for c in table.columns}


def test_our_declarations_match_slack_sdks_tables():
    theirs = MetaData()
    pairs = [
        (installations.slack_installations,
         SQLAlchemyInstallationStore.build_installations_table(theirs, installations.INSTALLATIONS)),
        (installations.slack_bots, SQLAlchemyInstallationStore.build_bots_table(theirs, installations.BOTS)),
        (installations.slack_oauth_states,
         SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, installations.OAUTH_STATES)),
    ]
    for ours, expected in pairs:
        assert _columns(ours) == _columns(expected), ours.name


def test_migrations_create_every_table_as_declared(ctx):
    with ctx.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) >= {"slack_bots", "slack_installations", "slack_oauth_states",
                                                        "api_token"}
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == [], "a model changed without a migration (or the other way round)"


def test_the_stores_work_on_the_migrated_database(ctx):
    from slack_sdk.oauth.installation_store import Installation

    from bot.installations import WorkspaceInstallationStore, state_store

    store = WorkspaceInstallationStore("1111.2222", ctx.engine)
    store.save(Installation(app_id="A1", team_id="T0AAA", team_name="A", bot_token="xoxb-a", bot_id="B1",
                            bot_user_id="UB", bot_scopes="commands", user_id="U1"))
    assert store.find_bot(enterprise_id=None, team_id="T0AAA").bot_token == "xoxb-a"
    states = state_store(ctx.engine)
    state = states.issue()
    assert states.consume(state) and not states.consume(state)
