"""The candidate conversation as a pure state machine: (context, event) -> Decision.

States are constants, each has one handler, and a few global fallbacks (stop, start, help,
reschedule, cancel) apply everywhere. docs/conversation.md draws the same machine.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from bot.core.events import (
    AlertRecruiter,
    Applied,
    AskedForPerson,
    AskToConfirm,
    Book,
    CalendarDeleted,
    CalendarMoved,
    Cancel,
    CancelBooking,
    CarrierOptOut,
    ChooseSlot,
    CloseHandoff,
    Confirm,
    Decision,
    Decline,
    Event,
    Help,
    Linked,
    Marked,
    MediaReceived,
    MoveBooking,
    Offer,
    OfferDates,
    OtherDates,
    OtherMessage,
    PickDate,
    RecordOutcome,
    Reschedule,
    RestoreBooking,
    Resume,
    Send,
    SlotTakenMeanwhile,
    Start,
    Stop,
    Unknown,
    Unmark,
    WantSlots,
    Yes,
)
from bot.core.vocab import AlertReason, BookingStatus, Kind
from calendars.base import Slot


class State(StrEnum):
    NEW = "new"
    GREETED = "greeted"            # thanked, content shared, slots offered
    BOOKED = "booked"
    CONFIRMED = "confirmed"        # the candidate said they will come
    RESCHEDULING = "rescheduling"  # booked, new slots offered, old booking kept until one is picked
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    OPTED_OUT = "opted_out"
    NEEDS_HUMAN = "needs_human"


@dataclass(frozen=True)
class Context:
    """Everything the machine may look at: no I/O happens in here."""

    state: State
    now: datetime
    offered: tuple[Slot, ...] = ()         # slots on offer, numbered 1..n
    fresh: tuple[Slot, ...] = ()           # what the service would offer now (or on the picked date)
    dates: tuple[date, ...] = ()           # days that still have free slots, for "other dates"
    has_booking: bool = False
    reminded: bool = False  # a reminder asking "1 = attending, 2 = change" went out for the live booking
    interview_start: datetime | None = None  # the live booking's start: no outcome is recorded before it
    before_mark: str | None = None  # the booking's status before an outcome still inside the undo window
    offered_dates: tuple[date, ...] = ()   # the date menu on screen, numbered 1..n; never set with `offered`
    pending: str | None = None  # the question the bot asked last turn and waits to have answered ("cancel")
    handoff_open: bool = False  # a person owes the candidate an answer (until the recruiter resumes the bot)

    def offered_slot(self, event: ChooseSlot) -> Slot | None:
        """Return the offered slot the event points at, or None when it is not (or no longer) offered."""
        if event.key is not None:
            # A key names a time offered for the job's pool ('20261201T0100Z'); an older button's key also
            # names an interviewer ('sato@20261201T0100Z'), which counts only if that time is still on offer.
            at = event.key.rpartition("@")[2]
            return next((s for s in self.offered if s.time_key == at), None)
        if event.number is not None and 1 <= event.number <= len(self.offered):
            return self.offered[event.number - 1]
        return None


def _offer(kind: Kind, ctx: Context, state: State, *extra) -> Decision:
    """Offer the fresh slots, or say there are none right now and fetch a person."""
    if not ctx.fresh:
        return Decision(State.NEEDS_HUMAN, (*extra, Send(Kind.NO_SLOTS), AlertRecruiter(AlertReason.NO_SLOTS)))
    return Decision(state, (*extra, Offer(ctx.fresh), Send(kind, slots=ctx.fresh)))


def _handoff(ctx: Context, event: Unknown) -> Decision:
    """A person answers; meanwhile the times on offer stay on screen, so the candidate may still book one."""
    shown = ctx.offered if not ctx.has_booking and ctx.state in (State.GREETED, State.NO_SHOW) else ()
    return Decision(State.NEEDS_HUMAN, (Send(Kind.HANDOFF, slots=shown),
                                        AlertRecruiter(AlertReason.NOT_UNDERSTOOD, event.text)))


def _choosing(ctx: Context, event: Event, state: State) -> Decision:
    """Shared by every state where slots are on offer (greeted, rescheduling, no_show)."""
    match event:
        case ChooseSlot():
            slot = ctx.offered_slot(event)
            if slot is not None and slot.start <= ctx.now:  # the offer went stale: that time has passed
                return _offer(Kind.OFFER_AGAIN, ctx, state)
            if slot is None:
                if ctx.offered_dates:  # the days are on screen, not times: show them again
                    return Decision(state, (Send(Kind.DATE_MENU, dates=ctx.offered_dates),))
                if not ctx.offered:
                    return _offer(Kind.OFFER_AGAIN, ctx, state)
                return Decision(state, (Send(Kind.PICK_AGAIN, slots=ctx.offered),))
            return Decision(State.BOOKED, (Book(slot), Send(Kind.BOOKED, slots=(slot,))))
        case OtherDates():
            if not ctx.dates:
                return Decision(State.NEEDS_HUMAN, (Send(Kind.NO_SLOTS), AlertRecruiter(AlertReason.NO_SLOTS)))
            return Decision(state, (OfferDates(ctx.dates), Send(Kind.DATE_MENU, dates=ctx.dates)))
        case PickDate():
            if not ctx.fresh and not ctx.dates:
                return Decision(State.NEEDS_HUMAN, (Send(Kind.NO_SLOTS), AlertRecruiter(AlertReason.NO_SLOTS)))
            if not ctx.fresh:
                return Decision(state, (OfferDates(ctx.dates), Send(Kind.NO_SLOTS_ON_DATE, dates=ctx.dates)))
            return Decision(state, (Offer(ctx.fresh), Send(Kind.OFFER_ON_DATE, slots=ctx.fresh)))
        case WantSlots() | SlotTakenMeanwhile():
            return _offer(Kind.SLOT_TAKEN if isinstance(event, SlotTakenMeanwhile) else "offer_again", ctx, state)
        case Confirm() if ctx.offered:
            return Decision(state, (Send(Kind.PICK_AGAIN, slots=ctx.offered),))
        case Confirm() if ctx.offered_dates:
            return Decision(state, (Send(Kind.DATE_MENU, dates=ctx.offered_dates),))
        case Confirm():
            return _offer(Kind.OFFER_AGAIN, ctx, state)
        case Unknown():
            return _handoff(ctx, event)
    return Decision(state)


def on_new(ctx: Context, event: Event) -> Decision:
    if isinstance(event, Applied):
        if not ctx.fresh:
            return Decision(State.NEEDS_HUMAN, (Send(Kind.GREETING), AlertRecruiter(AlertReason.NO_SLOTS)))
        return Decision(State.GREETED, (Offer(ctx.fresh), Send(Kind.GREETING, slots=ctx.fresh)))
    return Decision(State.NEW)


def on_greeted(ctx: Context, event: Event) -> Decision:
    return _choosing(ctx, event, State.GREETED)


def on_rescheduling(ctx: Context, event: Event) -> Decision:
    if isinstance(event, Marked):  # the interview happened (or not) before a new time was picked
        return on_booked(ctx, event)
    return _choosing(ctx, event, State.RESCHEDULING)


def on_booked(ctx: Context, event: Event) -> Decision:
    match event:
        case Confirm():
            return Decision(State.CONFIRMED, (Send(Kind.CONFIRMED),))
        # After a reminder a bare "1" / "2" answers it; it never books (only postback keys name slots here).
        case ChooseSlot(number=1, key=None) if ctx.reminded:
            return Decision(State.CONFIRMED, (Send(Kind.CONFIRMED),))
        case ChooseSlot(number=2, key=None) if ctx.reminded:
            return _offer(Kind.RESCHEDULE, ctx, State.RESCHEDULING)
        case ChooseSlot() | WantSlots() | OtherDates() | PickDate():
            return Decision(ctx.state, (Send(Kind.ALREADY_BOOKED),))
        case Marked() if _not_started(ctx):
            return Decision(ctx.state)  # the interview has not started: nothing happened yet to record
        case Marked(outcome=BookingStatus.ATTENDED):
            return _held(Decision(State.ATTENDED, (Send(Kind.THANKS_AFTER),)))
        case Marked(outcome=BookingStatus.NO_SHOW) if not ctx.fresh:  # recorded all the same; a person finds a new time
            return _held(Decision(State.NEEDS_HUMAN, (RecordOutcome(BookingStatus.NO_SHOW), Send(Kind.NO_SLOTS),
                                                      AlertRecruiter(AlertReason.NO_SLOTS))))
        case Marked(outcome=BookingStatus.NO_SHOW):
            return _held(_offer(Kind.NO_SHOW, ctx, State.NO_SHOW))
        case Unknown():
            return _handoff(ctx, event)
    return Decision(ctx.state)


def _not_started(ctx: Context) -> bool:
    return ctx.interview_start is not None and ctx.now < ctx.interview_start


def _held(decision: Decision) -> Decision:
    """The candidate hears of an outcome only once the recruiter's undo window has passed."""
    return Decision(decision.state, tuple(replace(a, held=True) if isinstance(a, Send) else a
                                          for a in decision.actions))


