"""link codes that missed, per sender: a few misses lock codes out for a day

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:35:00
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import calendars.sqltypes

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('code_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('sender', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('misses', sa.Integer(), nullable=False),
    sa.Column('first_miss_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_attempt')),
    sa.UniqueConstraint('channel', 'sender', name='uq_code_attempt')
    )


def downgrade() -> None:
    op.drop_table('code_attempt')
