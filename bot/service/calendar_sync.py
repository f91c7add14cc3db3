"""Worker side of calendars: deferred writes, and recruiter-side moves and deletes read from a backend's change feed."""
from __future__ import annotations

import logging
import os
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, event, false, inspect, or_, update
from sqlmodel import Session, select

from bot.core.events import CalendarDeleted, CalendarMoved
from bot.core.messages import Recipient
from bot.core.transport import Outgoing
from bot.core.vocab import CALENDAR, LIVE_BOOKING, Kind, OutboxStatus
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking, CalendarSync, Outbox
from bot.service.delivery import LEASE, deliver
from bot.service.deps import Services
from bot.service.outbox import delivery_channel, enqueue
from bot.service.turn import handle
from calendars.base import BookingRequest, CalendarChange, ChangeFeed, Slot, SlotTaken
from calendars.errors import CalendarError, SyncTokenExpired

log = logging.getLogger("sokuresu.calendar_sync")
LOOK_BACK = timedelta(days=1)  # a full (re)sync reads events ending after this long ago
WRITES = "calendar_writes"  # session.info: the calendar rows its transaction queued (queue_write)
UNSENT = "unsent_answers"  # session.info: the Unsent answers its caller sends itself once it commits


@dataclass
class Unsent:
    """Answers a transaction claims for its caller to send right after commit (the inbox's replies).

    The calendar writes its commit runs come first, so a confirmation among them can still get the Meet
    link: the writer puts the new payload in `rewritten`, and `kept` says which rows the caller still holds
    once the writes are done (their lease renewed), when any write ran.
    """

    owner: str
    ids: list[int]
    rewritten: dict[int, dict] = field(default_factory=dict)
    kept: set[int] | None = None


# The answers of the commit whose writes run now: the writer is reached through delivery's send path, which
# carries no state of the caller.
_unsent: ContextVar[Unsent | None] = ContextVar("unsent_answers", default=None)


class CalendarWriter:
    """The outbox's 'calendar' channel: calendar writes the turns queued, run outside any transaction; raising
    means retry later."""

    def __init__(self, svc: Services):
        self.svc = svc

    def send(self, message: Outgoing) -> str | None:
        data = message.payload
        if data.get("op") == "cancel":
            self._router().cancel(data["event"])
            return None
        return self._book(data)

    def _router(self):
        # Only the stored grants are read here (once per process): the provider calls run with no transaction.
        with Session(self.svc.engine) as session:
            return self.svc.calendar_for(session, defer=False)

    def _book(self, data: dict) -> str | None:
        booking_id = int(data["booking_id"])
        with session_scope(self.svc.engine) as session:
            booking = session.get(Booking, booking_id)
            if booking is None or booking.status not in LIVE_BOOKING:
                return None  # cancelled or moved on before the write: nothing to write
            router = self.svc.calendar_for(session, defer=False)
            if booking.calendar_event_id and router.written(booking.calendar_event_id):
                return booking.calendar_event_id
            waiting, applicant_id = booking.calendar_event_id, booking.applicant_id
            slot = Slot(booking.start_at, booking.end_at, booking.interviewer)
            request = BookingRequest(str(booking.id), slot, data["summary"], data["description"], data["location"],
                                     data.get("attendee_email"), data.get("private_note", ""))
        replaces = data.get("replaces")  # a reschedule: the event of the booking this one replaced
        try:
            ref = router.reschedule(replaces, request) if replaces else router.book(request)
        except SlotTaken:  # the time filled up in the calendar since the candidate chose it
            if replaces:
                router.cancel(replaces)  # its booking is cancelled already
            handle(self.svc, applicant_id, CalendarDeleted(), source="gcal", event_id=f"write-failed:{booking_id}")
            return None
        unsent, rewritten = _unsent.get(), {}
        with session_scope(self.svc.engine) as session:
            booking = session.get(Booking, booking_id, with_for_update=True)
            kept = booking is not None and booking.status in LIVE_BOOKING and booking.calendar_event_id == waiting
            if kept:
                booking.calendar_event_id, booking.calendar_id = ref, router.calendar_of(slot.interviewer)
                rewritten = self._show_link(session, booking, router.meeting_url(ref), unsent)
        if unsent is not None:  # committed: the caller sends these words, not those it prepared
            unsent.rewritten.update(rewritten)
        if not kept:
            router.cancel(ref)  # cancelled or moved on while the event was being written: take it back
        return ref

    def _show_link(self, session: Session, booking: Booking, link: str | None,
                   unsent: Unsent | None) -> dict[int, dict]:
        """Put the Meet link into the confirmation still waiting to go out; once it went, send the link on its own.

        A confirmation the committing caller holds to send next (`unsent`) is still waiting; the new payloads
        of those come back by row id.
        """
        applicant = session.get(Applicant, booking.applicant_id)
        if not link or applicant is None or applicant.opted_out or applicant.blocked:
            return {}
        slot = Slot(booking.start_at, booking.end_at, booking.interviewer)
        who = Recipient(applicant.name, applicant.locale, applicant.job_id, applicant.phone)
        held = (and_(Outbox.status == OutboxStatus.SENDING, Outbox.lease_owner == unsent.owner,
                     Outbox.id.in_(unsent.ids)) if unsent is not None and unsent.ids else false())
        # Locked, so that a worker's claim waits (PostgreSQL) or skips them and then sends the new words.
        waiting = session.exec(select(Outbox).where(Outbox.booking_id == booking.id, Outbox.kind == Kind.BOOKED,
                                                    or_(Outbox.status == OutboxStatus.PENDING, held))
                               .with_for_update()).all()
        rewritten = {}
        for row in waiting:  # worded as the turn did (Turn.send), now with the link
            payload = self.svc.renderer.render(Kind.BOOKED, who, (slot,), current=slot, booking_token=booking.token,
                                               meeting_url=link, now=row.created_at)
            if "reply_to" in row.payload:
                payload["reply_to"] = row.payload["reply_to"]
            row.payload = payload
            if (prepare := self.svc.preparers.get(row.channel)) is not None:
                prepare(session, self.svc, applicant, row)
            if row.status == OutboxStatus.SENDING:
                rewritten[row.id] = row.payload
        if waiting:
            return rewritten
        payload = self.svc.renderer.render(Kind.MEETING_LINK, who, current=slot, booking_token=booking.token,
                                           meeting_url=link)
        enqueue(session, self.svc, applicant, payload, channel=delivery_channel(self.svc, applicant),
                booking_id=booking.id)
        return {}


