"""The recruiting funnel, from the tables as they are: which step each application reached, how long it took to be
contacted and booked, counted per job, source, channel or week. Pure queries, no Flask.

How each step is counted (the page's "how we count" note and docs/funnel.md say the same):
- applied: the application row (`applicant.created_at`, in the company's time zone for days and weeks);
- greeted: a message to the candidate went out: an outbox row on their channel with status `sent` (never a recruiter
  alert or a calendar write), else an outgoing line of the message log;
- answered: the candidate wrote back (an incoming line of the message log) or booked (booking on their page);
- booked: they have a booking, whatever became of it;
- confirmed: a booking they confirmed (`confirmed_at`, or status confirmed);
- attended / no-show: the outcome a recruiter recorded (attended wins when a later interview was attended).
A later step counts the earlier ones as reached (a booking made without a reply counts as answered), except
confirmed: an interview can be attended without a confirmation, so attended and no-show are shares of booked.
Time to first contact: `created_at` to the first such message's `sent_at`; time to booking: to the first booking's
`created_at`. Percentiles are computed here, in Python, so SQLite and PostgreSQL give the same figures.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from bot.core.vocab import CALENDAR, RECRUITER_CHANNEL, BookingStatus, Direction, OutboxStatus
from bot.db.models import Applicant, Booking, MessageLog, Outbox

STEPS = ("applied", "greeted", "answered", "booked", "confirmed", "attended", "no_show")
DIMENSIONS = ("job", "source", "channel", "week")


@dataclass(frozen=True)
class Filters:
    """What narrows the applications counted or listed; `only` is a subquery of the ids a person may see."""

    q: str = ""
    state: str = ""
    job: str = ""
    interviewer: str = ""
    channel: str = ""
    source: str = ""
    date_from: date | None = None  # application day, company time zone, inclusive
    date_to: date | None = None
    only: object = None  # a select of applicant ids (an interviewer's), or None: everyone


@dataclass
class Journey:
    """One application's way through the funnel."""

    id: int
    job: str
    source: str
    channel: str
    week: date  # the Monday of its application week (company time zone)
    reached: set = field(default_factory=set)
    first_contact: timedelta | None = None
    to_booking: timedelta | None = None


@dataclass
class Row:
    """The funnel of one group (or of all): counts per step, and the two delays."""

    key: object
    counts: dict
    first_contact: list  # every delay, seconds, sorted
    to_booking: list

    def share(self, step: str) -> float | None:
        """This step's count as a share of applied."""
        return self.counts[step] / self.counts["applied"] if self.counts["applied"] else None

    def drop(self, step: str) -> float | None:
        """The share lost between the previous step and this one (attended / no-show: of booked)."""
        before = self.counts[_previous(step)]
        return 1 - self.counts[step] / before if before else None

    def contact(self, p: float) -> float | None:
        return percentile(self.first_contact, p)

    def booking(self, p: float) -> float | None:
        return percentile(self.to_booking, p)


def _previous(step: str) -> str:
    return "booked" if step in ("attended", "no_show") else STEPS[STEPS.index(step) - 1]


def percentile(values: list, p: float) -> float | None:
    """The p-th percentile (0..1) of sorted values, nearest rank: a real delay someone waited, never an average."""
    if not values:
        return None
    return values[max(0, math.ceil(p * len(values)) - 1)]


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def phone_forms(q: str, country_code: int | None) -> list[str]:
    """What a typed phone number looks like stored (E.164): 090-1234-5678 → 819012345678 too; [] if not a number."""
    digits = "".join(c for c in q if c.isdigit())
    if len(digits) < 4 or any(c.isalpha() for c in q):
        return []
    forms = [digits]
    if country_code and digits.startswith("0") and not digits.startswith("00"):
        forms.append(f"{country_code}{digits[1:]}")
    return forms


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def applicant_query(f: Filters, tz: ZoneInfo, country_code: int | None = None):
    """A select of Applicant with every filter applied (no order, no paging)."""
    query = select(Applicant)
    if f.only is not None:
        query = query.where(Applicant.id.in_(f.only))
    if f.state:
        query = query.where(Applicant.state == f.state)
    if f.job:
        query = query.where(Applicant.job_id == f.job)
    if f.channel:
        query = query.where(Applicant.channel == f.channel)
    if f.source:
        query = query.where(Applicant.source == f.source)
    if f.interviewer:
        query = query.where(Applicant.id.in_(select(Booking.applicant_id).where(
            Booking.interviewer == f.interviewer, Booking.status != BookingStatus.CANCELLED)))
    if f.date_from:
        query = query.where(Applicant.created_at >= day_start(f.date_from, tz))
    if f.date_to:
        query = query.where(Applicant.created_at < day_start(f.date_to + timedelta(days=1), tz))
    q = f.q.strip()
    if q:
        text = _like(q.lower())
        match = (func.lower(Applicant.name).like(text, escape="\\")
                 | func.lower(Applicant.email).like(text, escape="\\"))
        for form in phone_forms(q, country_code):
            match = match | Applicant.phone.like(_like(form), escape="\\")
        query = query.where(match)
    return query


