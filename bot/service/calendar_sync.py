"""Worker side of calendars: deferred writes, and recruiter-side moves and deletes read from a backend's change feed."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlmodel import select

from calendars.base import BookingRequest, CalendarChange, ChangeFeed, Slot, SlotTaken
from calendars.errors import CalendarError, SyncTokenExpired
from bot.service.deps import Services
from bot.core.transport import Outgoing
from bot.db.engine import session_scope
from bot.core.events import CalendarDeleted, CalendarMoved
from bot.core.messages import Recipient
from bot.db.models import Applicant, Booking, CalendarSync, Outbox
from bot.service.availability import LIVE_STATUSES
from bot.service.turn import handle
from bot.service.outbox import delivery_channel, enqueue

log = logging.getLogger("sokuresu.calendar_sync")
LOOK_BACK = timedelta(days=1)  # a full (re)sync reads events ending after this long ago


class CalendarWriter:
    """The outbox's 'calendar' channel: a write Google refused earlier, tried again; raising means retry later."""

    def __init__(self, svc: Services):
        self.svc = svc

    def send(self, message: Outgoing) -> str | None:
        data = message.payload
        if data.get("op") == "cancel":
            with session_scope(self.svc.engine) as session:
                self.svc.calendar_for(session, defer=False).cancel(data["event"])
            return None
        return self._book(data)

    def _book(self, data: dict) -> str | None:
        taken, ref = None, None
        with session_scope(self.svc.engine) as session:
            booking = session.get(Booking, int(data["booking_id"]))
            if booking is None or booking.status not in LIVE_STATUSES:
                return None  # cancelled or moved on before Google came back: nothing to write
            if booking.calendar_event_id and not booking.calendar_event_id.startswith("g/pending/"):
                return booking.calendar_event_id
            slot = Slot(booking.start_at, booking.end_at, booking.interviewer)
            request = BookingRequest(str(booking.id), slot, data["summary"], data["description"], data["location"],
                                     data.get("attendee_email"))
            router = self.svc.calendar_for(session, defer=False)
            try:
                ref = router.book(request)
                booking.calendar_event_id, booking.calendar_id = ref, router.calendar_of(slot.interviewer)
                self._send_link(session, booking, router.meeting_url(ref))
            except SlotTaken:
                taken = booking.applicant_id  # the time filled up in Google while it was down
        if taken is not None:
            handle(self.svc, taken, CalendarDeleted(), source="gcal", event_id=f"write-failed:{data['booking_id']}")
        return ref


    def _send_link(self, session, booking: Booking, link: str | None) -> None:
        """The confirmation went out before Google made the Meet link: send the link now."""
        applicant = session.get(Applicant, booking.applicant_id)
        if not link or applicant is None or applicant.opted_out or applicant.blocked:
            return
        slot = Slot(booking.start_at, booking.end_at, booking.interviewer)
        payload = self.svc.renderer.render("meeting_link", Recipient(applicant.name, applicant.locale, applicant.job_id,
                                                                     applicant.phone),
                                           current=slot, booking_token=booking.token, meeting_url=link)
        enqueue(session, self.svc, applicant, payload, channel=delivery_channel(self.svc, applicant),
                booking_id=booking.id)


def react(svc: Services, change: CalendarChange) -> int:
    """Turn one changed calendar event into a conversation event when it is one of our live bookings."""
    booking_id = change.booking_id or ""
    if not booking_id.isdigit():
        return 0
    with session_scope(svc.engine) as session:
        b = session.get(Booking, int(booking_id))
        if b is None or b.status not in LIVE_STATUSES or b.calendar_event_id != change.ref:
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
    """Queue again the writes of live bookings still waiting for Google whose retries ran out."""
    with session_scope(svc.engine) as session:
        waiting = session.exec(select(Booking).where(Booking.status.in_(LIVE_STATUSES),
                                                     Booking.calendar_event_id.startswith("g/pending/"))).all()
        count = 0
        for b in waiting:
            rows = session.exec(select(Outbox).where(Outbox.booking_id == b.id, Outbox.kind == "calendar_book")
                                .order_by(Outbox.id.desc())).all()
            if rows and rows[0].status == "failed":
                session.add(Outbox(channel="calendar", kind="calendar_book", payload=rows[0].payload,
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