def queue_write(session: Session, svc: Services, op: str, data: dict) -> Outbox:
    """Queue a calendar write in the caller's transaction, to run in this process as soon as it commits.

    The provider call and its retry sleeps then hold neither the applicant's row nor the SQLite write lock;
    the row itself makes the choice survive a crash or an outage (the worker tries again with backoff).
    """
    booking_id = int(data["booking_id"]) if "booking_id" in data else None
    row = Outbox(channel=CALENDAR, kind=f"calendar_{op}", payload={"op": op, **data}, booking_id=booking_id,
                 due_at=(now := svc.clock()), created_at=now)
    session.add(row)
    if WRITES not in session.info:  # once per session
        session.info[WRITES] = []
        event.listen(session, "after_commit", lambda done: _write_queued(svc, done))
    session.info[WRITES].append(row)
    return row


def _write_queued(svc: Services, session: Session) -> None:
    """After the outermost commit: claim the calendar rows it queued and write them now."""
    if session.in_nested_transaction():
        return  # a savepoint released; the transaction goes on
    # A row added in a savepoint that rolled back was never stored (it is no longer persistent).
    rows, session.info[WRITES] = session.info[WRITES], []
    ids = [row.id for row in rows if inspect(row).persistent]
    if not ids:
        return
    owner = f"commit:{os.getpid()}:{threading.get_ident()}"
    unsent = session.info.pop(UNSENT, None)
    token = _unsent.set(unsent)
    try:
        for row_id in _claim(svc, ids, owner):
            deliver(svc, row_id, owner)
    except Exception:  # the booking is committed: never fail its caller; the worker writes it later
        log.exception("calendar rows %s: writing after commit failed; the worker retries", ids)
    finally:
        _unsent.reset(token)
    if unsent is not None:
        unsent.kept = _renew(svc, unsent)


def _renew(svc: Services, unsent: Unsent) -> set[int]:
    """Renew the lease of the answers the caller holds, the writes having taken a while; those it still holds."""
    if not unsent.ids:
        return set()
    now = svc.clock()
    stmt = (update(Outbox).where(Outbox.id.in_(unsent.ids), Outbox.status == OutboxStatus.SENDING,
                                 Outbox.lease_owner == unsent.owner)
            .values(lease_until=now + LEASE).returning(Outbox.id))
    try:
        with session_scope(svc.engine) as session:
            return set(session.execute(stmt, execution_options={"synchronize_session": False}).scalars())
    except Exception:  # not known to be held still: leave them to whoever holds them, the lease tells
        log.exception("answers %s: renewing their lease after the calendar writes failed", unsent.ids)
        return set()