def on_unmark(ctx: Context, event: Event) -> Decision | None:
    """The recruiter takes an outcome back: the booking and the state return, the held message never goes."""
    if not isinstance(event, Unmark):
        return None
    if ctx.state is State.OPTED_OUT and ctx.before_mark is not None:
        return Decision(State.OPTED_OUT, (RestoreBooking(),))  # the booking is back; still no messages
    if ctx.state not in (State.ATTENDED, State.NO_SHOW, State.NEEDS_HUMAN) or ctx.before_mark is None:
        return Decision(ctx.state)  # the window has passed, or the candidate has moved on since
    back = State.CONFIRMED if ctx.before_mark == BookingStatus.CONFIRMED else State.BOOKED
    # A no-show with no free time went to a person to find one; taken back, nobody has anything to find.
    close = (CloseHandoff(),) if ctx.state is State.NEEDS_HUMAN else ()
    return Decision(back, (Offer(()), RestoreBooking(), *close))


def on_cancelled(ctx: Context, event: Event) -> Decision:
    match event:
        case WantSlots() | Reschedule() | OtherDates() | ChooseSlot() | Confirm() | PickDate():
            return _offer(Kind.OFFER_AGAIN, ctx, State.GREETED)
        case Unknown():
            return _handoff(ctx, event)
    return Decision(State.CANCELLED)


