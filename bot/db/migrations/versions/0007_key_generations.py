"""a generation per key purpose (feeds, links, sessions, vault), and the vault generation of each stored credential

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:30:00
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import calendars.sqltypes

revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('key_generation',
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('rotated_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('purpose', name=op.f('pk_key_generation'))
    )
    # Rows stored before: no generation, read with the key they were written with.
    op.add_column('stored_credential', sa.Column('key_generation', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stored_credential') as batch:
        batch.drop_column('key_generation')
    op.drop_table('key_generation')
