"""hourly rollups of snapshots (kpi_hour), filled from the snapshots already stored

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 14:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types
from storage.rollups import epoch_seconds

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

HOUR = 3600


def upgrade() -> None:
    hours = op.create_table('kpi_hour',
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kpi', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('low', sa.Float(), nullable=False),
    sa.Column('high', sa.Float(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'kpi', 'hour'),
    sqlite_with_rowid=False,
    )
    snapshot = sa.table('kpi_snapshot', sa.column('team_id'), sa.column('kpi'), sa.column('value', sa.Float()),
                        sa.column('at', storage.types.UTCDateTime()))
    epoch = epoch_seconds(snapshot.c.at)
    hour = epoch // HOUR
    value = snapshot.c.value
    op.execute(hours.insert().from_select(
        ['team_id', 'kpi', 'hour', 'count', 'total', 'seconds', 'low', 'high'],
        sa.select(snapshot.c.team_id, snapshot.c.kpi, hour, sa.func.count(), sa.func.sum(value),
                  sa.func.sum(epoch % HOUR), sa.func.min(value), sa.func.max(value))
        .group_by(snapshot.c.team_id, snapshot.c.kpi, hour)))


def downgrade() -> None:
    op.drop_table('kpi_hour')
