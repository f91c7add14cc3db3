"""refused applications (counted per day and reason) and rate-limit counters shared by every process

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 15:30:00
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import calendars.sqltypes

revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('refusal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('destination', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('applicant_id', sa.Integer(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('created_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refusal')),
    sa.UniqueConstraint('key', name=op.f('uq_refusal_key'))
    )
    op.create_index(op.f('ix_refusal_last_at'), 'refusal', ['last_at'], unique=False)
    op.create_table('rate_counter',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_counter'))
    )
    op.create_index(op.f('ix_rate_counter_expires_at'), 'rate_counter', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rate_counter_expires_at'), table_name='rate_counter')
    op.drop_table('rate_counter')
    op.drop_index(op.f('ix_refusal_last_at'), table_name='refusal')
    op.drop_table('refusal')
