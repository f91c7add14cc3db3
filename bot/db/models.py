"""Tables: applicants, bookings, the message log, the outbox, the inbox and processed inbound events.

No timestamp has a default: every one is written from the service's injected clock (`svc.clock()`),
so a test's fake clock and the rows it writes always agree. A row built without one fails its NOT NULL.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from functools import cache
from typing import Optional, TypeVar

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, func, inspect, text
from sqlmodel import Field, SQLModel

from calendars.sqltypes import UTCDateTime


def _token() -> str:
    return secrets.token_urlsafe(16)



class Applicant(SQLModel, table=True):
    """A candidate who applied for a job, with their contact details and conversation state."""

    # Found by address on every application (the same person, one greeting a day) and every inbound SMS.
    __table_args__ = (Index("ix_applicant_phone", "phone"),
                      Index("ix_applicant_email_lower", func.lower(text("email"))))

    id: Optional[int] = Field(default=None, primary_key=True)
    token: str = Field(default_factory=_token, unique=True, index=True, max_length=40)
    external_id: Optional[str] = Field(default=None, unique=True, max_length=200)
    name: str = Field(max_length=200)
    email: Optional[str] = Field(default=None, max_length=320)
    phone: Optional[str] = Field(default=None, max_length=20)  # E.164
    line_user_id: Optional[str] = Field(default=None, unique=True, max_length=64)
    link_code: Optional[str] = Field(default=None, unique=True, max_length=16)
    channel: str = Field(max_length=16)  # line | sms | email | sandbox
    contact_window: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    locale: str = Field(default="ja", max_length=5)
    job_id: str = Field(max_length=64)
    source: Optional[str] = Field(default=None, max_length=100)
    state: str = Field(default="new", max_length=20, index=True)
    offered: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The days of the date menu last shown (ISO dates, numbered 1..n); empty when the last list was times.
    # `offered` and `offered_dates` are never both set: a number always means the list shown last.
    offered_dates: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The same person applying again (same phone, e-mail or LINE user) shares the first application's id here.
    person_id: Optional[int] = Field(default=None, index=True)
    # A person owes the candidate an answer (hand-off); kept through stop/start, cleared when the bot resumes.
    handoff_open: bool = Field(default=False)
    # What the candidate asked for and the bot is waiting to have confirmed (e.g. "cancel"), else None.
    pending: Optional[str] = Field(default=None, max_length=20)
    opted_out: bool = Field(default=False)
    blocked: bool = Field(default=False)  # blocked our LINE account (unfollow)
    unreachable: bool = Field(default=False)  # no reply after every nudge
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_inbound_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Booking(SQLModel, table=True):
    """An interview booked for an applicant; `active_slot` is unique while the booking is live."""

    id: Optional[int] = Field(default=None, primary_key=True)
    token: str = Field(default_factory=_token, unique=True, max_length=40)
    applicant_id: int = Field(foreign_key="applicant.id", index=True)
    interviewer: str = Field(max_length=64)
    start_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    end_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default="booked", max_length=16)  # booked|confirmed|cancelled|attended|no_show
    # Set to the slot key while the booking is live, NULL once cancelled: the database refuses a
    # second live booking of the same interviewer's slot (NULLs never collide).
    active_slot: Optional[str] = Field(default=None, unique=True, max_length=120)
    calendar_event_id: Optional[str] = Field(default=None, max_length=200)
    calendar_id: Optional[str] = Field(default=None, max_length=200)  # the backend calendar holding the event
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    confirmed_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    cancelled_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # When a recruiter recorded attended / no-show (undo is possible for a few minutes after).
    marked_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    status_before_mark: Optional[str] = Field(default=None, max_length=16)


class MessageLog(SQLModel, table=True):
    """Every message in or out, per applicant, as the candidate saw or wrote it."""

    __tablename__ = "message_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    applicant_id: int = Field(foreign_key="applicant.id", index=True)
    direction: str = Field(max_length=3)  # in | out
    channel: str = Field(max_length=16)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outbox_id: Optional[int] = Field(default=None, index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Outbox(SQLModel, table=True):
    """A message to send (now or at due_at), claimed and sent by the worker exactly once."""

    __table_args__ = (Index("ix_outbox_due", "status", "due_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    applicant_id: Optional[int] = Field(default=None, foreign_key="applicant.id", index=True)
    booking_id: Optional[int] = Field(default=None, foreign_key="booking.id", index=True)
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=32)  # greeting | slots | confirmation | reminder | ...
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default="pending", max_length=12)  # pending|sending|sent|failed|cancelled
    attempts: int = Field(default=0)
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    idempotency_key: str = Field(default_factory=lambda: secrets.token_hex(16), unique=True, max_length=64)
    lease_owner: Optional[str] = Field(default=None, max_length=64)
    lease_until: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    provider_message_id: Optional[str] = Field(default=None, max_length=100, index=True)
    delivery_mode: Optional[str] = Field(default=None, max_length=12)  # LINE: reply | push
    delivery_status: Optional[str] = Field(default=None, max_length=20)  # provider callbacks: delivered, ...
    fallback_for: Optional[int] = Field(default=None)  # the outbox row this one replaces on another channel
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class InboxItem(SQLModel, table=True):
    """Inbound work a channel kept before answering its webhook (bot.service.inbox): run once, in order per sender."""

    __tablename__ = "inbox_item"
    __table_args__ = (UniqueConstraint("channel", "event_id", name="uq_inbox_item_event"),
                      Index("ix_inbox_item_due", "status", "due_at"),
                      Index("ix_inbox_item_sender", "sender", "status"))
    id: Optional[int] = Field(default=None, primary_key=True)  # arrival order
    channel: str = Field(max_length=16)  # whose handler runs it
    sender: Optional[str] = Field(default=None, max_length=320)  # one sender's items run in order; None: any order
    event_id: Optional[str] = Field(default=None, max_length=128)  # the channel's id: a redelivery is kept once
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=12)  # pending|processing|done|failed
    attempts: int = Field(default=0)
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    lease_owner: Optional[str] = Field(default=None, max_length=64)
    lease_until: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    processed_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ContactOptOut(SQLModel, table=True):
    """An address (phone, e-mail, LINE user) that asked for no more messages on a channel, for every
    application, until the person opts back in from that address."""

    __tablename__ = "contact_opt_out"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_contact_opt_out"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)  # sms | email | line
    address: str = Field(max_length=320)  # E.164 phone, lower-cased e-mail, LINE user id
    reason: str = Field(max_length=40)  # stop_word | blocked | unsubscribed | carrier
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class InboundEvent(SQLModel, table=True):
    """An inbound event id already processed (webhook redeliveries are dropped by this key)."""

    __tablename__ = "inbound_event"
    __table_args__ = (UniqueConstraint("source", "event_id", name="uq_inbound_event"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)
    event_id: str = Field(max_length=128)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ShortLink(SQLModel, table=True):
    """A short /r/<token> link to content, so SMS stay short and opens are counted."""

    __tablename__ = "short_link"
    id: Optional[int] = Field(default=None, primary_key=True)
    token: str = Field(unique=True, max_length=16)
    applicant_id: Optional[int] = Field(default=None, foreign_key="applicant.id", index=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    opens: int = Field(default=0)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    first_opened_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class LineLead(SQLModel, table=True):
    """A LINE friend without an application yet, part-way through applying inside LINE."""

    __tablename__ = "line_lead"
    id: Optional[int] = Field(default=None, primary_key=True)
    line_user_id: str = Field(unique=True, max_length=64)
    step: str = Field(default="name", max_length=16)
    name: Optional[str] = Field(default=None, max_length=200)
    job_id: Optional[str] = Field(default=None, max_length=64)
    phone: Optional[str] = Field(default=None, max_length=20)
    locale: str = Field(default="ja", max_length=5)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class CalendarSync(SQLModel, table=True):
    """Where the worker left off reading an outside calendar's changes (Google sync token)."""

    __tablename__ = "calendar_sync"
    id: Optional[int] = Field(default=None, primary_key=True)
    calendar: str = Field(unique=True, max_length=200)
    sync_token: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    last_synced_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))


