"""Delete a person's data on request (APPI, GDPR) or after the retention period: every application of theirs, in
one transaction, and their interview events through the calendar's queued writes (which retry).

What stays: the audit entry (who erased which applicant id, when, how many rows), refusal counts (the destination
was masked when counted; their link to the application is cut), and an opt-out as a keyed hash
(bot.service.forgotten) so that a person who told us to stop is not written to again if their address comes back.
Tables are found through SQLModel.metadata, so a table added later with an `applicant_id` is erased as well.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, or_, update
from sqlmodel import Session, SQLModel, select

from bot.core.vocab import STAFF_CHANNEL, AuditAction
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking, CodeAttempt, InboxItem, LineLead, Outbox
from bot.service import audit, forgotten
from bot.service.deps import Services
from calendars.local import LocalEvent

log = logging.getLogger("sokuresu.erasure")
# Tables whose rows keep an applicant id without personal data: the audit log says what happened to that id, and a
# refusal's destination is masked (its link to the application is cut instead).
KEEP_ID = {"audit_entry"}
CUT_ID = {"refusal"}


@dataclass(frozen=True)
class Erased:
    """What an erasure removed: the applications' ids and how many rows in all."""

    applicant_ids: tuple[int, ...]
    rows: int
    events: int  # calendar events cancelled (local: deleted at once; a provider's: queued)


def person_of(session: Session, applicant_id: int) -> list[Applicant]:
    """Every application of the person who made this one (one person_id), locked; empty when there is none."""
    applicant = session.get(Applicant, applicant_id)
    if applicant is None:
        return []
    root = applicant.person_id or applicant.id
    query = select(Applicant).where(or_(Applicant.id == root, Applicant.person_id == root,
                                        Applicant.id == applicant_id)).order_by(Applicant.id)
    return list(session.exec(query.with_for_update()).all())


def _addresses(applicants: list[Applicant]) -> set[str]:
    found = set()
    for a in applicants:
        found.update(x for x in (a.phone, a.email, a.email.lower() if a.email else None, a.line_user_id) if x)
    return found


def _cancel_events(session: Session, svc: Services, bookings: list[Booking]) -> int:
    """Cancel each booking's event through the calendar router: a provider's deletion is queued as a calendar
    outbox row (written after commit, retried by the worker); local events are deleted with the rest."""
    router = svc.calendar_for(session)
    cancelled = 0
    for booking in bookings:
        if booking.calendar_event_id:
            router.cancel(booking.calendar_event_id)
            cancelled += 1
    refs = [str(b.id) for b in bookings]
    uids = [b.calendar_event_id for b in bookings if b.calendar_event_id]
    if refs or uids:  # the local event holds the candidate's name and notes: gone, not only cancelled
        session.execute(delete(LocalEvent).where(or_(LocalEvent.booking_ref.in_(refs), LocalEvent.uid.in_(uids))),
                        execution_options={"synchronize_session": False})
    return cancelled


def _delete_rows(session: Session, ids: list[int], booking_ids: list[int], addresses: set[str]) -> int:
    """Delete every row that belongs to these applications, children first; the number deleted."""
    rows = 0
    # An alert's copies for people name the applicant in their payload only (bot.service.notify).
    copies = (Outbox.channel == STAFF_CHANNEL) & Outbox.payload["applicant"].as_integer().in_(ids)
    outbox_ids = list(session.execute(select(Outbox.id).where(or_(
        Outbox.applicant_id.in_(ids), Outbox.booking_id.in_(booking_ids or [-1]), copies))).scalars())
    for table in reversed(SQLModel.metadata.sorted_tables):
        if table.name in KEEP_ID or table.name == Applicant.__tablename__:
            continue
        columns = table.c
        if table.name in CUT_ID and "applicant_id" in columns:
            session.execute(update(table).where(columns.applicant_id.in_(ids)).values(applicant_id=None))
            continue
        where = []
        if "applicant_id" in columns:
            where.append(columns.applicant_id.in_(ids))
        if "outbox_id" in columns and outbox_ids:
            where.append(columns.outbox_id.in_(outbox_ids))
        if table.name == Outbox.__tablename__ and outbox_ids:
            where.append(columns.id.in_(outbox_ids))  # calendar writes carry the booking, alerts' copies the payload
        if where:
            rows += session.execute(delete(table).where(or_(*where))).rowcount
    if addresses:  # kept by sender or LINE user rather than by application
        for column in (InboxItem.sender, CodeAttempt.sender, LineLead.line_user_id):
            rows += session.execute(delete(column.class_).where(column.in_(sorted(addresses))),
                                    execution_options={"synchronize_session": False}).rowcount
    return rows


def erase_in(session: Session, svc: Services, applicant_id: int, *, by: int | None, via: str) -> Erased | None:
    """Erase the person in the caller's transaction; None when there is no such applicant."""
    applicants = person_of(session, applicant_id)
    if not applicants:
        return None
    ids = [a.id for a in applicants]
    bookings = list(session.exec(select(Booking).where(Booking.applicant_id.in_(ids))).all())
    events = _cancel_events(session, svc, bookings)
    addresses = _addresses(applicants)
    forgotten.hash_opt_outs(session, svc, applicants)
    rows = _delete_rows(session, ids, [b.id for b in bookings], addresses)
    for a in applicants:
        session.delete(a)
    session.flush()
    rows += len(applicants)
    audit.record(session, svc.clock(), AuditAction.ERASE, by=by, via=via, applicant_id=applicant_id,
                 detail=f"応募{len(ids)}件・データ{rows}件")  # counts, as the audit page shows them
    return Erased(tuple(ids), rows, events)


def erase(svc: Services, applicant_id: int, *, by: int | None, via: str) -> Erased | None:
    """Erase the person who made this application, all at once or not at all."""
    with session_scope(svc.engine) as session:
        erased = erase_in(session, svc, applicant_id, by=by, via=via)
    if erased is not None:
        log.info("erased applicant %s: %s applications, %s rows", applicant_id, len(erased.applicant_ids),
                 erased.rows)
    return erased