def sources(session: Session, only=None) -> list[str]:
    """The sources applications came from (job boards, the form), for the filter."""
    query = select(Applicant.source).where(Applicant.source.is_not(None)).distinct()
    if only is not None:
        query = query.where(Applicant.id.in_(only))
    return sorted(session.exec(query).all())


def page(session: Session, f: Filters, tz: ZoneInfo, number: int, size: int = 50,
         country_code: int | None = None) -> tuple[list[Applicant], int]:
    """One page of the filtered applicants, newest first, and how many there are in all."""
    query = applicant_query(f, tz, country_code)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Applicant.id.desc()).offset((max(1, number) - 1) * size).limit(size)).all()
    return list(rows), total


def journeys(session: Session, f: Filters, tz: ZoneInfo, country_code: int | None = None) -> list[Journey]:
    """Each filtered application with the steps it reached and its delays (five queries, whatever the count)."""
    ids = applicant_query(f, tz, country_code).with_only_columns(Applicant.id)
    cols = (Applicant.id, Applicant.job_id, Applicant.source, Applicant.channel, Applicant.created_at)
    apps = session.execute(applicant_query(f, tz, country_code).with_only_columns(*cols)).all()
    first_sent = dict(session.exec(
        select(Outbox.applicant_id, func.min(Outbox.sent_at))
        .where(Outbox.applicant_id.in_(ids), Outbox.status == OutboxStatus.SENT, Outbox.sent_at.is_not(None),
               Outbox.channel.not_in((RECRUITER_CHANNEL, CALENDAR)))
        .group_by(Outbox.applicant_id)).all())
    logged = {a: (d, t) for a, d, t in session.exec(
        select(MessageLog.applicant_id, MessageLog.direction, func.min(MessageLog.created_at))
        .where(MessageLog.applicant_id.in_(ids)).group_by(MessageLog.applicant_id, MessageLog.direction)).all()
        if d == Direction.OUT}
    answered = set(session.exec(select(MessageLog.applicant_id).where(
        MessageLog.applicant_id.in_(ids), MessageLog.direction == Direction.IN).distinct()).all())
    bookings: dict[int, list] = {}
    for row in session.exec(select(Booking.applicant_id, Booking.status, Booking.created_at, Booking.confirmed_at)
                            .where(Booking.applicant_id.in_(ids))).all():
        bookings.setdefault(row[0], []).append(row)
    out = []
    for app_id, job, source, channel, created in apps:
        local = created.astimezone(tz).date()
        j = Journey(app_id, job, source or "", channel, local - timedelta(days=local.weekday()))
        j.reached.add("applied")
        sent = first_sent.get(app_id) or (logged.get(app_id) or (None, None))[1]
        if sent is not None:
            j.reached.add("greeted")
            j.first_contact = max(timedelta(0), sent - created)
        mine = bookings.get(app_id, [])
        if app_id in answered or mine:
            j.reached |= {"greeted", "answered"}
        if mine:
            j.reached.add("booked")
            j.to_booking = max(timedelta(0), min(b[2] for b in mine) - created)
            statuses = {b[1] for b in mine}
            if any(b[3] is not None for b in mine) or BookingStatus.CONFIRMED in statuses:
                j.reached.add("confirmed")
            if BookingStatus.ATTENDED in statuses:
                j.reached.add("attended")
            elif BookingStatus.NO_SHOW in statuses:
                j.reached.add("no_show")
        out.append(j)
    return out


def _row(key, group: list[Journey]) -> Row:
    counts = {step: sum(1 for j in group if step in j.reached) for step in STEPS}
    return Row(key, counts, sorted(j.first_contact.total_seconds() for j in group if j.first_contact is not None),
               sorted(j.to_booking.total_seconds() for j in group if j.to_booking is not None))


def funnel(items: list[Journey], by: str = "job") -> tuple[Row, list[Row]]:
    """The funnel of all these applications, and one per group of `by` (job, source, channel or week)."""
    groups: dict[object, list[Journey]] = {}
    for j in items:
        groups.setdefault(getattr(j, by), []).append(j)
    order = sorted(groups, reverse=True) if by == "week" else sorted(groups, key=lambda k: (-len(groups[k]), k))
    return _row(None, items), [_row(k, groups[k]) for k in order]