def on_no_show(ctx: Context, event: Event) -> Decision:
    return _choosing(ctx, event, State.NO_SHOW)


def on_attended(ctx: Context, event: Event) -> Decision:
    if isinstance(event, Unknown):
        return _handoff(ctx, event)
    return Decision(State.ATTENDED)


def on_opted_out(ctx: Context, event: Event) -> Decision:
    if isinstance(event, (Start, Confirm)):
        if ctx.handoff_open:  # the candidate still waits for a person's answer: say it is coming
            return Decision(State.NEEDS_HUMAN, (Send(Kind.WELCOME_BACK_HANDOFF),
                                                AlertRecruiter(AlertReason.OPTED_IN_WAITING, with_booking=True)))
        if ctx.has_booking:
            return Decision(State.BOOKED, (Send(Kind.WELCOME_BACK_BOOKED),))
        return _offer(Kind.WELCOME_BACK, ctx, State.GREETED)
    # The booking stood through the stop, so its outcome is recorded as anyone's: on the booking only, unheard.
    if (isinstance(event, Marked) and event.outcome in (BookingStatus.ATTENDED, BookingStatus.NO_SHOW)
            and ctx.has_booking and not _not_started(ctx)):
        return Decision(State.OPTED_OUT, (RecordOutcome(event.outcome),))
    return Decision(State.OPTED_OUT)  # silence: the candidate asked for no messages


def on_needs_human(ctx: Context, event: Event) -> Decision:
    match event:
        case Resume():
            if ctx.has_booking:
                return Decision(State.BOOKED, (Send(Kind.BACK_TO_BOT_BOOKED),))
            return _offer(Kind.OFFER_AGAIN, ctx, State.GREETED)
        case ChooseSlot() if ctx.offered_slot(event) is not None and not ctx.has_booking:
            return _choosing(ctx, event, State.GREETED)
        case WantSlots() | OtherDates() | PickDate() | SlotTakenMeanwhile() if not ctx.has_booking:
            return _choosing(ctx, event, State.GREETED)
        case Confirm() if ctx.has_booking:
            return Decision(State.CONFIRMED, (Send(Kind.CONFIRMED),))
        case Marked():
            return on_booked(ctx, event) if ctx.has_booking else Decision(State.NEEDS_HUMAN)
    return Decision(State.NEEDS_HUMAN)  # a person is on it; no bot replies in between


