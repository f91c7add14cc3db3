"""What an e-mail shows beyond the message text, added when its outbox row is written: the company's brand and the
booked interview's facts (the adapter that sends it later reads no database)."""
from __future__ import annotations

from sqlmodel import Session

from bot.channels.email.view import CARD_KINDS
from bot.core.messages import format_slot
from bot.db.models import Applicant, Booking, Outbox
from bot.service.candidate_page import view
from bot.service.deps import Services

RASTER = (".png", ".jpg", ".jpeg", ".gif")  # Gmail and Outlook show no SVG (nor WebP in Outlook): no logo then


def logo_url(logo: str, base_url: str) -> str:
    """The logo as an absolute https address a mail client can fetch, or '' (no logo rather than a broken one)."""
    if not logo or not logo.lower().endswith(RASTER):
        return ""
    if logo.startswith("https://"):
        return logo
    if not base_url.startswith("https://") or "://" in logo:
        return ""
    path = logo.lstrip("/")
    return f"{base_url}/{path if path.startswith('static/') else 'static/' + path}"


def brand(svc: Services, locale: str) -> dict:
    """The company's name, logo and colour as the mail shows them; the [brand] table may be absent."""
    settings = svc.settings
    own = getattr(settings, "brand", None)
    return {"company": settings.company.name.get(locale),
            "logo": logo_url(str(getattr(own, "logo", "") or ""), svc.config.public_base_url),
            "colour": str(getattr(own, "colour", "") or "")}


def card(svc: Services, applicant: Applicant, booking: Booking, meeting_url: str | None) -> dict:
    """The booked interview's facts in the candidate's language."""
    s, loc = svc.settings, applicant.locale
    job, who = s.jobs.get(applicant.job_id), s.interviewers.get(booking.interviewer)
    online = job is not None and job.mode == "online"
    return {"when": format_slot(booking.start_at, s.tz, loc, booking.end_at), "online": online,
            "join": (meeting_url or job.online_url) if online else "",
            "address": "" if online else s.company.address.get(loc), "map": "" if online else s.company.map_url,
            "interviewer": who.name.get(loc) if who else "", "bring": job.bring.get(loc) if job else "",
            "ics": f"{svc.config.public_base_url}/booking/{booking.token}.ics"}


def prepare_email(session: Session, svc: Services, applicant: Applicant | None, row: Outbox) -> None:
    """Add the brand and, for a mail about a booked interview, its facts to the row's payload."""
    if applicant is None:
        return
    payload = dict(row.payload)
    extra = brand(svc, applicant.locale if applicant.locale in ("ja", "en") else "ja")
    if row.kind in CARD_KINDS:
        booking = session.get(Booking, row.booking_id) if row.booking_id else view(session, applicant).booking
        if booking is not None:
            extra["card"] = card(svc, applicant, booking, (payload.get("facts") or {}).get("meeting_url"))
    row.payload = {**payload, "mail": extra}
