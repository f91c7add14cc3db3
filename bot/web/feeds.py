"""iCalendar feeds: an interviewer's booked interviews, and a candidate's add-to-calendar file."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort
from sqlmodel import select

from bot.core.messages import phone_for
from bot.core.signing import matches
from bot.core.vocab import BookingStatus, KeyPurpose
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking
from bot.web.common import services
from bot.web.security import feed_token
from calendars.ics import Entry, feed, single_event

bp = Blueprint("feeds", __name__)
ICS = "text/calendar; charset=utf-8"


def _event(svc, booking: Booking, applicant: Applicant) -> Entry:
    job = svc.settings.jobs.get(applicant.job_id)
    title = job.title.ja if job else applicant.job_id
    live = booking.status != BookingStatus.CANCELLED
    note = (f"応募者: {applicant.name}\n職種: {title}\n連絡手段: {applicant.channel}\n"
            f"電話: {applicant.phone or '-'}\n状態: {booking.status}")
    return Entry(uid=f"booking-{booking.token}@sokuresu", start_at=booking.start_at, end_at=booking.end_at,
                     summary=f"面接: {applicant.name}（{title}）", description=note,
                     location=svc.renderer.place(applicant.job_id, "ja"),
                     status="CONFIRMED" if live else "CANCELLED", sequence=0 if live else 1,
                     updated_at=booking.cancelled_at or booking.created_at)


@bp.get("/calendar/<token>.ics")
def interviewer_feed(token: str):
    svc = services()
    keys = svc.keys.accepted(KeyPurpose.FEEDS)
    who = next((i for i in svc.settings.interviewers.values()
                if matches(token, (feed_token(key, i.id) for key in keys))), None)
    if who is None:
        abort(404, "no such calendar feed")
    since = svc.clock() - timedelta(days=60)
    with session_scope(svc.engine) as session:
        rows = session.exec(select(Booking, Applicant).join(Applicant, Applicant.id == Booking.applicant_id)
                            .where(Booking.interviewer == who.id, Booking.end_at >= since)
                            .order_by(Booking.start_at)).all()
        events = [_event(svc, b, a) for b, a in rows]
    body = feed(f"{svc.settings.company.name.ja} 面接 – {who.name.ja}", events, svc.settings.tz.key, svc.clock())
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Type": ICS, "Cache-Control": "private, max-age=300"})


@bp.get("/booking/<token>.ics")
def booking_ics(token: str):
    """The candidate's own interview, to add to their phone's calendar."""
    svc = services()
    with session_scope(svc.engine) as session:
        booking = session.exec(select(Booking).where(Booking.token == token)).first()
        if booking is None:
            abort(404, "no such booking")
        applicant = session.get(Applicant, booking.applicant_id)
    if booking.status == BookingStatus.CANCELLED:
        abort(410, "this interview was cancelled")
    s = svc.settings
    job = s.jobs.get(applicant.job_id)
    loc = applicant.locale
    summary = (f"Interview at {s.company.name.get('en')}" if loc == "en" else f"{s.company.name.ja} 面接")
    description = f"{job.title.get(loc) if job else ''}\n{phone_for(s.company.phone, applicant.phone, loc)}"
    body = single_event(f"booking-{booking.token}@sokuresu", booking.start_at, booking.end_at, summary,
                        description, svc.renderer.place(applicant.job_id, loc), svc.clock())
    return Response(body, headers={"Content-Type": ICS, "Content-Disposition": 'attachment; filename="interview.ics"'})
