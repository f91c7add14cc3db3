"""the recruiter inbox: saved replies (admins edit them), internal notes on a conversation, alerts dealt with

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:20:24.918224
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import calendars.sqltypes

revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('resolved_alert',
    sa.Column('outbox_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('outbox_id', name=op.f('pk_resolved_alert'))
    )
    op.create_table('saved_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_reply'))
    )
    op.create_table('inbox_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['applicant.id'], name=op.f('fk_inbox_note_applicant_id_applicant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_note'))
    )
    with op.batch_alter_table('inbox_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_note_applicant_id'), ['applicant_id'], unique=False)
    # Alerts raised before the inbox had no way to be marked dealt with: they count as dealt with from here on, so
    # the inbox does not open with every alert of the past as "waiting". Open hand-offs still wait (handoff_open),
    # and alerts planned for later (an interview's outcome) come when they are due.
    now = datetime.now(timezone.utc)
    outbox = sa.table('outbox', sa.column('id', sa.Integer()), sa.column('channel', sa.String()),
                      sa.column('status', sa.String()), sa.column('due_at', calendars.sqltypes.UTCDateTime()))
    resolved = sa.table('resolved_alert', sa.column('outbox_id', sa.Integer()), sa.column('account_id', sa.Integer()),
                        sa.column('resolved_at', calendars.sqltypes.UTCDateTime()))
    when = sa.literal(now, calendars.sqltypes.UTCDateTime())
    op.execute(resolved.insert().from_select(
        ['outbox_id', 'account_id', 'resolved_at'],
        sa.select(outbox.c.id, sa.null(), when).where(outbox.c.channel == 'recruiter', outbox.c.status != 'cancelled',
                                                     outbox.c.due_at <= when)))



def downgrade() -> None:
    with op.batch_alter_table('inbox_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_note_applicant_id'))

    op.drop_table('inbox_note')
    op.drop_table('saved_reply')
    op.drop_table('resolved_alert')
