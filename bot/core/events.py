"""Inbound events and outbound actions of the conversation: plain data, no behaviour."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from calendars.base import Slot


# --- events: what happened (from the candidate, the recruiter, or the service itself) ---
@dataclass(frozen=True)
class Applied:
    """The candidate has just applied."""


@dataclass(frozen=True)
class ChooseSlot:
    """The candidate picked an offered slot, by its number in the offer or by its key (postback)."""

    number: int | None = None
    key: str | None = None


@dataclass(frozen=True)
class OtherDates:
    """None of the offered slots suit; show other days."""


@dataclass(frozen=True)
class PickDate:
    """The candidate named a day; offer the slots of that day."""

    day: date
    at: time | None = None  # a time of day named with it ("12月3日の13時で"): that time, if it is on the list shown


@dataclass(frozen=True)
class WantSlots:
    """The candidate asks to book (again): offer fresh slots."""


@dataclass(frozen=True)
class Reschedule:
    """Change the booked interview."""


@dataclass(frozen=True)
class Cancel:
    """Cancel the booked interview; `sure` when the candidate tapped "yes, cancel" under the question."""

    sure: bool = False


@dataclass(frozen=True)
class Confirm:
    """Yes / I will attend."""


@dataclass(frozen=True)
class Yes(Confirm):
    """A bare yes (はい / yes): answers the question the bot asked, else means the same as Confirm."""


@dataclass(frozen=True)
class Decline:
    """A bare no (いいえ / no, or the "keep it" button); without a question asked it is read as Unknown."""

    text: str = ""


@dataclass(frozen=True)
class Help:
    """What can I say here?"""


@dataclass(frozen=True)
class Stop:
    """Send me nothing more (opt-out)."""


@dataclass(frozen=True)
class Start:
    """Opt back in after a stop."""


@dataclass(frozen=True)
class Unknown:
    """Anything the bot cannot understand; a person takes over."""

    text: str = ""


@dataclass(frozen=True)
class SlotTakenMeanwhile:
    """The service could not book the chosen slot: someone else got it first."""


@dataclass(frozen=True)
class Marked:
    """The recruiter marked the interview's outcome: 'attended' or 'no_show'."""

    outcome: str


@dataclass(frozen=True)
class Unmark:
    """The recruiter takes back the outcome they recorded a moment ago (inside the undo window)."""


@dataclass(frozen=True)
class Resume:
    """The recruiter hands the conversation back to the bot."""


@dataclass(frozen=True)
class CalendarMoved:
    """The recruiter moved the booked interview in their calendar (Google): it now takes place at `slot`."""

    slot: Slot


@dataclass(frozen=True)
class CalendarDeleted:
    """The booked interview vanished from the interviewer's calendar (deleted there, or its time got taken)."""


@dataclass(frozen=True)
class CarrierOptOut:
    """The provider reports that the candidate's number opted out at the carrier (Twilio 21610), and why."""

    why: str


@dataclass(frozen=True)
class AskedForPerson:
    """The candidate tapped "talk to a person" (the LINE menu)."""


@dataclass(frozen=True)
class MediaReceived:
    """The candidate sent a photo, video, audio or file (`kind`): the bot cannot read it, a person can."""

    kind: str


@dataclass(frozen=True)
class OtherMessage:
    """A sticker, a location, a menu tap or a kind of message the bot has no words for (`kind`, if any)."""

    kind: str = ""


@dataclass(frozen=True)
class Linked:
    """The candidate tied their LINE account to this application: the channel is only reachable from now on."""


Event = (Applied | ChooseSlot | OtherDates | PickDate | WantSlots | Reschedule | Cancel | Confirm | Decline | Help
         | Stop | Start | Unknown | SlotTakenMeanwhile | Marked | Unmark | Resume | CalendarMoved | CalendarDeleted
         | CarrierOptOut | AskedForPerson | MediaReceived | OtherMessage | Linked)


# --- actions: what the service must do, in order, in one transaction ---
@dataclass(frozen=True)
class Send:
    """Send the candidate the message `kind` (rendered later in their language)."""

    kind: str
    slots: tuple[Slot, ...] = ()
    dates: tuple[date, ...] = ()
    held: bool = False  # goes out only after the recruiter's undo window (an outcome they may take back)


@dataclass(frozen=True)
class Offer:
    """Remember these slots as the ones on offer (numbered 1..n in order)."""

    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class OfferDates:
    """Remember these days as the date menu on screen (numbered 1..n): a number now picks a day, not a slot."""

    dates: tuple[date, ...]


@dataclass(frozen=True)
class Book:
    """Book this slot; the live booking, if any, is replaced (reschedule)."""

    slot: Slot


@dataclass(frozen=True)
class CancelBooking:
    """Cancel the live booking and its calendar event."""


@dataclass(frozen=True)
class AlertRecruiter:
    """Tell the recruiter a person is needed, and why."""

    reason: str
    detail: str = ""
    with_booking: bool = False  # name the live interview's time in the alert (the recruiter may have to call)


@dataclass(frozen=True)
class MoveBooking:
    """Keep the live booking but at this new time (the calendar already shows it there)."""

    slot: Slot


@dataclass(frozen=True)
class RecordOutcome:
    """Record 'attended' / 'no_show' on the live booking while the state stays (a candidate who stopped messages)."""

    outcome: str


@dataclass(frozen=True)
class RestoreBooking:
    """Put the booking just marked attended / no-show back as it was, and drop the messages held for it."""


@dataclass(frozen=True)
class AskToConfirm:
    """Remember the question the bot just asked (e.g. "cancel"); any other decision forgets it."""

    what: str


@dataclass(frozen=True)
class CloseHandoff:
    """The recruiter handed the conversation back to the bot: no person owes the candidate an answer now."""


Action = (Send | Offer | OfferDates | Book | CancelBooking | AlertRecruiter | MoveBooking | RecordOutcome
          | RestoreBooking | AskToConfirm | CloseHandoff)


@dataclass(frozen=True)
class Decision:
    """The next state and the actions that lead there."""

    state: str
    actions: tuple[Action, ...] = field(default_factory=tuple)
