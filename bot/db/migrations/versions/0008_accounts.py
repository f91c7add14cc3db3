"""people of the company who sign in (accounts), their one-time sign-in links and sessions, and the audit log

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:30:00
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import calendars.sqltypes

revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('removed_at', calendars.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_sign_in_at', calendars.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('email', name=op.f('uq_account_email'))
    )
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=True),
    sa.Column('target_account_id', sa.Integer(), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_audit_entry_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    op.create_index(op.f('ix_audit_entry_applicant_id'), 'audit_entry', ['applicant_id'], unique=False)
    op.create_index(op.f('ix_audit_entry_at'), 'audit_entry', ['at'], unique=False)
    op.create_table('sign_in_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('used_at', calendars.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_sign_in_token_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_token_token_hash'))
    )
    op.create_index(op.f('ix_sign_in_token_account_id'), 'sign_in_token', ['account_id'], unique=False)
    op.create_table('staff_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', calendars.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_staff_session_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_session_token_hash'))
    )
    op.create_index(op.f('ix_staff_session_account_id'), 'staff_session', ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_staff_session_account_id'), table_name='staff_session')
    op.drop_table('staff_session')
    op.drop_index(op.f('ix_sign_in_token_account_id'), table_name='sign_in_token')
    op.drop_table('sign_in_token')
    op.drop_index(op.f('ix_audit_entry_at'), table_name='audit_entry')
    op.drop_index(op.f('ix_audit_entry_applicant_id'), table_name='audit_entry')
    op.drop_table('audit_entry')
    op.drop_table('account')
