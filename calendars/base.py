"""Value types and the small interface every calendar backend implements."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from typing import Mapping, Protocol, Sequence
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The real clock, in UTC: the default wherever a caller hands in no clock of its own."""
    return datetime.now(timezone.utc)


class SlotTaken(Exception):
    """The slot was booked by someone else (or became busy) before we could write it."""


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open span [start, end) of aware datetimes (UTC inside)."""

    start: datetime
    end: datetime

    def overlaps(self, other: "Interval") -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, order=True)
class Slot:
    """An interview slot of one interviewer, aware UTC datetimes."""

    start: datetime
    end: datetime
    interviewer: str

    @property
    def key(self) -> str:
        """Stable identity of one interviewer's slot: the unique constraint of a live booking, calendar writes."""
        return f"{self.interviewer}@{self.time_key}"

    @property
    def time_key(self) -> str:
        """The start time alone (20261201T0100Z): a pooled job offers a time, and whoever is free takes it."""
        return self.start.astimezone(ZoneInfo('UTC')).strftime('%Y%m%dT%H%MZ')

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


@dataclass(frozen=True)
class SlotRules:
    """Everything the slot engine needs besides busy time."""

    tz: ZoneInfo
    # weekday (0=Monday) -> list of (start, end) local wall-clock times
    working_hours: Mapping[int, Sequence[tuple[time, time]]]
    slot_minutes: int = 30
    buffer_minutes: int = 0
    min_notice_minutes: int = 120
    horizon_days: int = 14
    max_per_day: int = 8
    holidays: frozenset = field(default_factory=frozenset)  # local dates with no interviews


@dataclass(frozen=True)
class BookingRequest:
    """What a backend needs to write one interview into an interviewer's calendar."""

    booking_id: str
    slot: Slot
    summary: str
    description: str = ""  # what everyone invited may read, the candidate included
    location: str = ""
    attendee_email: str | None = None  # the candidate, invited when the backend can invite
    # For the company only (contact details, the conversation, a call script): written into the event only when
    # the candidate is not among its guests, since a guest (and the invitation mail) sees the description.
    private_note: str = ""

    def for_company(self) -> str:
        """The description with the company's notes: for a calendar only the company reads."""
        return "\n\n".join(part for part in (self.description, self.private_note) if part)


class Calendar(Protocol):
    """Free/busy, book, cancel: the whole interface shared by the local and Google backends."""

    def busy(self, interviewers: Sequence[str], start: datetime, end: datetime) -> dict[str, list[Interval]]:
        """Busy intervals of each interviewer between start and end."""

    def book(self, request: BookingRequest) -> str:
        """Write the interview; return the backend's event id. Raise SlotTaken if it is no longer free."""

    def cancel(self, event_id: str) -> None:
        """Remove (or mark cancelled) a booked interview; unknown ids are ignored."""


@dataclass(frozen=True)
class CalendarChange:
    """One event changed on the calendar side (a recruiter moved or deleted an interview there)."""

    calendar_id: str
    event_id: str
    ref: str  # the event as the booking stores it (Booking.calendar_event_id)
    booking_id: str | None  # our booking's id, stored on the event when we wrote it; None for others' events
    start: datetime | None  # the event's times now (None when cancelled)
    end: datetime | None
    cancelled: bool
    version: str  # differs for every version of the event: the key that makes a repeated change harmless


class ChangeFeed(Protocol):
    """A backend whose calendars can change behind our back (Google): what changed since a sync token.

    Optional: the local calendar changes only through us, so it has no feed. A backend that has one also
    offers `reschedule(event_id, request) -> event id`, `meeting_url(event_id)` and `calendar_of(interviewer)`."""

    last_poll: float

    def feed_calendars(self) -> list[str]:
        """The calendar ids to read changes from."""

    def read_changes(self, calendar_id: str, token: str | None,
                     since: datetime) -> tuple[list[CalendarChange], str | None]:
        """Changes since `token` (everything ending after `since` without one) and the next token. Raises
        calendars.errors.SyncTokenExpired when the token is too old, CalendarError when the calendar cannot be read."""
