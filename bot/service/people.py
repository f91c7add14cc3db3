"""The same person applying again, recognised by phone, e-mail or LINE user: one person, several applications.

A LINE user can hold one conversation with us, so one application at a time has their LINE user id. A new
application takes it over (the person is talking about what they applied for last, as SMS already routes
a number's replies to its latest application), except while an earlier application has an interview
booked: that one keeps LINE until the interview is over, so its reminders and answers stay on LINE.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, select

from bot.core.vocab import LIVE_BOOKING
from bot.db.models import Applicant, Booking, Outbox
from bot.service.deps import Services
from bot.service.outbox import cancel_pending


def recognise(session: Session, applicant: Applicant, line_user_id: str | None = None) -> None:
    """Set person_id: that of the earliest other application with the same phone, e-mail or LINE user
    (`line_user_id` when an earlier application keeps it), else the applicant's own id (flushed, so it has one)."""
    same = []
    if applicant.phone:
        same.append(Applicant.phone == applicant.phone)
    if applicant.email:
        same.append(func.lower(Applicant.email) == applicant.email.lower())
    if line := line_user_id or applicant.line_user_id:
        same.append(Applicant.line_user_id == line)
    earlier = None
    if same:
        query = select(Applicant.id, Applicant.person_id).where(or_(*same), Applicant.id != applicant.id)
        earlier = session.exec(query.order_by(Applicant.id).limit(1)).first()
    applicant.person_id = (earlier.person_id or earlier.id) if earlier else applicant.id


def take_line(session: Session, svc: Services, user_id: str, now: datetime) -> Applicant | None:
    """Free the LINE user for a new application of theirs; the earlier application that keeps it because its
    interview is booked, else None (the earlier one, if any, lets go of LINE)."""
    holder = session.exec(select(Applicant).where(Applicant.line_user_id == user_id).with_for_update()).first()
    if holder is None:
        return None
    live = select(Booking.id).where(Booking.applicant_id == holder.id, Booking.status.in_(LIVE_BOOKING))
    if session.exec(live).first() is not None:
        return holder
    holder.line_user_id, holder.updated_at = None, now
    # Its LINE messages not sent yet have nowhere to go now.
    by_user = [info.name for info in svc.addressed() if info.address_field == "line_user_id"]
    cancel_pending(session, Outbox.channel.in_(by_user), applicant_id=holder.id,
                   why="LINE moved to a newer application of the same person")
    session.flush()  # before the new application takes the unique LINE user id
    return None


def applications(session: Session, person_ids: list[int]) -> dict[int, list[int]]:
    """Each person's application ids, oldest first."""
    rows = session.exec(select(Applicant.id, Applicant.person_id).where(
        or_(Applicant.person_id.in_(person_ids), Applicant.id.in_(person_ids))).order_by(Applicant.id)).all()
    found: dict[int, list[int]] = {}
    for applicant_id, person_id in rows:
        found.setdefault(person_id or applicant_id, []).append(applicant_id)
    return found
