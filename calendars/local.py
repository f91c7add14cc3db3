"""The embedded calendar backend: interviews and busy blocks stored in our own database."""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime, timezone
from typing import Callable, Optional, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from calendars.base import BookingRequest, Interval, SlotTaken
from calendars.sqltypes import UTCDateTime

CONFIRMED, CANCELLED = "confirmed", "cancelled"
INTERVIEW, BLOCK = "interview", "block"


def _new_uid() -> str:
    return f"{uuid.uuid4()}@sokuresu"


class LocalEvent(SQLModel, table=True):
    """One event in an interviewer's local calendar: a booked interview or a busy block."""

    __tablename__ = "calendar_event"
    id: Optional[int] = Field(default=None, primary_key=True)
    calendar: str = Field(index=True, max_length=64)  # interviewer id
    uid: str = Field(default_factory=_new_uid, unique=True, max_length=120)
    start_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    end_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    summary: str = Field(default="", max_length=300)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    location: str = Field(default="", max_length=300)
    status: str = Field(default=CONFIRMED, max_length=16)  # confirmed | cancelled
    kind: str = Field(default=INTERVIEW, max_length=16)  # interview | block
    booking_ref: Optional[str] = Field(default=None, max_length=64)
    sequence: int = Field(default=0)  # iCalendar SEQUENCE, bumped on every change
    # The slot key while the interview is live, NULL once cancelled: the database itself
    # refuses a second live interview in the same slot (NULLs never collide).
    active_key: Optional[str] = Field(default=None, unique=True, max_length=120)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime; pass an aware one")
    return moment.astimezone(timezone.utc)


class LocalCalendar:
    """Calendar backend over a caller-owned Session: it flushes but never commits.

    `book()` returns the event's iCalendar UID, which `cancel()` accepts back.
    """

    def __init__(self, session: Session, clock: Callable[[], datetime]):
        self.session = session
        self.clock = clock  # the caller's clock, so stored times agree with the rest of its work

    def _confirmed(self, calendars: Sequence[str], start: datetime, end: datetime):
        return (
            select(LocalEvent)
            .where(LocalEvent.calendar.in_(list(calendars)))
            .where(LocalEvent.status == CONFIRMED)
            .where(LocalEvent.start_at < _aware(end), LocalEvent.end_at > _aware(start))
            .order_by(LocalEvent.start_at, LocalEvent.id)
        )

    def _savepoint(self):
        conn = self.session.connection()
        raw = conn.connection.dbapi_connection
        # pysqlite (before Python 3.12's autocommit=False) opens transactions lazily: a SAVEPOINT
        # sent first would become the outermost transaction and its RELEASE would commit the
        # caller's work. Begin the real transaction explicitly; a no-op when one is open.
        if conn.dialect.name == "sqlite" and not getattr(raw, "in_transaction", True):
            conn.exec_driver_sql("BEGIN")
        return self.session.begin_nested()

    def busy(self, interviewers: Sequence[str], start: datetime, end: datetime) -> dict[str, list[Interval]]:
        """Return confirmed events (interviews and blocks) of each interviewer overlapping [start, end)."""
        result: dict[str, list[Interval]] = {who: [] for who in interviewers}
        for event in self.session.exec(self._confirmed(interviewers, start, end)):
            result[event.calendar].append(Interval(event.start_at, event.end_at))
        return result

    def book(self, request: BookingRequest) -> str:
        """Write the interview and return its UID; raise SlotTaken if the time is no longer free."""
        slot = request.slot
        retry = self.session.exec(
            select(LocalEvent).where(LocalEvent.active_key == slot.key, LocalEvent.booking_ref == request.booking_id)
        ).first()
        if retry is not None:  # the same booking written again (a retried job) is not a clash
            return retry.uid
        event = LocalEvent(
            calendar=slot.interviewer,
            start_at=_aware(slot.start),
            end_at=_aware(slot.end),
            summary=request.summary,
            description=request.for_company(),  # the embedded calendar is the company's own
            location=request.location,
            booking_ref=request.booking_id,
            active_key=slot.key,
            created_at=(now := self.clock()),
            updated_at=now,
        )
        try:
            # A SAVEPOINT, so a clash undoes only this write and the caller's transaction lives on.
            with self._savepoint():
                if self.session.exec(self._confirmed([slot.interviewer], slot.start, slot.end)).first():
                    raise SlotTaken(slot.key)
                self.session.add(event)
                self.session.flush()
        except IntegrityError as exc:
            raise SlotTaken(slot.key) from exc
        return event.uid

    def cancel(self, event_id: str) -> None:
        """Mark the event with this UID cancelled and free its slot; unknown ids are ignored."""
        event = self.session.exec(select(LocalEvent).where(LocalEvent.uid == event_id)).first()
        if event is None or event.status == CANCELLED:
            return
        event.status = CANCELLED
        event.active_key = None
        event.sequence += 1
        event.updated_at = self.clock()
        self.session.add(event)
        self.session.flush()

    def block(self, calendar: str, start: datetime, end: datetime, summary: str = "Busy") -> LocalEvent:
        """Add busy time to a calendar."""
        if _aware(end) <= _aware(start):
            raise ValueError("a block must end after it starts")
        event = LocalEvent(calendar=calendar, start_at=_aware(start), end_at=_aware(end), summary=summary, kind=BLOCK,
                           created_at=(now := self.clock()), updated_at=now)
        self.session.add(event)
        self.session.flush()
        return event

    def events(self, calendar: str, since: datetime | None = None, kind: str | None = None) -> list[LocalEvent]:
        """Return a calendar's events of any status ending after `since`, oldest first."""
        query = select(LocalEvent).where(LocalEvent.calendar == calendar)
        if since is not None:
            query = query.where(LocalEvent.end_at > _aware(since))
        if kind is not None:
            query = query.where(LocalEvent.kind == kind)
        return list(self.session.exec(query.order_by(LocalEvent.start_at, LocalEvent.id)))

    def bookings_per_day(
        self, calendars: Sequence[str], tz: ZoneInfo, start: datetime, end: datetime
    ) -> dict[tuple[str, date], int]:
        """Count live interviews per (calendar, local date) overlapping [start, end)."""
        counts: Counter = Counter()
        for event in self.session.exec(self._confirmed(calendars, start, end).where(LocalEvent.kind == INTERVIEW)):
            counts[(event.calendar, event.start_at.astimezone(tz).date())] += 1
        return dict(counts)
