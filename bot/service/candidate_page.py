"""The candidate's own page (/c/<signed>): its signed address, when it closes, and what it shows.

One-way SMS (Twilio cannot bring replies back from Japan) and e-mail (replies are not read) point here
instead of asking for a reply; every action on the page still goes through the conversation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable
from urllib.parse import urlencode

import phonenumbers
from sqlmodel import Session, select

from bot.core.conversation import State
from bot.core.settings import Settings
from bot.core.signing import sign, unsign
from bot.core.vocab import LIVE_BOOKING
from bot.db.models import Applicant, Booking
from calendars.base import Slot

SALT = "candidate-page"  # its own salt: an unsubscribe link's signature never opens this page
OPEN_WITHOUT_BOOKING = timedelta(days=30)  # the page stays open this long after the last change
# What a text must not say to someone who cannot answer: "reply", "send 1", 「返信」, 「送ってください」.
# (お知らせください / "let us know" are not in it: "let us know on this page or by phone" is fine.)
REPLY_REQUEST = re.compile(r"返信|送って|送るか|と送|を送|送信|お送りください|お送りいただ|教えて"
                           r"|\breply\b|\bsend\s*[\"“]|\bsend (?:us|me|back)\b|\btext (?:us|back)\b", re.IGNORECASE)
# The space stays with the next sentence; "e.g." and "i.e." end no sentence ("a date (e.g. Thu 3 Dec)").
_SENTENCE = re.compile(r"(?<=[。！？!?])|(?<=\.)(?<!e\.g\.)(?<!i\.e\.)(?=\s)")


def page_url(secret_key: str, base_url: str, applicant_token: str, **query: str) -> str:
    """The signed address of one applicant's page; `query` preselects a time (slot=) or an action (do=)."""
    url = f"{base_url}/c/{sign(secret_key, SALT, applicant_token)}"
    return f"{url}?{urlencode(query)}" if query else url


def applicant_token_of(keys: str | Iterable[str], signed: str) -> str | None:
    """The applicant token inside a page address, or None when it was not signed with one of `keys` for this page."""
    return unsign(keys, SALT, signed)


def region_of(phone: str | None) -> str | None:
    """The ISO country of an E.164 number (JP for +81), or None."""
    if not phone:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return None


def sms_is_one_way(settings: Settings, phone: str | None) -> bool:
    """Whether an SMS to this number can get no answer back (links instead of 'reply 1')."""
    return settings.sms.mode_for(region_of(phone)) == "one_way"


def without_reply_requests(text: str) -> str:
    """Drop the sentences that ask for a reply (for readers who cannot or need not reply)."""
    lines = []
    for line in text.split("\n"):
        kept = "".join(s for s in _SENTENCE.split(line) if s and not REPLY_REQUEST.search(s))
        if not line[:1].isspace():  # a dropped first sentence leaves the next one's space in front
            kept = kept.lstrip()
        if kept.strip() or not line.strip():
            lines.append(kept.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def expired(applicant: Applicant, booking: Booking | None, now: datetime) -> bool:
    """The page closes when the interview is over, or 30 days after the last change without a booking."""
    if applicant.state == State.ATTENDED:
        return True
    if booking is not None:
        return now >= booking.end_at
    return now >= max(applicant.created_at, applicant.updated_at) + OPEN_WITHOUT_BOOKING


@dataclass(frozen=True)
class PageView:
    """What the page shows one applicant: their state, the times on offer, their own booking."""

    applicant: Applicant
    booking: Booking | None
    offered: tuple[Slot, ...]
    days: tuple[date, ...]
    meeting_url: str | None = None  # the online interview's own link (Google Meet), when there is one


def find(session: Session, keys: str | Iterable[str], signed: str) -> Applicant | None:
    """The applicant a signed page address belongs to (None: forged, or not ours)."""
    token = applicant_token_of(keys, signed)
    if token is None:
        return None
    return session.exec(select(Applicant).where(Applicant.token == token)).first()


def view(session: Session, applicant: Applicant) -> PageView:
    """The applicant's own booking and offer; never anyone else's."""
    mine = select(Booking).where(Booking.applicant_id == applicant.id, Booking.status.in_(LIVE_BOOKING))
    booking = session.exec(mine.order_by(Booking.id.desc())).first()
    offered = tuple(Slot(datetime.fromisoformat(d["start"]), datetime.fromisoformat(d["end"]), d["interviewer"])
                    for d in applicant.offered or [])
    days = tuple(date.fromisoformat(d) for d in applicant.offered_dates or [])
    return PageView(applicant, booking, offered, days)
