"""The same person applying again, recognised by phone, e-mail or LINE user: one person, several applications.

A LINE user can hold one conversation with us, so one application at a time has their LINE user id. A new
application takes it over (the person is talking about what they applied for last, as SMS already routes
a number's replies to its latest application), except while an earlier application has an interview
booked: that one keeps LINE until the interview is over, so its reminders and answers stay on LINE.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Mapping

from sqlalchemy import func, or_, text
from sqlmodel import Session, select

from bot.core.vocab import LIVE_BOOKING, Kind, OutboxStatus
from bot.db.models import Applicant, Booking, Outbox
from bot.service.deps import Services
from bot.service.outbox import cancel_pending

NEW_PEOPLE = "new_people"  # session.info: applications recognised in this transaction as a person seen nowhere else
OUT_OR_GOING = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT)  # a message not taken back


def _same(phone: str | None, email: str | None, line_user_id: str | None) -> list:
    """Conditions matching the applications with any of these addresses."""
    same = []
    if phone:
        same.append(Applicant.phone == phone)
    if email:
        same.append(func.lower(Applicant.email) == email.lower())
    if line_user_id:
        same.append(Applicant.line_user_id == line_user_id)
    return same


def recognise(session: Session, applicant: Applicant, line_user_id: str | None = None) -> None:
    """Set person_id: that of the earliest other application with the same phone, e-mail or LINE user
    (`line_user_id` when an earlier application keeps it), else the applicant's own id (flushed, so it has one)."""
    same = _same(applicant.phone, applicant.email, line_user_id or applicant.line_user_id)
    earlier = None
    if same:
        query = select(Applicant.id, Applicant.person_id).where(or_(*same), Applicant.id != applicant.id)
        earlier = session.exec(query.order_by(Applicant.id).limit(1)).first()
    applicant.person_id = (earlier.person_id or earlier.id) if earlier else applicant.id
    # Nobody else at these addresses: this transaction need not ask again (nudged_unanswered), until it adds another.
    new = session.info.setdefault(NEW_PEOPLE, set())
    if earlier is None:
        new.add(applicant.id)
    else:
        new.discard(applicant.person_id)


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


def hold_addresses(session: Session, addresses: Mapping[str, str | None]) -> None:
    """Until commit, make other applications giving one of these addresses wait (PostgreSQL: two arriving at once
    would each find no greeting yet; SQLite's write lock already serialises them)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    given = {f"{column}:{value.lower()}" for column, value in addresses.items() if value}
    keys = sorted(int.from_bytes(hashlib.sha256(g.encode()).digest()[:8], "big", signed=True) for g in given)
    if keys:  # one statement; its locks are taken left to right, in one order, so two applications never deadlock
        calls = ", ".join(f"pg_advisory_xact_lock(:k{n})" for n in range(len(keys)))
        session.execute(text(f"SELECT {calls}"), {f"k{n}": key for n, key in enumerate(keys)})


def greeted(session: Session, addresses: Mapping[str, str | None], since: datetime, limit: int) -> int | None:
    """The latest application greeted since `since` at any of these addresses when `limit` of them were (the
    person had their greetings for the day), else None. One the person stopped (opt-out, LINE block) does not
    count: they cannot go on with it, and applying again is how they ask to be contacted."""
    same = _same(addresses.get("phone"), addresses.get("email"), addresses.get("line_user_id"))
    if not same:
        return None
    query = (select(Outbox.applicant_id).distinct().join(Applicant, Applicant.id == Outbox.applicant_id)
             .where(or_(*same), Applicant.opted_out.is_(False), Applicant.blocked.is_(False),
                    Outbox.kind == Kind.GREETING, Outbox.status.in_(OUT_OR_GOING), Outbox.created_at >= since)
             .order_by(Outbox.applicant_id.desc()).limit(limit))
    found = session.exec(query).all()
    return found[0] if len(found) >= limit else None


def answered_since(session: Session, applicant: Applicant, since: datetime) -> bool:
    """Whether the person wrote to us since then about any application with one of the applicant's addresses."""
    same = _same(applicant.phone, applicant.email, applicant.line_user_id)
    if not same:
        return False
    query = select(Applicant.id).where(or_(*same), Applicant.last_inbound_at >= since).limit(1)
    return session.exec(query).first() is not None


def nudged_unanswered(session: Session, applicant: Applicant) -> int:
    """The nudges written to this person (every application at one of the applicant's addresses) since they last
    wrote to us, or ever when they never did; those taken back do not count."""
    same = _same(applicant.phone, applicant.email, applicant.line_user_id)
    if not same or applicant.id in session.info.get(NEW_PEOPLE, ()):  # a new person was never nudged
        return 0
    theirs = select(Applicant.id).where(or_(*same))
    answered = session.exec(select(func.max(Applicant.last_inbound_at)).where(or_(*same))).one()
    query = select(func.count()).select_from(Outbox).where(Outbox.applicant_id.in_(theirs), Outbox.kind == Kind.NUDGE,
                                                           Outbox.status.in_(OUT_OR_GOING))
    if answered is not None:
        query = query.where(Outbox.created_at > answered)
    return session.exec(query).one()
