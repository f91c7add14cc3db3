"""Which slots to offer a candidate now: calendar busy time + our bookings -> the slot engine."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from bot.core.settings import Settings
from bot.core.vocab import CALENDAR, LIVE_BOOKING, OutboxStatus
from bot.db.models import Booking, Outbox
from calendars.base import Calendar, Interval, Slot
from calendars.slots import free_slots, local_day_bounds, pick_spread

LIVE_STATUSES = LIVE_BOOKING


def live_bookings(session: Session, interviewers: Iterable[str], start: datetime, end: datetime) -> list[Booking]:
    """Our live bookings of these interviewers overlapping [start, end)."""
    query = select(Booking).where(Booking.interviewer.in_(list(interviewers)), Booking.status.in_(LIVE_STATUSES),
                                  Booking.start_at < end, Booking.end_at > start)
    return list(session.exec(query))


def available(settings: Settings, calendar: Calendar, session: Session, job_id: str, now: datetime,
              only_date: date | None = None,
              exclude: frozenset[str] = frozenset()) -> tuple[tuple[Slot, ...], tuple[date, ...]]:
    """Return (a spread of slots to offer, the local days that still have free slots); `exclude` names times
    (Slot.time_key) offered to nobody in the pool."""
    job = settings.jobs.get(job_id)
    if job is None:
        return (), ()
    rules, tz = settings.rules, settings.tz
    end = now + timedelta(days=rules.horizon_days + 1)
    busy = calendar.busy(job.interviewers, now, end)
    bookings = live_bookings(session, job.interviewers, now - timedelta(days=1), end)
    per_day = Counter((b.interviewer, b.start_at.astimezone(tz).date()) for b in bookings)
    load = Counter(b.interviewer for b in bookings)
    slots = free_slots(rules, job.interviewers, busy, now, booked_per_day=per_day, only_date=only_date)
    if exclude:
        slots = [s for s in slots if s.time_key not in exclude]
    days = tuple(sorted({s.start.astimezone(tz).date() for s in slots}))[:7]
    count = max(settings.offer_count, 5) if only_date else settings.offer_count
    return tuple(pick_spread(slots, count, tz, load)), days


def pool_choices(settings: Settings, calendar: Calendar, session: Session, job_id: str, slot: Slot) -> list[Slot]:
    """The slot's time with each of the job's interviewers still free then, fairest first: fewest bookings
    that day, then the order of the settings. A panel's busy time leaves only its lead free."""
    job = settings.jobs.get(job_id)
    if job is None:
        return []
    rules, tz = settings.rules, settings.tz
    buffer = timedelta(minutes=rules.buffer_minutes)
    wanted = Interval(slot.start - buffer, slot.end + buffer)
    busy = calendar.busy(job.interviewers, wanted.start, wanted.end)
    day = slot.start.astimezone(tz).date()
    bounds = local_day_bounds(day, tz)
    per_day = Counter(b.interviewer for b in live_bookings(session, job.interviewers, bounds.start, bounds.end))
    open_ = [who for who in job.interviewers if per_day[who] < rules.max_per_day]
    free = [who for who in open_ if not any(wanted.overlaps(b) for b in busy.get(who, ()))]
    free.sort(key=lambda who: (per_day[who], job.interviewers.index(who)))
    if slot.interviewer in open_ and slot.interviewer not in free:
        # The one it was offered with, last: a calendar that cannot be read looks busy, and the write
        # re-checks (a Google outage keeps the choice and writes it later) or refuses it as taken.
        free.append(slot.interviewer)
    return [Slot(slot.start, slot.end, who) for who in free]


def write_booking(calendar, request, old) -> tuple[str, str | None]:
    """Write a booking's event, moving the old booking's event when the backend can; (event id, calendar id)."""
    move = getattr(calendar, "reschedule", None)
    if old is not None and old.calendar_event_id and move is not None:
        ref = move(old.calendar_event_id, request)
        old.calendar_event_id = None  # the event now belongs to the new booking (or was deleted by the router)
    else:
        ref = calendar.book(request)
    where = getattr(calendar, "calendar_of", None)
    return ref, where(request.slot.interviewer) if where else None


def unwritten_moves(session: Session, booking_id: int) -> list[str]:
    """The events a booking's queued calendar write, not started yet, was to move onto it (a reschedule)."""
    queued = session.exec(select(Outbox.payload).where(Outbox.booking_id == booking_id, Outbox.channel == CALENDAR,
                                                       Outbox.status == OutboxStatus.PENDING))
    return [payload["replaces"] for payload in queued if payload.get("replaces")]


def meeting_url_of(calendar, booking) -> str | None:
    """The Meet link Google made for this booking, when the calendar knows one."""
    lookup = getattr(calendar, "meeting_url", None)
    return lookup(booking.calendar_event_id) if lookup and booking is not None else None