def _claim(svc: Services, ids: list[int], owner: str) -> list[int]:
    """Lease these rows as a worker's claim would, unless a worker got to them first."""
    now = svc.clock()
    stmt = (update(Outbox).where(Outbox.id.in_(ids), Outbox.channel == CALENDAR, Outbox.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, lease_owner=owner, lease_until=now + LEASE,
                    attempts=Outbox.attempts + 1)
            .returning(Outbox.id))
    with session_scope(svc.engine) as session:
        return sorted(session.execute(stmt, execution_options={"synchronize_session": False}).scalars())


def react(svc: Services, change: CalendarChange) -> int:
    """Turn one changed calendar event into a conversation event when it is one of our live bookings."""
    booking_id = change.booking_id or ""
    if not booking_id.isdigit():
        return 0
    with session_scope(svc.engine) as session:
        b = session.get(Booking, int(booking_id))
        if b is None or b.status not in LIVE_BOOKING or b.calendar_event_id != change.ref:
            return 0  # not live, or our own earlier write we have already followed
        applicant_id, start, end, who = b.applicant_id, b.start_at, b.end_at, b.interviewer
    if change.cancelled:
        event = CalendarDeleted()
    else:
        if (change.start, change.end) == (start, end):
            return 0
        event = CalendarMoved(Slot(change.start, change.end, who))
    handle(svc, applicant_id, event, source="gcal", event_id=change.version)
    return 1


def sync_calendar(svc: Services, feed: ChangeFeed, calendar_id: str, now: datetime) -> int:
    """Read one calendar's changes since its sync token (all of it after a 410) and react to each."""
    with session_scope(svc.engine) as session:
        row = session.exec(select(CalendarSync).where(CalendarSync.calendar == calendar_id)).first()
        token = row.sync_token if row else None
    try:
        try:
            changes, next_token = feed.read_changes(calendar_id, token, now - LOOK_BACK)
        except SyncTokenExpired:
            log.info("calendar %s: sync token expired, reading it again in full", calendar_id)
            changes, next_token = feed.read_changes(calendar_id, None, now - LOOK_BACK)
        error = None
    except CalendarError as exc:
        changes, next_token, error = [], token, str(exc)[:500]
        log.warning("calendar %s: reading changes failed: %s", calendar_id, error)
    changed = sum(react(svc, change) for change in changes)
    with session_scope(svc.engine) as session:
        row = session.exec(select(CalendarSync).where(CalendarSync.calendar == calendar_id)).first()
        row = row or CalendarSync(calendar=calendar_id)
        row.sync_token, row.last_error = next_token, error
        if error is None:
            row.last_synced_at = now
        session.add(row)
    return changed


def requeue_unwritten(svc: Services) -> int:
    """Queue again the writes of live bookings still waiting for their provider whose retries ran out."""
    with session_scope(svc.engine) as session:
        given_up = select(Outbox.booking_id).where(Outbox.kind == Kind.CALENDAR_BOOK,
                                                   Outbox.status == OutboxStatus.FAILED)
        router = svc.calendar_for(session, defer=False)
        waiting = [b for b in session.exec(select(Booking).where(Booking.status.in_(LIVE_BOOKING),
                                                                 Booking.calendar_event_id.is_not(None),
                                                                 Booking.id.in_(given_up))).all()
                   if not router.written(b.calendar_event_id)]
        count = 0
        for b in waiting:
            rows = session.exec(select(Outbox).where(Outbox.booking_id == b.id, Outbox.kind == Kind.CALENDAR_BOOK)
                                .order_by(Outbox.id.desc())).all()
            if rows and rows[0].status == OutboxStatus.FAILED:
                session.add(Outbox(channel=CALENDAR, kind=Kind.CALENDAR_BOOK, payload=rows[0].payload,
                                   booking_id=b.id, due_at=(now := svc.clock()), created_at=now))
                count += 1
    return count


def poll(svc: Services, force: bool = False) -> int:
    """Every poll_seconds: read each calendar's changes, where the backend has a change feed; return how many
    bookings changed."""
    feed = svc.calendar_for
    if not hasattr(feed, "read_changes"):
        return 0  # the local calendar changes only through us
    if not force and time.monotonic() - feed.last_poll < svc.settings.calendar.poll_seconds:
        return 0
    feed.last_poll = time.monotonic()
    now = svc.clock()
    changed = sum(sync_calendar(svc, feed, cal, now) for cal in feed.feed_calendars())
    requeue_unwritten(svc)
    return changed
