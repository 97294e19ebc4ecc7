"""teams inside a workspace: a squad column on the rows a team owns (snapshots and their rollups, sprints, survey
runs, blockers and commitments); every row there already becomes the workspace's default team's (squad "")

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

ROLLUPS = {'kpi_day': 'day', 'kpi_hour': 'hour'}
ROLLUP_VALUES = ['count', 'total', 'seconds', 'low', 'high']


def _squad(primary_key: bool = False) -> sa.Column:
    return sa.Column('squad', sqlmodel.sql.sqltypes.AutoString(length=32), server_default='', nullable=False,
                     primary_key=primary_key)


def _rollup_table(name: str, bucket: str, squad: bool) -> None:
    keys = ['team_id', *(['squad'] if squad else []), 'kpi', bucket]
    op.create_table(name,
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    *([_squad()] if squad else []),
    sa.Column('kpi', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('low', sa.Float(), nullable=False),
    sa.Column('high', sa.Float(), nullable=False),
    sa.Column(bucket, sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*keys),
    **({'sqlite_with_rowid': False} if name == 'kpi_hour' else {}),
    )


def _rekey_rollups(squad: bool) -> None:
    """A rollup's primary key gains (or loses) the squad: a new table, the rows copied, the old one dropped."""
    for name, bucket in ROLLUPS.items():
        op.rename_table(name, f'{name}_old')
        _rollup_table(name, bucket, squad)
        columns = ', '.join(['team_id', 'kpi', bucket, *ROLLUP_VALUES])
        if squad:
            op.execute(f"INSERT INTO {name} (squad, {columns}) SELECT '', {columns} FROM {name}_old")
        else:
            op.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {name}_old WHERE squad = ''")
        op.drop_table(f'{name}_old')


def upgrade() -> None:
    with op.batch_alter_table('kpi_snapshot', schema=None) as batch_op:
        batch_op.add_column(_squad())
        batch_op.drop_index('ix_snapshot_team_kpi_at_value')
        batch_op.drop_constraint('uq_snapshot_point', type_='unique')
        batch_op.create_unique_constraint('uq_snapshot_point', ['team_id', 'squad', 'kpi', 'source', 'at'])
        batch_op.create_index('ix_snapshot_team_squad_kpi_at_value', ['team_id', 'squad', 'kpi', 'at', 'value'],
                              unique=False)
    _rekey_rollups(squad=True)
    with op.batch_alter_table('sprint', schema=None) as batch_op:
        batch_op.add_column(_squad())
        batch_op.drop_constraint('uq_sprint', type_='unique')
        batch_op.create_unique_constraint('uq_sprint', ['team_id', 'squad', 'board', 'external_id'])
    with op.batch_alter_table('survey_run', schema=None) as batch_op:
        batch_op.add_column(_squad())
        batch_op.drop_index('ix_survey_run_state')
        batch_op.drop_constraint('uq_survey_run_period', type_='unique')
        batch_op.create_unique_constraint('uq_survey_run_period', ['team_id', 'squad', 'survey', 'period'])
        batch_op.create_index('ix_survey_run_state', ['team_id', 'squad', 'survey', 'state'], unique=False)
    with op.batch_alter_table('team_note', schema=None) as batch_op:
        batch_op.add_column(_squad())
        batch_op.drop_index('ix_team_note_open')
        batch_op.create_index('ix_team_note_open', ['team_id', 'squad', 'kind', 'done_at'], unique=False)


def downgrade() -> None:
    """Back to one team a workspace: only the default team's rows stay (other teams' rows would collide)."""
    for table in ('kpi_snapshot', 'sprint', 'survey_run', 'team_note'):
        op.execute(f"DELETE FROM {table} WHERE squad <> ''")
    with op.batch_alter_table('team_note', schema=None) as batch_op:
        batch_op.drop_index('ix_team_note_open')
        batch_op.create_index('ix_team_note_open', ['team_id', 'kind', 'done_at'], unique=False)
        batch_op.drop_column('squad')
    with op.batch_alter_table('survey_run', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_run_state')
        batch_op.drop_constraint('uq_survey_run_period', type_='unique')
        batch_op.create_unique_constraint('uq_survey_run_period', ['team_id', 'survey', 'period'])
        batch_op.create_index('ix_survey_run_state', ['team_id', 'survey', 'state'], unique=False)
        batch_op.drop_column('squad')
    with op.batch_alter_table('sprint', schema=None) as batch_op:
        batch_op.drop_constraint('uq_sprint', type_='unique')
        batch_op.create_unique_constraint('uq_sprint', ['team_id', 'board', 'external_id'])
        batch_op.drop_column('squad')
    _rekey_rollups(squad=False)
    with op.batch_alter_table('kpi_snapshot', schema=None) as batch_op:
        batch_op.drop_index('ix_snapshot_team_squad_kpi_at_value')
        batch_op.drop_constraint('uq_snapshot_point', type_='unique')
        batch_op.create_unique_constraint('uq_snapshot_point', ['team_id', 'kpi', 'source', 'at'])
        batch_op.create_index('ix_snapshot_team_kpi_at_value', ['team_id', 'kpi', 'at', 'value'], unique=False)
        batch_op.drop_column('squad')
