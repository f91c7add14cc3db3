"""Tables of the recruiter workspace's people: accounts, one-time sign-in links, sessions, and the audit log.

Secrets are kept only as SHA-256 hashes (a sign-in link's token, a session's token): a copy of the database
signs nobody in. The audit log names who did what to which applicant id, never the applicant's data.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from calendars.sqltypes import UTCDateTime


class Account(SQLModel, table=True):
    """A person of the company who may sign in: admin, recruiter or interviewer (core.vocab.Role).

    Removing a person keeps the row (the audit log still says who they were) with `removed_at` set."""

    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)  # lower case
    role: str = Field(max_length=16)  # Role
    name: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    removed_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_sign_in_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class SignInToken(SQLModel, table=True):
    """A one-time sign-in link: valid until `expires_at`, spent when `used_at` is set."""

    __tablename__ = "sign_in_token"
    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)  # SHA-256 of the link's token, hex
    account_id: int = Field(foreign_key="account.id", index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class StaffSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries the token, this row its hash: deleting the row signs that
    browser out on its next request (sign-out, removal), whatever copy of the cookie is left."""

    __tablename__ = "staff_session"
    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    account_id: int = Field(foreign_key="account.id", index=True)
    via: str = Field(max_length=16)  # link | google
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AuditEntry(SQLModel, table=True):
    """One thing a person did (core.vocab.AuditAction): who, what, which applicant id, when; never personal data."""

    __tablename__ = "audit_entry"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    account_id: Optional[int] = Field(default=None, foreign_key="account.id")  # None: the CLI or a mail link
    via: str = Field(max_length=16)  # web | cli | mail_link | google
    action: str = Field(max_length=32)  # AuditAction
    applicant_id: Optional[int] = Field(default=None, index=True)
    target_account_id: Optional[int] = Field(default=None)  # whom an invite or removal was about
    detail: str = Field(default="", max_length=64)  # a stored word (an outcome, a role), never free text