HANDLERS = {
    State.NEW: on_new,
    State.GREETED: on_greeted,
    State.BOOKED: on_booked,
    State.CONFIRMED: on_booked,
    State.RESCHEDULING: on_rescheduling,
    State.CANCELLED: on_cancelled,
    State.ATTENDED: on_attended,
    State.NO_SHOW: on_no_show,
    State.OPTED_OUT: on_opted_out,
    State.NEEDS_HUMAN: on_needs_human,
}

LIVE = (State.BOOKED, State.CONFIRMED, State.RESCHEDULING)


def _fallback(ctx: Context, event: Event) -> Decision | None:
    """Global fallbacks that mean the same in every state."""
    if ctx.state is State.OPTED_OUT or ctx.state is State.NEW:
        return None
    if ctx.pending == "cancel" and ctx.has_booking:
        if (answered := _answer_cancel(ctx, event)) is not None:
            return answered
    match event:
        case Stop() if ctx.has_booking:  # the booking stays: say so, and show the recruiter which one
            return Decision(State.OPTED_OUT, (Send(Kind.STOPPED),
                                              AlertRecruiter(AlertReason.OPTED_OUT, with_booking=True)))
        case Stop():
            return Decision(State.OPTED_OUT, (Send(Kind.STOPPED, ), AlertRecruiter(AlertReason.OPTED_OUT)))
        case Help():
            return Decision(ctx.state, (Send(Kind.HELP),))
        case Reschedule() if ctx.has_booking and ctx.state in (*LIVE, State.NEEDS_HUMAN):
            return _offer(Kind.RESCHEDULE, ctx, State.RESCHEDULING)
        case Reschedule() if not ctx.has_booking and ctx.state not in (State.CANCELLED, State.ATTENDED):
            return _offer(Kind.OFFER_AGAIN, ctx, State.GREETED)
        case Cancel(sure=True) if ctx.has_booking:  # asked and answered on the candidate's page already
            return Decision(State.CANCELLED, (CancelBooking(), Send(Kind.CANCELLED),
                                              AlertRecruiter(AlertReason.CANCELLED)))
        case Cancel() if ctx.has_booking:  # one question first: a booked interview is not lost to one word
            return Decision(ctx.state, (AskToConfirm("cancel"), Send(Kind.CONFIRM_CANCEL)))
        case Cancel() if ctx.state in (State.GREETED, State.NO_SHOW):
            return Decision(State.CANCELLED, (Offer(()), Send(Kind.WITHDRAWN)))
    return None


def _answer_cancel(ctx: Context, event: Event) -> Decision | None:
    """The answer to "really cancel?": yes cancels; anything the candidate says instead keeps the interview."""
    match event:
        case Yes() | Cancel(sure=True):
            return Decision(State.CANCELLED, (CancelBooking(), Send(Kind.CANCELLED),
                                              AlertRecruiter(AlertReason.CANCELLED)))
        case Decline():
            return Decision(ctx.state, (Send(Kind.CANCEL_KEPT),))
        case ChooseSlot() | OtherDates() | PickDate() | WantSlots() | Reschedule() | Confirm() | Help() | Unknown():
            then = decide(replace(ctx, pending=None), event)  # say it is kept, then answer what they said
            return Decision(then.state, (Send(Kind.CANCEL_KEPT), *then.actions))
    return None  # asked again (Cancel), a stop (its own text names the booking), or not the candidate's words


