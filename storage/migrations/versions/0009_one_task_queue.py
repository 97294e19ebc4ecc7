"""one durable task queue (queued_task) in place of outbox_message and alert_task, whose rows it takes over

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 04:30:00.000000
"""

import json

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The columns every queued row has in all three tables; copied as they are.
COMMON = ('team_id', 'key', 'kind', 'payload', 'status', 'attempts', 'next_attempt_at', 'claimed_until',
          'last_error', 'created_at')
BATCH = 500  # rows moved per INSERT: an upload's payload holds a whole PNG


def _table(name: str, *columns: str) -> sa.TableClause:
    # Untyped columns: values go across as the database holds them (SQLite's datetime text included).
    return sa.table(name, *(sa.column(c) for c in ('id', *columns)))


OUTBOX = _table('outbox_message', *COMMON, 'channel', 'parent_key', 'ts', 'result_channel', 'sent_at')
ALERT_TASK = _table('alert_task', *COMMON, 'done_at')
QUEUE = _table('queued_task', *COMMON, 'parent_key', 'result', 'finished_at')


def _from_outbox(row) -> dict:
    """A Slack call: its channel goes into the payload, where Slack put it (channel, ts) into the result."""
    payload = json.loads(row.payload)
    payload['channel'] = row.channel
    result = json.dumps({'channel': row.result_channel or row.channel, 'ts': row.ts}) if row.ts else None
    return {**{c: row._mapping[c] for c in COMMON}, 'payload': json.dumps(payload), 'parent_key': row.parent_key,
            'result': result, 'finished_at': row.sent_at}


def _from_alert_task(row) -> dict:
    return {**{c: row._mapping[c] for c in COMMON}, 'parent_key': None, 'result': None, 'finished_at': row.done_at}


def _to_outbox(row) -> dict:
    payload = json.loads(row.payload)
    channel = payload.pop('channel', '')
    result = json.loads(row.result) if row.result else {}
    return {**{c: row._mapping[c] for c in COMMON}, 'payload': json.dumps(payload), 'channel': channel,
            'parent_key': row.parent_key, 'ts': result.get('ts'), 'result_channel': result.get('channel'),
            'sent_at': row.finished_at}


def _to_alert_task(row) -> dict:
    return {**{c: row._mapping[c] for c in COMMON}, 'done_at': row.finished_at}


def _move(source: sa.TableClause, target: sa.TableClause, convert, where=None) -> None:
    """Copy rows in id order (so that the queue keeps its order), BATCH at a time."""
    bind = op.get_bind()
    query = sa.select(source).order_by(source.c.id)
    if where is not None:
        query = query.where(where)
    rows = bind.execute(query)
    while batch := rows.fetchmany(BATCH):
        bind.execute(sa.insert(target), [convert(row) for row in batch])


def _queued_columns() -> list:
    """The columns of COMMON, as all three tables declare them (fresh objects: a Column belongs to one table)."""
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('claimed_until', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id')]


def _create(name: str, due_index: str, unique: str, *columns: sa.Column) -> None:
    op.create_table(name, *_queued_columns(), *columns, sa.UniqueConstraint('team_id', 'key', name=unique))
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(due_index, ['status', 'next_attempt_at'], unique=False)


def upgrade() -> None:
    _create('queued_task', 'ix_queued_task_due', 'uq_queued_task_key',
            sa.Column('parent_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
            sa.Column('result', sa.Text(), nullable=True),
            sa.Column('finished_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    _move(OUTBOX, QUEUE, _from_outbox)
    _move(ALERT_TASK, QUEUE, _from_alert_task)
    op.drop_table('alert_task')  # its indexes go with it
    op.drop_table('outbox_message')


def downgrade() -> None:
    """Back to two tables: the Slack kinds to the outbox, every other kind to the alert tasks."""
    _create('outbox_message', 'ix_outbox_due', 'uq_outbox_key',
            sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
            sa.Column('parent_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
            sa.Column('ts', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
            sa.Column('result_channel', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
            sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    _create('alert_task', 'ix_alert_task_due', 'uq_alert_task_key',
            sa.Column('done_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    slack = QUEUE.c.kind.in_(('post', 'ephemeral', 'update', 'upload'))
    _move(QUEUE, OUTBOX, _to_outbox, slack)
    _move(QUEUE, ALERT_TASK, _to_alert_task, ~slack)
    op.drop_table('queued_task')
