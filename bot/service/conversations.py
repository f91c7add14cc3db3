"""What the inbox reads: the conversations that need a person (and since when), the recent ones, one
conversation's thread (messages, notes, replies still going out), and a change stamp the page polls."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, select

from bot.core.conversation import State
from bot.core.vocab import OUTBOX_WAITING, RECRUITER_CHANNEL, AuditAction, Direction, OutboxStatus
from bot.db.accounts import AuditEntry
from bot.db.models import Applicant, Booking, MessageLog, Outbox, ShortLink
from bot.db.workspace import InboxNote, ResolvedAlert
from bot.service.replies import open_alerts

RECENT = 40  # conversations shown below the waiting ones
RANK = {"in": 0, "alert": 1, "note": 3}


@dataclass
class Entry:
    """One conversation in the list."""

    applicant: Applicant
    waiting_since: datetime | None = None  # needs a person since then (None: does not)
    reasons: list[str] = field(default_factory=list)  # the open alerts' reasons, oldest first
    last_text: str = ""  # the candidate's latest words
    last_at: datetime | None = None
    answered: bool = False  # a person wrote after the candidate's latest message


@dataclass
class Item:
    """One line of a conversation: the candidate's or the bot's message, a person's reply, a note, an alert."""

    at: datetime
    kind: str  # in | bot | staff | note | alert
    text: str
    who: str = ""  # the person's name for staff and note
    channel: str = ""
    status: str = ""  # a reply still going out: its outbox status; an alert: its reason
    via: str = ""  # the candidate's own page, for what they wrote there
    id: int | None = None


def _visible(query, column, mine):
    return query if mine is None else query.where(column.in_(mine))


def inbox(session: Session, now: datetime, mine=None, limit: int = RECENT) -> tuple[list[Entry], list[Entry]]:
    """(Waiting, longest first; recent others, newest first); `mine` limits to an interviewer's candidates."""
    alerts = session.exec(_visible(open_alerts(now), Outbox.applicant_id, mine).limit(500)).all()
    handed = session.exec(_visible(select(Applicant).where(or_(Applicant.handoff_open.is_(True),
                                                                Applicant.state == State.NEEDS_HUMAN)),
                                   Applicant.id, mine).limit(500)).all()
    waiting: dict[int, Entry] = {a.id: Entry(a, a.last_inbound_at or a.updated_at) for a in handed}
    missing = {r.applicant_id for r in alerts if r.applicant_id and r.applicant_id not in waiting}
    for a in session.exec(select(Applicant).where(Applicant.id.in_(missing))).all() if missing else ():
        waiting[a.id] = Entry(a)
    for row in sorted(alerts, key=lambda r: r.id):
        entry = waiting.get(row.applicant_id)
        if entry is None:
            continue
        entry.reasons.append(str(row.payload.get("reason", "")))
        if entry.waiting_since is None or row.created_at < entry.waiting_since:
            entry.waiting_since = row.created_at
    last = func.max(MessageLog.id)
    newest = session.exec(_visible(select(MessageLog.applicant_id, last).group_by(MessageLog.applicant_id),
                                   MessageLog.applicant_id, mine).order_by(last.desc()).limit(limit)).all()
    recent_ids = [i for i, _ in newest if i not in waiting]
    recent = {a.id: Entry(a) for a in session.exec(select(Applicant).where(Applicant.id.in_(recent_ids))).all()}
    _fill(session, list(waiting.values()) + list(recent.values()))
    ordered = sorted(waiting.values(), key=lambda e: e.waiting_since or e.applicant.created_at)
    return ordered, [recent[i] for i in recent_ids if i in recent]


def _fill(session: Session, entries: list[Entry]) -> None:
    """The latest words of each candidate, and whether a person wrote since."""
    ids = [e.applicant.id for e in entries]
    if not ids:
        return
    latest_in = dict(session.exec(select(MessageLog.applicant_id, func.max(MessageLog.id))
                                  .where(MessageLog.applicant_id.in_(ids), MessageLog.direction == Direction.IN)
                                  .group_by(MessageLog.applicant_id)).all())
    rows = {m.id: m for m in session.exec(select(MessageLog).where(MessageLog.id.in_(latest_in.values()))).all()}
    replied = dict(session.exec(select(AuditEntry.applicant_id, func.max(AuditEntry.at))
                                .where(AuditEntry.applicant_id.in_(ids), AuditEntry.action == AuditAction.REPLY)
                                .group_by(AuditEntry.applicant_id)).all())
    for e in entries:
        m = rows.get(latest_in.get(e.applicant.id))
        if m is not None:
            e.last_text, e.last_at = m.text, m.created_at
        e.answered = bool(replied.get(e.applicant.id) and e.last_at and replied[e.applicant.id] > e.last_at)


