"""LINE outbox rows: the booking card and content links added when a row is written; the monthly push count."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from bot.channels.line.answer import unused_reply
from bot.core.messages import Recipient, format_day, format_times, phone_for
from bot.core.unbroken import WJ
from bot.core.vocab import Kind, OutboxStatus
from bot.db.models import Applicant, Booking, Outbox
from bot.service.deps import Services


def booking_card(svc: Services, applicant: Applicant, booking: Booking, meeting_url: str | None = None) -> dict:
    """The confirmation's facts as labelled rows and links, in the candidate's language; an online interview is
    joined at its own link (`meeting_url`, Google Meet) when it has one, else at the job's."""
    s, tz, loc = svc.settings, svc.settings.tz, applicant.locale
    t = lambda key: svc.renderer.text(loc, key)  # noqa: E731
    job = s.jobs.get(applicant.job_id)
    online = job is not None and job.mode == "online"
    start, end = booking.start_at.astimezone(tz), booking.end_at.astimezone(tz)
    interviewer = s.interviewers.get(booking.interviewer)
    phone = phone_for(s.company.phone, applicant.phone, loc)
    rows = [(t("card_date"), format_day(start.date(), loc)),
            (t("card_time"), format_times(start, end, loc, joiner=WJ)),  # one line on a phone
            (t("card_place"), t("card_online") if online else s.company.address.get(loc)),
            (t("card_interviewer"), interviewer.name.get(loc) if interviewer else ""),
            (t("card_bring"), job.bring.get(loc) if job else ""),
            (t("card_phone"), phone)]
    links = [(t("card_join"), meeting_url or job.online_url) if online else (t("card_map"), s.company.map_url),
             (t("card_call"), "tel:" + re.sub(r"[^\d+]", "", phone)),
             (t("card_calendar"), f"{svc.config.public_base_url}/booking/{booking.token}.ics")]
    return {"title": t("card_title"), "rows": [{"label": k, "value": v} for k, v in rows if v],
            "links": [{"label": k, "url": u} for k, u in links
                      if u and u.startswith(("https://", "http://", "tel:+", "tel:0"))]}


def prepare_line(session: Session, svc: Services, applicant: Applicant | None, row: Outbox) -> None:
    """Add what a LINE message shows beyond the text: the booking card, the content card's source text."""
    payload = dict(row.payload)
    if applicant is not None and row.kind == Kind.BOOKED and row.booking_id:
        booking = session.get(Booking, row.booking_id)
        if booking is not None:
            payload["card"] = booking_card(svc, applicant, booking, (payload.get("facts") or {}).get("meeting_url"))
    if payload.get("links") and not payload.get("parts") and applicant is not None:  # parts: no link lines to drop
        payload["content_text"] = svc.renderer.content_block(payload["links"], applicant.locale)
    if payload.get("staff") and applicant is not None and "reply_to" not in payload:
        if (answer := unused_reply(session, svc, applicant)) is not None:  # a person's reply, free while it can be
            payload["reply_to"] = answer
    row.payload = payload


def content_payload(svc: Services, locale: str, job_id: str = "", interviewer: str | None = None) -> dict:
    """The company's videos and articles on request (the rich menu's button); an interviewer's own message
    only for a candidate who meets that interviewer."""
    payload = svc.renderer.render(Kind.LINE_CONTENT, Recipient("", locale, job_id))
    payload["links"] = svc.renderer.content_links(svc.settings.jobs.get(job_id), interviewer, locale)
    return payload


def month_start(svc: Services) -> datetime:
    """The first instant of this month in the company's zone (LINE counts messages per calendar month)."""
    local = svc.clock().astimezone(svc.settings.tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def push_count(session: Session, svc: Services) -> int:
    """Push messages sent this month (replies are free; pushes count against the LINE plan)."""
    query = select(func.count()).select_from(Outbox).where(
        Outbox.channel == "line", Outbox.status == OutboxStatus.SENT, Outbox.provider_message_id.like("push:%"),
        Outbox.sent_at >= month_start(svc))
    return session.execute(query).scalar_one()
