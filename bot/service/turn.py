"""The service layer: run one event through the conversation and carry out its actions in one transaction."""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Callable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core.conversation import Context, State, as_shown, decide
from bot.core.events import (
    AlertRecruiter,
    AskToConfirm,
    Book,
    CalendarMoved,
    CancelBooking,
    ChooseSlot,
    CloseHandoff,
    Decision,
    Event,
    MoveBooking,
    Offer,
    OfferDates,
    PickDate,
    RecordOutcome,
    RestoreBooking,
    Send,
    SlotTakenMeanwhile,
    Start,
    Stop,
    Unmark,
)
from bot.core.messages import Recipient, format_slot
from bot.core.vocab import LIVE_BOOKING, RECRUITER_CHANNEL, AlertReason, BookingStatus, Kind, OptOutReason, OutboxStatus
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking, InboundEvent, Outbox
from bot.service import optouts, prefetch
from bot.service.availability import (
    FETCHED_SINCE,
    available,
    meeting_url_of,
    pool_choices,
    prefetch_for,
    unwritten_moves,
    write_booking,
)
from bot.service.deps import Services
from bot.service.followups import answered, confirmed, schedule_nudges, schedule_reminders, was_reminded
from bot.service.inbound_log import log_inbound
from bot.service.outbox import alert, cancel_pending, delivery_channel, enqueue
from bot.service.recruiter_note import note_extras
from calendars.base import BookingRequest, Slot, SlotTaken

log = logging.getLogger("sokuresu.service")
# Counts in session.info the calendar writes of the transaction's turns: Google's side of a write is not
# undone by a rollback, and the free times worked out before a write are stale after it.
CALENDAR_WRITTEN = "calendar_written"
FREE_TIMES_FOR = timedelta(seconds=2)  # how long turns may reuse the free times one of them worked out
QUESTION_STANDS = timedelta(hours=24)  # a "really cancel?" left unanswered this long no longer waits for a yes


def calendar_changed(svc: Services, session: Session) -> None:
    session.info[CALENDAR_WRITTEN] = session.info.get(CALENDAR_WRITTEN, 0) + 1
    svc.process.free_times.clear()


def slot_to_dict(slot: Slot) -> dict:
    return {"start": slot.start.isoformat(), "end": slot.end.isoformat(), "interviewer": slot.interviewer}


