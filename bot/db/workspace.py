"""Tables of the recruiter inbox: saved replies (admins edit them), internal notes on a conversation, and which
alerts a person has dealt with. Notes live apart from the message log on purpose: nothing here is ever sent, and
no page a candidate sees reads these tables."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from calendars.sqltypes import UTCDateTime


class SavedReply(SQLModel, table=True):
    """A reply a recruiter sends often, with fields ({name}, {interview}, {company}, {phone}) filled in when used.

    Empty table: the settings' [saved_replies] (or the built-in ones) are used; once an admin saves the list, this
    table is the list."""

    __tablename__ = "saved_reply"
    id: Optional[int] = Field(default=None, primary_key=True)
    position: int = Field(default=0)
    title: str = Field(max_length=80)
    body: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_by: Optional[int] = Field(default=None)  # account id


class InboxNote(SQLModel, table=True):
    """A note a person of the company left on a conversation for colleagues; never sent to the candidate."""

    __tablename__ = "inbox_note"
    id: Optional[int] = Field(default=None, primary_key=True)
    applicant_id: int = Field(foreign_key="applicant.id", index=True)
    account_id: Optional[int] = Field(default=None)
    author: str = Field(default="", max_length=200)  # the name as it was when written
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ResolvedAlert(SQLModel, table=True):
    """An alert (an outbox row on the recruiter channel) that a person marked as dealt with."""

    __tablename__ = "resolved_alert"
    outbox_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    account_id: Optional[int] = Field(default=None)
    resolved_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
