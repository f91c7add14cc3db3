"""What a person does in the inbox: reply on the candidate's channel, leave a note, resolve an alert, hand the
conversation back; what a candidate writes on their own page; and the saved replies admins keep.

Each action and its audit entry commit together. A reply is an outbox row like any other message (the worker
sends it, retried and never twice); its payload names the person who wrote it, and so does the message log
once it has gone out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, select

from bot.core import saved_replies as saved
from bot.core.conversation import State
from bot.core.events import AskedForPerson, Resume
from bot.core.messages import format_slot
from bot.core.vocab import LIVE_BOOKING, RECRUITER_CHANNEL, AuditAction, Direction, Kind, OutboxStatus
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking, MessageLog, Outbox
from bot.db.workspace import InboxNote, ResolvedAlert, SavedReply
from bot.service import audit, optouts
from bot.service.deps import Services
from bot.service.followups import answered
from bot.service.inbound_log import log_inbound
from bot.service.outbox import enqueue
from bot.service.turn import handle

MAX_TEXT = 1000  # a reply or a note; an SMS of this length is about 15 segments, the reply box counts them
PAGE = "page"  # the source of what a candidate writes on their own page


class Unreachable(Exception):
    """Every address the candidate gave opted out (or none is left): call them instead."""


@dataclass(frozen=True)
class Staff:
    """Who acts: an account id and the name shown beside their words."""

    id: int | None
    name: str


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise ValueError("empty")
    return text[:MAX_TEXT]


def reply(svc: Services, applicant_id: int, staff: Staff, text: str) -> Outbox | None:
    """Queue a person's reply on the candidate's channel (another of theirs when that one opted out); None when
    there is no such applicant. Raises Unreachable when no address may be written to."""
    text = _clean(text)
    with session_scope(svc.engine) as session:
        applicant = session.get(Applicant, applicant_id, with_for_update=True)
        if applicant is None:
            return None
        channel = optouts.channel_for(session, svc, applicant)
        if channel is None:
            raise Unreachable(applicant_id)
        company = svc.settings.company
        payload = {"kind": Kind.MESSAGE, "text": text, "staff": {"id": staff.id, "name": staff.name},
                   "facts": {"company": company.name.get(applicant.locale) or company.name.ja,
                             "phone": company.phone}}
        row = enqueue(session, svc, applicant, payload, channel=channel)
        audit.record(session, svc.clock(), AuditAction.REPLY, by=staff.id, via="web", applicant_id=applicant_id,
                     detail=channel)
        session.flush()
        session.expunge(row)
    svc.process.wake.set()  # a worker in this process sends it now rather than at its next poll
    return row


def note(svc: Services, applicant_id: int, staff: Staff, text: str) -> None:
    """Keep a note for colleagues on the conversation: never sent."""
    text = _clean(text)
    with session_scope(svc.engine) as session:
        session.add(InboxNote(applicant_id=applicant_id, account_id=staff.id, author=staff.name, text=text,
                              created_at=svc.clock()))
        audit.record(session, svc.clock(), AuditAction.NOTE, by=staff.id, via="web", applicant_id=applicant_id)


def open_alerts(now: datetime, applicant_id: int | None = None):
    """The query of alerts due by `now` that no person has resolved yet, newest first (an alert planned for later,
    such as "record the outcome" after an interview, waits until it is due)."""
    query = (select(Outbox).outerjoin(ResolvedAlert, ResolvedAlert.outbox_id == Outbox.id)
             .where(Outbox.channel == RECRUITER_CHANNEL, Outbox.status != OutboxStatus.CANCELLED, Outbox.due_at <= now,
                    ResolvedAlert.outbox_id.is_(None)))
    if applicant_id is not None:
        query = query.where(Outbox.applicant_id == applicant_id)
    return query.order_by(Outbox.id.desc())


def resolve(svc: Services, applicant_id: int, staff: Staff, alert_id: int | None = None) -> int:
    """Mark one alert of the applicant (or all of theirs) as dealt with; how many were."""
    with session_scope(svc.engine) as session:
        alerts = session.exec(open_alerts(svc.clock(), applicant_id)).all()
        done = [a for a in alerts if alert_id is None or a.id == alert_id]
        for row in done:
            session.add(ResolvedAlert(outbox_id=row.id, account_id=staff.id, resolved_at=svc.clock()))
            audit.record(session, svc.clock(), AuditAction.RESOLVE, by=staff.id, via="web",
                         applicant_id=applicant_id, detail=str(row.payload.get("reason", "")))
    return len(done)


def hand_back(svc: Services, applicant_id: int, staff: Staff) -> bool:
    """Give the conversation back to the bot (the recruiter page's Resume) and resolve its alerts; False: no such
    applicant."""
    if handle(svc, applicant_id, Resume()) is None:
        return False
    resolve(svc, applicant_id, staff)
    audit.log(svc, AuditAction.RESUME, by=staff.id, via="web", applicant_id=applicant_id)
    return True


def from_page(svc: Services, applicant_id: int, text: str) -> None:
    """What a candidate wrote on their own page: into the conversation as their message. Outside a hand-off it
    asks for a person (to the inbox, the recruiter alerted); inside one it only waits there, like any message
    while a person has the conversation."""
    text = _clean(text)
    with session_scope(svc.engine) as session:
        applicant = session.get(Applicant, applicant_id, with_for_update=True)
        if applicant is None:
            return
        if applicant.handoff_open or applicant.state == State.NEEDS_HUMAN:
            log_inbound(session, applicant.id, PAGE, text, svc.clock(), {"via": PAGE})
            applicant.last_inbound_at = svc.clock()
            answered(session, applicant.id)
            return
    handle(svc, applicant_id, AskedForPerson(), text=text, source=PAGE, payload={"via": PAGE})


def fields_for(session: Session, svc: Services, applicant: Applicant) -> dict[str, str]:
    """What the saved replies' fields say for this candidate (in their language)."""
    booking = session.exec(select(Booking).where(Booking.applicant_id == applicant.id,
                                                 Booking.status.in_(LIVE_BOOKING))
                           .order_by(Booking.id.desc())).first()
    loc = applicant.locale if applicant.locale in ("ja", "en") else "ja"
    company = svc.settings.company
    return {"name": applicant.name,
            "interview": format_slot(booking.start_at, svc.settings.tz, loc, booking.end_at) if booking else "",
            "company": company.name.get(loc) or company.name.ja, "phone": company.phone}


def saved_list(session: Session, svc: Services) -> list[tuple[str, str]]:
    """The saved replies: the admins' list once they saved one, else the settings' (or the built-in) ones."""
    rows = session.exec(select(SavedReply).order_by(SavedReply.position, SavedReply.id)).all()
    return [(r.title, r.body) for r in rows] if rows else list(svc.settings.saved_replies)


def save_list(svc: Services, staff: Staff, replies: list[tuple[str, str]]) -> None:
    """Replace the saved replies (checked by the caller with saved_replies.problem)."""
    with session_scope(svc.engine) as session:
        session.execute(delete(SavedReply))
        for position, (title, body) in enumerate(replies):
            session.add(SavedReply(position=position, title=title[:saved.MAX_TITLE], body=body[:saved.MAX_BODY],
                                   updated_at=svc.clock(), updated_by=staff.id))
        audit.record(session, svc.clock(), AuditAction.SAVED_REPLIES, by=staff.id, via="web",
                     detail=str(len(replies)))


def page_thread(session: Session, applicant_id: int, limit: int = 20) -> list[tuple[str, str, object]]:
    """What the candidate's own page shows of their exchange with people: what they wrote there and the people's
    replies (never the bot's messages, never notes), oldest first, as (who: you | staff, text, when)."""
    rows = session.exec(select(MessageLog).where(MessageLog.applicant_id == applicant_id)
                        .order_by(MessageLog.id.desc()).limit(200)).all()
    shown = []
    for m in rows:
        payload = m.payload or {}
        if m.direction == Direction.IN and payload.get("via") == PAGE:
            shown.append(("you", m.text, m.created_at))
        elif m.direction == Direction.OUT and payload.get("staff"):
            shown.append(("staff", m.text, m.created_at))
    return list(reversed(shown[:limit]))
