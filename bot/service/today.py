"""Today's and tomorrow's interviews, and who among their candidates needs a call. Pure queries, no Flask."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.core.vocab import BookingStatus, Kind, OutboxStatus
from bot.db.models import Applicant, Booking, Outbox
from bot.service.funnel import day_start

# Why a person should phone the candidate, most urgent first.
CALL_REASONS = ("blocked", "unreachable", "unconfirmed_after_reminder", "opted_out")


@dataclass
class Interview:
    booking: Booking
    applicant: Applicant
    day: date  # company time zone
    reminded: bool  # the day-before reminder went out
    call: list  # CALL_REASONS that apply (empty: nobody needs to phone)

    @property
    def confirmed(self) -> bool:
        return self.booking.status == BookingStatus.CONFIRMED or self.booking.confirmed_at is not None

    @property
    def unconfirmed(self) -> bool:
        return self.booking.status == BookingStatus.BOOKED and self.booking.confirmed_at is None


def unreachable(session: Session, now: datetime, only=None, days: int = 14) -> list[Applicant]:
    """Applications of the last `days` with no interview whom messages no longer reach: they stopped answering every
    nudge, or blocked us on LINE (not those who asked for no more messages: a call would not be welcome either)."""
    query = select(Applicant).where(Applicant.created_at >= now - timedelta(days=days),
                                    Applicant.unreachable | Applicant.blocked, Applicant.opted_out.is_(False),
                                    Applicant.id.not_in(select(Booking.applicant_id).where(
                                        Booking.status != BookingStatus.CANCELLED)))
    if only is not None:
        query = query.where(Applicant.id.in_(only))
    return list(session.exec(query.order_by(Applicant.created_at.desc()).limit(100)).all())


def interviews(session: Session, now: datetime, tz: ZoneInfo, only=None, days: int = 2) -> list[Interview]:
    """The interviews from today's start (company time) over `days` days, not cancelled, earliest first."""
    today = now.astimezone(tz).date()
    start, end = day_start(today, tz), day_start(today + timedelta(days=days), tz)
    query = (select(Booking, Applicant).join(Applicant, Applicant.id == Booking.applicant_id)
             .where(Booking.start_at >= start, Booking.start_at < end, Booking.status != BookingStatus.CANCELLED))
    if only is not None:
        query = query.where(Applicant.id.in_(only))
    found = session.exec(query.order_by(Booking.start_at, Booking.id)).all()
    booking_ids = [b.id for b, _ in found]
    reminded = set(session.exec(select(Outbox.booking_id).where(
        Outbox.booking_id.in_(booking_ids or [-1]), Outbox.kind == Kind.REMINDER_DAY_BEFORE,
        Outbox.status == OutboxStatus.SENT)).all())
    out = []
    for booking, applicant in found:
        item = Interview(booking, applicant, booking.start_at.astimezone(tz).date(), booking.id in reminded, [])
        live = booking.status in (BookingStatus.BOOKED, BookingStatus.CONFIRMED)
        if live and applicant.blocked:
            item.call.append("blocked")
        if live and applicant.unreachable:
            item.call.append("unreachable")
        if item.unconfirmed and (item.reminded or booking.start_at - now < timedelta(hours=24)):
            item.call.append("unconfirmed_after_reminder")
        if live and applicant.opted_out:
            item.call.append("opted_out")
        out.append(item)
    return out