def thread(session: Session, applicant_id: int) -> list[Item]:
    """The conversation, oldest first: messages as they went, notes, alerts, and replies not sent yet."""
    items = []
    for m in session.exec(select(MessageLog).where(MessageLog.applicant_id == applicant_id)
                          .order_by(MessageLog.id)).all():
        staff = (m.payload or {}).get("staff") if m.direction == Direction.OUT else None
        kind = "in" if m.direction == Direction.IN else "staff" if staff else "bot"
        items.append(Item(m.created_at, kind, m.text, (staff or {}).get("name", ""), m.channel,
                          via=str((m.payload or {}).get("via", "")), id=m.id))
    logged = {m.outbox_id for m in session.exec(select(MessageLog).where(MessageLog.applicant_id == applicant_id,
                                                                         MessageLog.outbox_id.is_not(None)))}
    for row in session.exec(select(Outbox).where(Outbox.applicant_id == applicant_id)).all():
        if row.channel == RECRUITER_CHANNEL:
            items.append(Item(row.created_at, "alert", str(row.payload.get("detail") or ""),
                              status=str(row.payload.get("reason", "")), id=row.id))
        elif ((row.payload or {}).get("staff") and row.id not in logged
              and row.status in (*OUTBOX_WAITING, OutboxStatus.FAILED)):
            items.append(Item(row.created_at, "staff", str(row.payload.get("text", "")),
                              row.payload["staff"].get("name", ""), row.channel, status=row.status, id=row.id))
    for n in session.exec(select(InboxNote).where(InboxNote.applicant_id == applicant_id)).all():
        items.append(Item(n.created_at, "note", n.text, n.author, id=n.id))
    # At one instant: what the candidate said, the alert it raised, the answers, then notes about it.
    return sorted(items, key=lambda i: (i.at, RANK.get(i.kind, 2), i.id or 0))


def resolved_ids(session: Session, applicant_id: int) -> set[int]:
    rows = session.exec(select(ResolvedAlert.outbox_id).join(Outbox, Outbox.id == ResolvedAlert.outbox_id)
                        .where(Outbox.applicant_id == applicant_id)).all()
    return set(rows)


def stamp(session: Session, applicant_id: int | None = None) -> str:
    """A short fingerprint of what the inbox shows: it changes when a message, note, alert or resolution comes,
    a hand-off opens or closes, or a reply goes out. The page polls it and redraws only when it changed."""
    parts = [session.exec(select(func.max(MessageLog.id))).one(), session.exec(select(func.max(InboxNote.id))).one(),
             session.exec(select(func.max(Outbox.id)).where(Outbox.channel == RECRUITER_CHANNEL)).one(),
             session.exec(select(func.count()).select_from(ResolvedAlert)).one(),
             session.exec(select(func.count()).select_from(Applicant).where(Applicant.handoff_open.is_(True))).one()]
    if applicant_id is not None:
        parts += session.exec(select(func.max(Outbox.id), func.count(Outbox.sent_at))
                              .where(Outbox.applicant_id == applicant_id)).one()
        parts.append(session.exec(select(Applicant.state).where(Applicant.id == applicant_id)).first())
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def panel(session: Session, applicant: Applicant):
    """Beside the conversation: the person's applications, bookings, the links they opened, delivery reports."""
    person = applicant.person_id or applicant.id
    others = session.exec(select(Applicant).where(or_(Applicant.person_id == person, Applicant.id == person))
                          .order_by(Applicant.id)).all()
    bookings = session.exec(select(Booking).where(Booking.applicant_id == applicant.id)
                            .order_by(Booking.id.desc())).all()
    opened = session.exec(select(ShortLink).where(ShortLink.applicant_id == applicant.id, ShortLink.opens > 0)
                          .order_by(ShortLink.first_opened_at)).all()
    reports = session.exec(select(Outbox).where(Outbox.applicant_id == applicant.id,
                                                Outbox.channel != RECRUITER_CHANNEL,
                                                or_(Outbox.delivery_status.is_not(None),
                                                    Outbox.status.in_((OutboxStatus.FAILED, OutboxStatus.UNKNOWN)),
                                                    Outbox.fallback_for.is_not(None)))
                           .order_by(Outbox.id.desc()).limit(20)).all()
    return others, bookings, opened, reports
