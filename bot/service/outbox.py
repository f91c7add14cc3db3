"""Write to the outbox (messages, recruiter alerts) and take back rows not sent yet, the same for every reason."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import Session, update

from bot.core.vocab import RECRUITER_CHANNEL, AlertReason, Kind, OutboxStatus
from bot.db.models import Applicant, Outbox, build
from bot.service.deps import Services


def cancel_pending(session: Session, *where, applicant_id: int | None = None, booking_id: int | None = None,
                   why: str | None = None) -> int:
    """Cancel a booking's pending rows (booking_id), else a candidate's, narrowed by `where`; `why` is recorded."""
    query = update(Outbox).where(Outbox.status == OutboxStatus.PENDING, *where)
    query = (query.where(Outbox.booking_id == booking_id) if booking_id
             else query.where(Outbox.applicant_id == applicant_id))
    # Without a reason, a retried row keeps the error of its last attempt, as before.
    values = {"status": OutboxStatus.CANCELLED} | ({} if why is None else {"last_error": why})
    return session.execute(query.values(**values)).rowcount


def delivery_channel(svc: Services, applicant: Applicant) -> str:
    """The candidate's own channel when it has a transport, else the stand-in chat (the sandbox)."""
    return applicant.channel if svc.enabled(applicant.channel) else svc.stand_in


def enqueue(session: Session, svc: Services, applicant: Applicant | None, payload: dict, *, channel: str,
            booking_id: int | None = None, due_at: datetime | None = None) -> Outbox:
    """Write one outbound message to the outbox (the worker sends it)."""
    now = svc.clock()
    # Built without the model's per-field hooks (bot.db.models.build); the key given here rather than by the
    # model's default_factory, which pydantic calls through an inspection of its signature.
    row = build(Outbox, applicant_id=applicant.id if applicant else None, booking_id=booking_id, channel=channel,
                kind=payload.get("kind", "message"), payload=payload, due_at=due_at or now, created_at=now,
                idempotency_key=secrets.token_hex(16))
    session.add(row)
    session.info.setdefault("enqueued", []).append(row)  # a caller may send these at once after commit
    if (prepare := svc.preparers.get(channel)) is not None:
        prepare(session, svc, applicant, row)  # the channel fixes its wording, cards and links in this transaction
    return row


def alert(session: Session, svc: Services, applicant: Applicant | None, reason: AlertReason,
          detail: str = "") -> Outbox:
    """Tell the recruiter that a person is needed for this candidate, and why (the text is the reason's)."""
    return enqueue(session, svc, applicant, {"kind": Kind.ALERT, "reason": reason, "detail": detail, "text": reason},
                   channel=RECRUITER_CHANNEL)