def on_calendar_change(ctx: Context, event: Event) -> Decision | None:
    """The recruiter moved or deleted the interview in their calendar: follow it, tell the candidate, offer others."""
    if not isinstance(event, (CalendarMoved, CalendarDeleted)):
        return None
    if not ctx.has_booking:
        return Decision(ctx.state)
    quiet = ctx.state is State.OPTED_OUT  # the booking still follows the calendar; no message goes out
    if isinstance(event, CalendarMoved):
        if quiet or not ctx.fresh:
            moved = () if quiet else (Send(Kind.CALENDAR_MOVED_ONLY),)
            return Decision(ctx.state, (MoveBooking(event.slot), *moved))
        return Decision(State.RESCHEDULING, (MoveBooking(event.slot), Offer(ctx.fresh),
                                             Send(Kind.CALENDAR_MOVED, slots=ctx.fresh)))
    if quiet:
        return Decision(ctx.state, (CancelBooking(),))
    if not ctx.fresh:
        return Decision(State.NEEDS_HUMAN, (CancelBooking(), Send(Kind.CALENDAR_CANCELLED_NO_SLOTS),
                                            AlertRecruiter(AlertReason.NO_SLOTS)))
    return Decision(State.GREETED, (CancelBooking(), Offer(ctx.fresh), Send(Kind.CALENDAR_CANCELLED, slots=ctx.fresh)))


def on_reported(ctx: Context, event: Event) -> Decision | None:
    """What a channel or provider reports, rather than words to read: each means the same in every state."""
    match event:
        case CarrierOptOut() if ctx.state is State.OPTED_OUT:
            return Decision(State.OPTED_OUT)
        case CarrierOptOut(why):  # nothing is said: the carrier refuses every message to that number now
            return Decision(State.OPTED_OUT, (AlertRecruiter(AlertReason.OPTED_OUT, why),))
        case AskedForPerson():
            return Decision(State.NEEDS_HUMAN, (Send(Kind.HUMAN_REQUESTED),
                                                AlertRecruiter(AlertReason.ASKED_FOR_PERSON)))
        case MediaReceived(kind):  # a person has to look at it; the bot answers unless a person has the conversation
            reply = () if ctx.state is State.NEEDS_HUMAN else (Send(Kind.MEDIA_REPLY),)
            return Decision(ctx.state, (*reply, AlertRecruiter(AlertReason.MEDIA_RECEIVED, kind)))
        case OtherMessage() if ctx.state is State.NEEDS_HUMAN:
            return Decision(State.NEEDS_HUMAN)  # a person has the conversation: the bot stays out of the way
        case OtherMessage(kind):
            return Decision(ctx.state, (Send(Kind.STICKER_REPLY if kind == "sticker" else Kind.UNSUPPORTED_REPLY),))
        case Linked() if ctx.state in (State.NEW, State.GREETED):
            # Greet again from the start, with fresh times: the first greeting never reached them.
            return on_new(replace(ctx, state=State.NEW), Applied())
        case Linked():
            return decide(ctx, WantSlots())
    return None


CHOOSING = (State.GREETED, State.RESCHEDULING, State.NO_SHOW, State.NEEDS_HUMAN)  # where a list may be on screen


def as_shown(event: Event, state: State, offered_dates: tuple[date, ...]) -> Event:
    """Read a typed number against the list on screen: after a date menu, "2" picks its second day."""
    if (isinstance(event, ChooseSlot) and event.key is None and event.number is not None and offered_dates
            and state in CHOOSING and 1 <= event.number <= len(offered_dates)):
        return PickDate(offered_dates[event.number - 1])
    return event


def decide(ctx: Context, event: Event) -> Decision:
    """Return the next state and the actions for this event; never performs I/O."""
    event = as_shown(event, ctx.state, ctx.offered_dates)  # the service looked up that day's times already
    if isinstance(event, Decline) and not (ctx.pending == "cancel" and ctx.has_booking):
        if not event.text:
            return Decision(ctx.state)  # an old "keep it" button: nothing was asked, nothing to answer
        event = Unknown(event.text)  # a "no" to nothing the bot asked: a person reads it
    decision = (on_reported(ctx, event) or on_calendar_change(ctx, event) or on_unmark(ctx, event)
                or _fallback(ctx, event) or HANDLERS[ctx.state](ctx, event))
    if isinstance(event, Resume) and ctx.handoff_open:
        decision = Decision(decision.state, (*decision.actions, CloseHandoff()))
    return decision
