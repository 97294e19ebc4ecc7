"""a survey run keeps the questions it was opened with (JSON): settings changed while it is open apply from the next
run, and the answers always match the questions asked

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('survey_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('questions', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('survey_run', schema=None) as batch_op:
        batch_op.drop_column('questions')
