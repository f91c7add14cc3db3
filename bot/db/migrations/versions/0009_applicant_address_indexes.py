"""indexes to find applications by phone and by e-mail (case-insensitive)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:35:00
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_applicant_phone', 'applicant', ['phone'], unique=False)
    op.create_index('ix_applicant_email_lower', 'applicant', [sa.func.lower(sa.text('email'))], unique=False)


def downgrade() -> None:
    op.drop_index('ix_applicant_email_lower', table_name='applicant')
    op.drop_index('ix_applicant_phone', table_name='applicant')
