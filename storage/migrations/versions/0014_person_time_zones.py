"""each person's time zone (person_zone), a run's scheduled wall-clock opening (survey_run.local_opening) and
when each person was invited (survey_respondent.invited_at), for invitations at each person's local time

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('person_zone',
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('checked_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'user_id')
    )
    with op.batch_alter_table('survey_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_opening', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    # Runs opened before this revision invited everyone at once: their respondents count as invited.
    with op.batch_alter_table('survey_respondent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE survey_respondent SET invited_at = (SELECT opens_at FROM survey_run "
               "WHERE survey_run.id = survey_respondent.run_id)")


def downgrade() -> None:
    with op.batch_alter_table('survey_respondent', schema=None) as batch_op:
        batch_op.drop_column('invited_at')
    with op.batch_alter_table('survey_run', schema=None) as batch_op:
        batch_op.drop_column('local_opening')
    op.drop_table('person_zone')