def slot_from_dict(data: dict) -> Slot:
    return Slot(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"]), data["interviewer"])


def live_booking(session: Session, applicant_id: int) -> Booking | None:
    if (found := prefetch.take(session, "live_booking", applicant_id)) is not prefetch.MISSING:
        return found
    query = select(Booking).where(Booking.applicant_id == applicant_id, Booking.status.in_(LIVE_BOOKING))
    return session.exec(query.order_by(Booking.id.desc())).first()


def marked_booking(session: Session, svc: Services, applicant_id: int, now: datetime) -> Booking | None:
    """The applicant's booking marked attended / no-show less than the undo window ago, else None."""
    since = now - timedelta(minutes=svc.settings.undo_minutes)
    query = select(Booking).where(Booking.applicant_id == applicant_id, Booking.marked_at.is_not(None),
                                  Booking.marked_at > since)
    return session.exec(query.order_by(Booking.marked_at.desc())).first()


def question_stands(session: Session, applicant_id: int, kind: str, now: datetime) -> bool:
    """The bot's question (`kind`) is recent and still the last thing that reached the candidate: after a
    reminder went out since ("reply 1 or はい"), a はい answers the reminder, never the old question."""
    asked = session.exec(select(Outbox.created_at).where(Outbox.applicant_id == applicant_id, Outbox.kind == kind)
                         .order_by(Outbox.id.desc())).first()
    if asked is None or now - asked > QUESTION_STANDS:
        return False
    since = select(Outbox.id).where(Outbox.applicant_id == applicant_id, Outbox.channel != RECRUITER_CHANNEL,
                                    Outbox.kind != kind, Outbox.status != OutboxStatus.CANCELLED, Outbox.due_at > asked,
                                    Outbox.due_at <= now)
    return session.exec(since).first() is None


# Answers that only list times or days: a tap on the candidate's page shows them there, so they are not sent.
PAGE_SHOWS = frozenset({"date_menu", "no_slots_on_date", "offer_on_date", "pick_again", "offer_again", "reschedule",
                        "slot_taken", "already_booked"})


def is_duplicate(session: Session, source: str, event_id: str, now: datetime) -> bool:
    """Record an inbound event id; True when it was seen before (a redelivery)."""
    try:
        with session.begin_nested():
            session.add(InboundEvent(source=source, event_id=event_id, created_at=now))
    except IntegrityError:
        return True
    return False


def _with_booked(decision: Decision, offered: Slot, booked: Slot) -> Decision:
    """The decision as carried out: the interviewer of the pool who got the time, not the one first offered."""
    def swap(action):
        if isinstance(action, Book) and action.slot == offered:
            return Book(booked)
        if isinstance(action, Send) and action.slots == (offered,):
            return replace(action, slots=(booked,))
        return action

    return Decision(decision.state, tuple(swap(a) for a in decision.actions))


class _FreePart(Sequence):
    """The free slots or the free days, worked out on first look: most turns (help, a tap on an offered
    slot, a confirmation) never look, and asking the calendar is the dearest part of a turn."""

    def __init__(self, free: Callable[[], tuple[tuple[Slot, ...], tuple[date, ...]]], index: int):
        self._free, self._index = free, index  # `free` is cached: both parts share one look

    def __getitem__(self, i):
        return self._free()[self._index][i]

    def __len__(self) -> int:
        return len(self._free()[self._index])

    def __eq__(self, other) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return repr(tuple(self))


class Turn:
    """One event for one applicant, inside one transaction."""

    def __init__(self, svc: Services, session: Session, applicant: Applicant, reply_to: dict | None = None,
                 source: str | None = None):
        self.svc, self.session, self.applicant = svc, session, applicant
        self.source = source  # the channel the candidate wrote from (sms, line, email, sandbox), if they did
        # How to answer the candidate's own message (e.g. a LINE reply token); used by the first Send only.
        self.reply_to = reply_to
        self.calendar = svc.calendar_for(session)
        self.now = svc.clock()
        self.booking = live_booking(session, applicant.id)
        self.marked: Booking | None = None  # the booking an Unmark takes back (looked up for that event only)

    def context(self, event: Event, exclude: frozenset[str] = frozenset()) -> Context:
        """What decide() may look at; `exclude` names times (Slot.time_key) never to offer in this turn."""
        state = State(self.applicant.state)
        offered_dates = tuple(date.fromisoformat(d) for d in self.applicant.offered_dates or [])
        shown = as_shown(event, state, offered_dates)  # "2" after a date menu asks for that day's times
        day = shown.day if isinstance(shown, PickDate) else None
        # Never offer the time already booked (a pooled colleague may be free then) nor the one it moves to.
        if self.booking is not None:
            exclude |= {Slot(self.booking.start_at, self.booking.end_at, self.booking.interviewer).time_key}
        if isinstance(event, CalendarMoved):
            exclude |= {event.slot.time_key}
        free = cache(lambda: self.available(day, exclude))
        # The free days are those of the whole horizon, also when a day was picked: a full day (a Sunday,
        # a date past the horizon) shows the others, and is never "no times at all".
        days = free if day is None else cache(lambda: self.available(None, exclude))
        offered = tuple(slot_from_dict(d) for d in self.applicant.offered or [])
        if isinstance(event, Unmark):
            self.marked = marked_booking(self.session, self.svc, self.applicant.id, self.now)
        return Context(state, self.now, offered, _FreePart(free, 0), _FreePart(days, 1),
                       self.booking is not None,
                       reminded=was_reminded(self.session, self.booking.id if self.booking else None),
                       interview_start=self.booking.start_at if self.booking else None,
                       before_mark=self.marked.status_before_mark if self.marked else None,
                       pending=self.pending(), handoff_open=self.applicant.handoff_open,
                       offered_dates=offered_dates)

    def pending(self) -> str | None:
        """The question the bot asked ("cancel" asks "confirm_cancel"), while it still stands."""
        asked = self.applicant.pending
        if asked and question_stands(self.session, self.applicant.id, f"confirm_{asked}", self.now):
            return asked
        return None

    def available(self, day: date | None, exclude: frozenset[str]) -> tuple[tuple[Slot, ...], tuple[date, ...]]:
        # Turns share what they worked out (a batch of LINE events asking for other days, all at once),
        # for FREE_TIMES_FOR, until a turn of this process writes to a calendar. Another process's
        # booking made meanwhile may still look free that long: choosing it is refused and re-offered
        # (the booking's unique slot), never booked twice. Without flushing first: what this turn or an
        # earlier one wrote and did not flush yet (message logs, a cancellation's status) either does not
        # bear on free times or only keeps a slot looking busy a moment longer; a new booking is flushed
        # as it is made (book()).
        key = (self.applicant.job_id, day, exclude)
        known = self.svc.process.free_times.get(key)
        if (known is None or abs(self.now - known[0]) > FREE_TIMES_FOR
                or time.monotonic() - known[1] > FREE_TIMES_FOR.total_seconds()):
            with self.session.no_autoflush:
                free = available(self.svc.settings, self.calendar, self.session, self.applicant.job_id, self.now,
                                 only_date=day, exclude=exclude)
            known = self.now, time.monotonic(), free
            self.svc.process.free_times[key] = known
        return known[2]

    def named_time(self, event: Event) -> Event:
        """A day and time typed together ("12月3日の13時で") that name a time of the list on screen choose it;
        otherwise they ask for that day's times (PickDate), like the day alone."""
        if isinstance(event, PickDate) and event.at is not None:
            for shown in self.applicant.offered or []:
                slot = slot_from_dict(shown)
                start = slot.start.astimezone(self.svc.settings.tz)
                if start.date() == event.day and start.time() == event.at:
                    return ChooseSlot(key=slot.time_key)
        return event

    def run(self, event: Event) -> Decision:
        event = self.named_time(event)
        if isinstance(event, (Stop, Start)) and self.source in optouts.address_channels(self.svc):
            self.stop_or_start(event)
        ctx = self.context(event)
        decision = decide(ctx, event)
        for action in decision.actions:
            if isinstance(action, Book):
                booked = self.book(action.slot)
                if booked is None:
                    # Nobody in the pool is free at that time any more: apologise and offer other times, never that one.
                    retry = decide(self.context(event, frozenset({action.slot.time_key})), SlotTakenMeanwhile())
                    return self.apply(retry)
                decision = _with_booked(decision, action.slot, booked)
        return self.apply(decision)

    def apply(self, decision: Decision) -> Decision:
        if decision.state != State.OPTED_OUT and self.applicant.opted_out:
            self.applicant.opted_out = False  # opted back in: this turn's own messages may go out
            optouts.opt_in(self.session, *self.own_address())
        for action in decision.actions:
            match action:
                # A number always means the list shown last: times or days, never both.
                case Offer(slots):
                    self.applicant.offered = [slot_to_dict(s) for s in slots]
                    self.applicant.offered_dates = []
                case OfferDates(dates):
                    self.applicant.offered_dates = [d.isoformat() for d in dates]
                    self.applicant.offered = []
                case Book():
                    self.applicant.offered, self.applicant.offered_dates = [], []
                case CancelBooking():
                    self.cancel_booking()
                case MoveBooking(slot):
                    self.move_booking(slot)
                case RecordOutcome(outcome):
                    self.record_outcome(outcome)
                case RestoreBooking():
                    self.restore_marked()
                case Send():
                    self.send(action)
                case AlertRecruiter(reason, detail, with_booking):
                    if with_booking and self.booking is not None and not detail:
                        when = format_slot(self.booking.start_at, self.svc.settings.tz, "ja", self.booking.end_at)
                        detail = f"面接 {when} の予約はそのままです"
                    alert(self.session, self.svc, self.applicant, reason, detail)
                case CloseHandoff():
                    self.applicant.handoff_open = False
        # The question asked in this decision is remembered; any other turn forgets the last one.
        self.applicant.pending = next((a.what for a in decision.actions if isinstance(a, AskToConfirm)), None)
        self.set_state(State(decision.state))
        return decision

    def book(self, slot: Slot) -> Slot | None:
        """Book the offered time with the fairest pooled interviewer still free then; None when nobody is.

        Candidates racing for one time each try the pool in the same order: the unique live slot of a
        booking (interviewer and start) makes all but one wait and fail on each interviewer in turn, so
        with two interviewers free exactly two are booked.
        """
        for choice in pool_choices(self.svc.settings, self.calendar, self.session, self.applicant.job_id, slot):
            if self.book_with(choice):
                return choice
        return None

    def book_with(self, slot: Slot) -> bool:
        """Book this interviewer's slot (replacing the live booking); False when it was taken meanwhile."""
        job = self.svc.settings.jobs[self.applicant.job_id]
        old = self.booking
        try:
            with self.session.begin_nested():
                booking = Booking(applicant_id=self.applicant.id, interviewer=slot.interviewer, start_at=slot.start,
                                  end_at=slot.end, active_slot=slot.key, created_at=self.now)
                self.session.add(booking)
                self.session.flush()
                request = BookingRequest(
                    booking_id=str(booking.id), slot=slot,
                    summary=f"面接: {self.applicant.name} ({job.title.ja})",
                    description=self.guest_note(job.title.ja), private_note=self.recruiter_note(job.title.ja),
                    location=self.svc.renderer.place(job.id, "ja"), attendee_email=self.applicant.email)
                calendar_changed(self.svc, self.session)
                booking.calendar_event_id, booking.calendar_id = write_booking(self.calendar, request, old)
        except (IntegrityError, SlotTaken):
            return False
        if old is not None:
            self.release(old, BookingStatus.CANCELLED)
        self.booking = booking
        schedule_reminders(self.session, self.svc, self.applicant, booking, self.now)
        return True

    def guest_note(self, job_title: str) -> str:
        """What the candidate, invited to the event, may read: the interview itself, and where the company's
        people find the rest (the link opens only for them)."""
        base = self.svc.config.public_base_url
        return (f"{self.svc.settings.company.name.ja} 面接（{job_title}）\n"
                f"担当者用の記録: {base}/recruiter/applicants/{self.applicant.id}")

    def recruiter_note(self, job_title: str) -> str:
        """The company's own notes: contact details, where the application came from, the conversation."""
        a = self.applicant
        return (f"応募者: {a.name}\n職種: {job_title}\n連絡手段: {a.channel}\n"
                f"電話: {a.phone or '-'}\nメール: {a.email or '-'}\n応募経路: {a.source or '-'}"
                + note_extras(self.session, self.svc.settings, a))

    def release(self, booking: Booking, status: str) -> None:
        if booking.calendar_event_id:
            calendar_changed(self.svc, self.session)
            self.calendar.cancel(booking.calendar_event_id)
            for moved in unwritten_moves(self.session, booking.id):
                self.calendar.cancel(moved)  # the queued move never ran: the event still shows the old time
        booking.status, booking.active_slot, booking.cancelled_at = status, None, self.now
        cancel_pending(self.session, booking_id=booking.id)

    def move_booking(self, slot: Slot) -> None:
        """Follow a move the recruiter made in their calendar; the reminders follow the new time."""
        b = self.booking
        if b is None:
            return
        taken = self.session.exec(select(Booking.id).where(Booking.active_slot == slot.key, Booking.id != b.id)).first()
        calendar_changed(self.svc, self.session)
        b.start_at, b.end_at = slot.start, slot.end
        b.active_slot = None if taken else slot.key  # the recruiter may knowingly overlap two interviews
        cancel_pending(self.session, booking_id=b.id)
        self.session.flush()
        schedule_reminders(self.session, self.svc, self.applicant, b, self.now)

    def record_outcome(self, outcome: str) -> None:
        """Mark the live booking attended / no-show, keeping what it was a few minutes for the recruiter's undo."""
        b = self.booking
        if b is not None and b.status != outcome:  # once per outcome: the undo must find what it was before
            b.status_before_mark, b.marked_at = b.status, self.now
            b.status, b.active_slot = outcome, None

    def restore_marked(self) -> None:
        """Undo an outcome: the booking is live again as before, and the message held for the candidate is dropped."""
        b = self.marked
        if b is None:
            return
        cancel_pending(self.session, Outbox.channel != RECRUITER_CHANNEL, Outbox.created_at >= b.marked_at,
                       booking_id=b.id, why="the recruiter undid the outcome")
        b.status, b.marked_at, b.status_before_mark = b.status_before_mark, None, None
        try:
            with self.session.begin_nested():  # the slot is in the past: nobody else can hold it, but never fail on it
                b.active_slot = Slot(b.start_at, b.end_at, b.interviewer).key
                self.session.flush()
        except IntegrityError:
            b.active_slot = None
        self.booking = b

    def cancel_booking(self) -> None:
        if self.booking is not None:
            self.release(self.booking, BookingStatus.CANCELLED)
            self.booking = None

    def send(self, action: Send) -> None:
        a = self.applicant
        if (a.opted_out or a.blocked) and action.kind != Kind.STOPPED:
            return
        if self.source == "page" and action.kind in PAGE_SHOWS:
            return  # the candidate is on the page that shows these times or days: an SMS saying "see the page" is noise
        if self.source == "page" and action.kind == Kind.HUMAN_REQUESTED:
            return  # they wrote to a person on their page, which says a person will answer
        if action.kind == Kind.STOPPED and self.source == "email":
            return  # the unsubscribe page confirms it; an e-mail after unsubscribing is what people dislike most
        current = None
        if self.booking is not None:
            current = Slot(self.booking.start_at, self.booking.end_at, self.booking.interviewer)
        payload = self.svc.renderer.render(action.kind, Recipient(a.name, a.locale, a.job_id, a.phone), action.slots,
                                           action.dates, current=current,
                                           booking_token=self.booking.token if self.booking else None,
                                           meeting_url=meeting_url_of(self.calendar, self.booking), now=self.now)
        if self.reply_to:
            payload["reply_to"], self.reply_to = self.reply_to, None
        # A held message waits out the recruiter's undo window; undoing cancels it before it is due.
        due = self.now + timedelta(minutes=self.svc.settings.undo_minutes) if action.held else None
        # The acknowledgement of a stop goes where the candidate asked; anything else avoids opted-out addresses.
        channel = delivery_channel(self.svc, a) if action.kind == Kind.STOPPED else optouts.channel_for(self.session,
                                                                                                    self.svc, a)
        if channel is None and self.source == self.svc.stand_in:
            channel = self.source  # they are on their chat page now: answer there, and at no address
        if channel is None:
            return self.unreachable(action.kind)
        enqueue(self.session, self.svc, a, payload, channel=channel,
                booking_id=self.booking.id if self.booking else None, due_at=due)
        if action.kind == Kind.GREETING and action.slots:  # slots offered: nudge if no answer comes
            schedule_nudges(self.session, self.svc, a, self.now)

    def own_address(self) -> tuple[str, str | None]:
        """The address the candidate speaks from: the channel this turn came in on, else their own channel."""
        channel = self.source if self.source in optouts.address_channels(self.svc) else self.applicant.channel
        return channel, optouts.address_of(self.svc, self.applicant, channel)

    def stop_or_start(self, event: Stop | Start) -> None:
        """STOP or START from an address stops or starts that address, whatever this application's state."""
        channel, address = self.own_address()
        if isinstance(event, Start):
            optouts.opt_in(self.session, channel, address)
            return
        reason = OptOutReason.UNSUBSCRIBED if channel == "email" else OptOutReason.STOP_WORD
        optouts.opt_out(self.session, channel, address, reason, self.now)

    def unreachable(self, kind: str) -> None:
        """Every address the person gave opted out: no message; a new application's greeting tells the recruiter."""
        if kind == Kind.GREETING:
            out = ", ".join(sorted(optouts.stopped(self.session, self.svc, self.applicant)))
            alert(self.session, self.svc, self.applicant, AlertReason.ALL_OPTED_OUT, out)

    def set_state(self, state: State) -> None:
        a = self.applicant
        if state is State.OPTED_OUT and not a.opted_out:
            a.opted_out = True
            self.stop_or_start(Stop())  # the address they asked from stops too, for every application
            self.session.flush()
            # Nothing more goes out, except the acknowledgement written in this very turn.
            cancel_pending(self.session, Outbox.kind.notin_((Kind.STOPPED, Kind.ALERT)), applicant_id=a.id)
        if self.booking is not None and state is State.CONFIRMED:
            self.booking.status = BookingStatus.CONFIRMED
            confirmed(self.session, self.booking, self.now)
        if state in (State.ATTENDED, State.NO_SHOW):
            self.record_outcome(state.value)
        if state is State.NEEDS_HUMAN:
            a.handoff_open = True  # a person owes an answer, through stop and start, until the recruiter resumes
        a.updated_at = self.now
        a.state = state.value  # the one place an applicant's state is written: always a state decide() returned


def converse(session: Session, svc: Services, applicant: Applicant, event: Event, *, text: str | None = None,
             source: str = "sandbox", payload: dict | None = None, reply_to: dict | None = None) -> Decision:
    """Log what the candidate said and run the turn, inside the caller's transaction (applicant locked)."""
    if text is not None:
        log_inbound(session, applicant.id, source, text, svc.clock(), payload)
        applicant.last_inbound_at = svc.clock()
        answered(session, applicant.id)
    return Turn(svc, session, applicant, reply_to, source).run(event)


def handle(svc: Services, applicant_id: int, event: Event, *, text: str | None = None, source: str = "sandbox",
           event_id: str | None = None, payload: dict | None = None, reply_to: dict | None = None) -> Decision | None:
    """Process one inbound event; None when it was a duplicate (already processed) or the applicant is gone."""
    fetched = prefetch_for(svc, Applicant.id == applicant_id)  # calendar reads, before any lock is taken
    with session_scope(svc.engine) as session:
        if fetched is not None:
            session.info[FETCHED_SINCE] = fetched
        if event_id and is_duplicate(session, source, event_id, svc.clock()):
            return None
        applicant = session.get(Applicant, applicant_id, with_for_update=True)
        if applicant is None:
            return None
        decision = converse(session, svc, applicant, event, text=text, source=source, payload=payload,
                            reply_to=reply_to)
    svc.process.wake.set()
    return decision
