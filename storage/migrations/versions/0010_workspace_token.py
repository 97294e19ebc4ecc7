"""the workspace a single bot token names (workspace.token_sha256), so the CLI knows it without asking Slack

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 09:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('workspace', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_workspace_token_sha256'), ['token_sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('workspace', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workspace_token_sha256'))
        batch_op.drop_column('token_sha256')
