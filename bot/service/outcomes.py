"""Record an interview's outcome (recruiter page or mail link) once it has started, and take it back for a few minutes.

The checks here give the recruiter the reason for a refusal; the state change itself is the conversation's
(Marked / Unmark through decide()), and the candidate's message waits out the undo window in the outbox.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.events import Marked, Unmark
from bot.core.messages import format_slot
from bot.core.vocab import LIVE_BOOKING, BookingStatus
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking
from bot.service.deps import Services
from bot.service.turn import converse, live_booking, marked_booking

OUTCOMES = (BookingStatus.ATTENDED, BookingStatus.NO_SHOW)  # also the booking's status once one is recorded


class OutcomeRefused(Exception):
    """Why an outcome cannot be recorded or taken back now, worded for the recruiter (Japanese, then English)."""


def undo_until(svc: Services, booking: Booking | None) -> datetime | None:
    """Until when (UTC) the booking's recorded outcome may be taken back; None when it no longer may."""
    if booking is None or booking.marked_at is None:
        return None
    until = booking.marked_at + timedelta(minutes=svc.settings.undo_minutes)
    return until if svc.clock() < until else None


def refusal(svc: Services, booking: Booking | None) -> str | None:
    """Why no outcome can be recorded for this booking now, or None when it can."""
    if booking is None or booking.status not in LIVE_BOOKING:
        return "この面接はすでに記録済みか、変更・キャンセルされています。 Already recorded, moved or cancelled."
    if svc.clock() < booking.start_at:
        when = format_slot(booking.start_at, svc.settings.tz, "ja", booking.end_at)
        return (f"面接（{when}）が始まるまでは、参加・不参加を記録できません。"
                " The interview has not started yet: attended / no-show can be recorded once it has.")
    return None


def _locked(session, applicant_id: int) -> Applicant:
    applicant = session.get(Applicant, applicant_id, with_for_update=True)
    if applicant is None:
        raise LookupError(applicant_id)
    return applicant


def mark(svc: Services, applicant_id: int, outcome: str, booking_token: str | None = None) -> datetime:
    """Record attended / no-show; return until when it may be undone. OutcomeRefused before the start."""
    if outcome not in OUTCOMES:
        raise OutcomeRefused(f"不明な結果です。 Unknown outcome {outcome!r}.")
    with session_scope(svc.engine) as session:
        applicant = _locked(session, applicant_id)
        booking = live_booking(session, applicant.id)
        if booking_token is not None and booking is not None and booking.token != booking_token:
            booking = None  # a mail link names one interview; it was moved or replaced since
        if reason := refusal(svc, booking):
            raise OutcomeRefused(reason)
        converse(session, svc, applicant, Marked(outcome))
        # The booking says whether it was recorded: the applicant's state does not, for one who stopped messages.
        if booking.status not in OUTCOMES:
            raise OutcomeRefused("いまの状態では記録できません。 Cannot be recorded in the current state.")
        until = booking.marked_at + timedelta(minutes=svc.settings.undo_minutes)
    svc.process.wake.set()
    return until


def undo(svc: Services, applicant_id: int, booking_token: str | None = None) -> None:
    """Take back an outcome recorded less than the undo window ago; the candidate never hears of it."""
    minutes = svc.settings.undo_minutes
    with session_scope(svc.engine) as session:
        applicant = _locked(session, applicant_id)
        booking = marked_booking(session, svc, applicant.id, svc.clock())
        if booking is None or (booking_token is not None and booking.token != booking_token):
            raise OutcomeRefused(f"取り消せる記録はありません（取り消しは記録から{minutes}分以内です）。"
                                 f" Nothing to undo: an outcome can be taken back for {minutes} minutes.")
        converse(session, svc, applicant, Unmark())
        if booking.status in OUTCOMES:
            raise OutcomeRefused("応募者がすでに次の操作をしたため、取り消せません。"
                                 " The candidate has moved on since; it can no longer be undone.")
    svc.process.wake.set()
