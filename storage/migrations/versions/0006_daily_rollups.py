"""daily rollups of snapshots (kpi_day), filled from the snapshots already stored

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-28 10:45:14.570874
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types  # noqa: F401 - the column types used by earlier revisions

revision = '0006'
down_revision = '0002'
branch_labels = None
depends_on = None

_EPOCH = {
    "sqlite": "CAST(strftime('%s', at) AS INTEGER)",
    "postgresql": "CAST(FLOOR(EXTRACT(EPOCH FROM at)) AS BIGINT)",
}


def upgrade() -> None:
    op.create_table('kpi_day',
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kpi', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('low', sa.Float(), nullable=False),
    sa.Column('high', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'kpi', 'day')
    )
    epoch = _EPOCH[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO kpi_day (team_id, kpi, day, count, total, seconds, low, high) "
        f"SELECT team_id, kpi, {epoch} / 86400, COUNT(*), SUM(value), SUM({epoch} % 86400), MIN(value), MAX(value) "
        f"FROM kpi_snapshot GROUP BY team_id, kpi, {epoch} / 86400"
    )


def downgrade() -> None:
    op.drop_table('kpi_day')
