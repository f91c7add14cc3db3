"""send rates shared by every process: one row per rate-limited channel (issue 16)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:20:00
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('send_rate',
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('tat', sa.Float(), nullable=False),
    sa.Column('rate', sa.Float(), nullable=False),
    sa.Column('stamp', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('channel', name=op.f('pk_send_rate'))
    )


def downgrade() -> None:
    op.drop_table('send_rate')
