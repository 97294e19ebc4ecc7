"""settings edited in Slack: a workspace's settings document (versioned) and the log of its changes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-12 09:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'settings_document',
        sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint('team_id'),
    )
    op.create_table(
        'settings_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('before', sa.Text(), nullable=True),
        sa.Column('after', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_settings_change_team_at', 'settings_change', ['team_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_settings_change_team_at', table_name='settings_change')
    op.drop_table('settings_change')
    op.drop_table('settings_document')
