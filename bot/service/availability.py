"""Which slots to offer a candidate now: calendar busy time + our bookings -> the slot engine."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from bot.core.settings import Settings
from bot.core.vocab import CALENDAR, LIVE_BOOKING, OutboxStatus
from bot.db.models import Applicant, Booking, Outbox
from calendars.base import Calendar, Interval, Slot
from calendars.slots import free_slots, local_day_bounds, pick_spread

# session.info: when the calendar reads of this transaction's turns were fetched, before it began (prefetch_busy)
FETCHED_SINCE = "calendar_fetched_since"


def live_bookings(session: Session, interviewers: Iterable[str], start: datetime, end: datetime) -> list[Booking]:
    """Our live bookings of these interviewers overlapping [start, end)."""
    query = select(Booking).where(Booking.interviewer.in_(list(interviewers)), Booking.status.in_(LIVE_BOOKING),
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


def prefetch_busy(svc, wanted: Iterable[tuple[str, bool]]) -> float | None:
    """Fetch, before a transaction, the provider busy time its turns will read, so that no provider call (nor
    its retry sleeps) waits while the applicant's row or the SQLite write lock is held.

    `wanted`: (job id, may book now) per candidate. The jobs' interviewers are read over the window
    available() reads; fresh when a candidate may book (times are on offer), for the booking's re-check.
    Returns the mark to put in the transaction's session.info[FETCHED_SINCE], or None when no calendar
    fetches anything (the local calendar is rows of the transaction itself).
    """
    fetch = getattr(svc.calendar_for, "prefetch", None)
    wanted = list(wanted)
    if fetch is None or not wanted:
        return None
    jobs = [(svc.settings.jobs.get(job_id), may_book) for job_id, may_book in wanted]
    interviewers = list(dict.fromkeys(who for job, _ in jobs if job is not None for who in job.interviewers))
    now = svc.clock()
    end = now + timedelta(days=svc.settings.rules.horizon_days + 1)  # as available() reads
    return fetch(interviewers, now, end, fresh=any(may_book for job, may_book in jobs if job is not None))


def fetches_ahead(svc) -> bool:
    """Whether some calendar reads a provider, so that prefetch_busy() has something to fetch."""
    return getattr(svc.calendar_for, "prefetch", None) is not None


def prefetch_for(svc, *where) -> float | None:
    """prefetch_busy() for the applicants matching `where`, read without a lock."""
    if not fetches_ahead(svc):
        return None
    with Session(svc.engine) as session:
        rows = session.exec(select(Applicant.job_id, Applicant.offered).where(*where)).all()
    return prefetch_busy(svc, [(job_id, bool(offered)) for job_id, offered in rows])


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