class StoredCredential(SQLModel, table=True):
    """A secret we had to keep (an OAuth refresh token), encrypted with a key derived from SECRET_KEY."""

    __tablename__ = "stored_credential"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    ciphertext: str = Field(sa_column=Column(Text, nullable=False))
    # The vault key's generation it is encrypted under (KeyGeneration); None: stored before keys had generations.
    key_generation: Optional[int] = Field(default=None)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class CodeAttempt(SQLModel, table=True):
    """Link codes a sender (a LINE user) sent that matched no application: after a few, codes from them are
    not even looked up for a while, so the short codes cannot be guessed by trying."""

    __tablename__ = "code_attempt"
    __table_args__ = (UniqueConstraint("channel", "sender", name="uq_code_attempt"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    sender: str = Field(max_length=320)
    misses: int = Field(default=0)
    first_miss_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Refusal(SQLModel, table=True):
    """Applications refused (or greetings held back) to protect the company's name and its SMS bill, counted per
    day, reason, source, client network and destination, so a flood is one row with a count, not a million rows.
    The destination is kept masked (+44 909 ••• •12, h•••@example.com) and the client as its network."""

    __tablename__ = "refusal"
    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)  # hash of (day, reason, source, channel, destination, client)
    reason: str = Field(max_length=32)  # RefusalReason
    source: str = Field(max_length=16)  # form | api
    channel: Optional[str] = Field(default=None, max_length=16)
    destination: Optional[str] = Field(default=None, max_length=80)  # masked
    client: Optional[str] = Field(default=None, max_length=64)  # the client's network (/24, /48), not its address
    job_id: Optional[str] = Field(default=None, max_length=64)
    applicant_id: Optional[int] = Field(default=None)  # a stored application whose greeting was held back
    count: int = Field(default=1)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class RateCounter(SQLModel, table=True):
    """A rate-limit window's count, shared by every process (the database storage of the `limits` library, used
    when no Redis is configured). `expires_at` is that library's own clock (seconds since the epoch)."""

    __tablename__ = "rate_counter"
    key: str = Field(primary_key=True, max_length=255)
    count: int = Field(default=0)
    expires_at: float = Field(index=True)


class SendRate(SQLModel, table=True):
    """One channel's send rate for the whole deployment (bot.service.sendrates, used when no Redis is configured):
    a GCRA "theoretical arrival time" `tat`, the current `rate` (lowered by a 429, creeping back) and the `stamp`
    of the last change, all in seconds since the epoch (time.time, the one clock every process agrees on)."""

    __tablename__ = "send_rate"
    channel: str = Field(primary_key=True, max_length=32)
    tat: float
    rate: float
    stamp: float


class KeyGeneration(SQLModel, table=True):
    """How often one purpose's key (core.vocab.KeyPurpose) was rotated: its key is derived from SECRET_KEY, the
    purpose and this number, so a rotation needs no new secret. No row: generation 0, never rotated."""

    __tablename__ = "key_generation"
    purpose: str = Field(primary_key=True, max_length=16)
    generation: int = Field(default=0)
    rotated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


M = TypeVar("M", bound=SQLModel)


@cache
def _defaulted(model: type[SQLModel]) -> dict:
    return {name: field for name, field in model.model_fields.items() if not field.is_required()}


def build(model: type[M], **values) -> M:
    """A new row, the same as `model(**values)` builds it (the values as given, every other field its default),
    for the rows a batch of turns writes by the dozen.

    A table model's constructor sets each of its fields through SQLModel's, SQLAlchemy's and pydantic's attribute
    hooks, one by one: 120 us for an outbox row, where this takes 8 (docs/performance.md, "LINE webhook"). The
    instance is made the way SQLAlchemy makes the ones it loads (its class manager, then the values in the
    instance's dict), so the session inserts it like any other; later changes go through the usual hooks.
    """
    unknown = set(values) - set(model.model_fields)
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    row = inspect(model).class_manager.new_instance()
    fields = row.__dict__
    for name, field in _defaulted(model).items():
        if name not in values:
            fields[name] = field.get_default(call_default_factory=True)
    fields.update(values)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))
    return row


# The recruiter side's tables have modules of their own; whoever has these models has those too, so a sweep over
# SQLModel.metadata (bot.service.erasure: a person's inbox notes go with them) sees every table in any process.
from bot.db import accounts, workspace  # noqa: E402, F401
