"""Delivery reports from providers, the fallback for a greeting that did not arrive, and carrier opt-outs."""
from __future__ import annotations

import logging

from sqlmodel import Session, select

from bot.core.events import CarrierOptOut
from bot.core.vocab import RECRUITER_CHANNEL, AlertReason, Direction, Kind, OptOutReason, OutboxStatus
from bot.db.engine import session_scope
from bot.db.models import Applicant, MessageLog, Outbox
from bot.service import optouts
from bot.service.deps import Services
from bot.service.outbox import alert, cancel_pending
from bot.service.turn import converse

log = logging.getLogger("sokuresu.delivery")
FALLBACK_KINDS = (Kind.GREETING,)  # the first message must reach the candidate; later ones are answers
NOT_DELIVERED = ("undelivered", "failed")
# Reports may arrive out of order (delivered before sent); a later stage never goes back to an earlier one.
RANK = {"accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4,
        "undelivered": 3, "failed": 3, "canceled": 3}
ERRORS = {"30003": "the handset is unreachable", "30004": "the message was blocked", "30005": "unknown number",
          "30006": "a landline or unreachable carrier", "30007": "filtered by the carrier",
          "30008": "unknown error at the carrier", "21610": "the candidate replied STOP"}


def record_status(svc: Services, provider_id: str, status: str, error_code: str | None = None,
                  row_id: int | None = None) -> bool:
    """Store one delivery report on its outbox row; False when no row has that provider id.

    `row_id` is the row the message was sent for, as the callback URL names it: a send whose answer never came
    back (a timeout, a worker killed before it wrote the answer) learns this way that it went out."""
    with session_scope(svc.engine) as session:
        query = select(Outbox).where(Outbox.provider_message_id == provider_id)
        row = session.exec(query.with_for_update()).first()
        if row is None and row_id is not None:
            row = _unanswered(session, svc, row_id, provider_id)
        if row is None:
            return False
        if RANK.get(status, 0) >= RANK.get(row.delivery_status or "", -1):
            row.delivery_status = status[:20]
        if error_code:
            row.last_error = f"Twilio error {error_code}: {ERRORS.get(error_code, 'see the Twilio error reference')}"
        if error_code == "21610" and row.applicant_id:
            opt_out(session, svc, row.applicant_id, "carrier reports an opt-out")
        elif status in NOT_DELIVERED and row.kind in FALLBACK_KINDS:
            fall_back(session, svc, row)
    svc.process.wake.set()  # the fallback goes out now, well within a minute
    return True


def _unanswered(session: Session, svc: Services, row_id: int, provider_id: str) -> Outbox | None:
    """The row a report names when its send heard no answer: it went out as `provider_id`."""
    row = session.get(Outbox, row_id, with_for_update=True)
    if row is None or row.provider_message_id is not None or row.status == OutboxStatus.SENT:
        return None  # a report of another message (a repeat) for a row already answered: not this row's
    if row.status == OutboxStatus.SENDING:
        row.provider_message_id = provider_id  # still in a worker's hands: it records the rest, or asks and finds this
    else:  # unknown (a timeout, a takeover), or given up on: it did go out
        settle(session, svc, row, provider_id)
    return row


def settle(session: Session, svc: Services, row: Outbox, provider_id: str) -> str:
    """Mark a row sent as `provider_id` without sending it (the provider says it went out); its new status."""
    now = svc.clock()
    row.status, row.provider_message_id, row.sent_at = OutboxStatus.SENT, provider_id, row.sent_at or now
    row.lease_owner, row.lease_until, row.last_error = None, None, None
    if row.applicant_id and row.channel != RECRUITER_CHANNEL:
        session.add(MessageLog(applicant_id=row.applicant_id, direction=Direction.OUT, channel=row.channel,
                               text=row.payload.get("text", ""), payload=row.payload, outbox_id=row.id,
                               created_at=now))
    log.info("outbox row %s went out as the provider says; not sent again", row.id)
    return row.status


def fall_back(session: Session, svc: Services, row: Outbox) -> Outbox | None:
    """Send the row's message once more on another channel; tell the recruiter either way."""
    applicant = session.get(Applicant, row.applicant_id) if row.applicant_id else None
    if applicant is None or applicant.opted_out or applicant.blocked:
        return None
    if session.exec(select(Outbox.id).where(Outbox.fallback_for == row.id)).first() is not None:
        return None  # Twilio repeats reports; one fallback per message
    channel = optouts.fallback(session, svc, applicant, row.channel)
    copy = None
    if channel is not None:
        failed = svc.channel_info.get(row.channel)
        drop = {"reply_to", *(failed.payload_keys if failed is not None else ())}  # the failed channel's own wording
        payload = {k: v for k, v in row.payload.items() if k not in drop}
        copy = Outbox(applicant_id=applicant.id, booking_id=row.booking_id, channel=channel, kind=row.kind,
                      payload=payload, due_at=svc.clock(), created_at=svc.clock(), fallback_for=row.id)
        session.add(copy)
    detail = f"{row.kind} via {row.channel}: {row.delivery_status}" + (f" → {channel}" if channel else "")
    alert(session, svc, applicant, AlertReason.UNDELIVERED, detail)
    log.info("outbox row %s not delivered (%s); fallback via %s", row.id, row.delivery_status, channel or "none")
    return copy


def opt_out(session: Session, svc: Services, applicant_id: int, why: str, channel: str = "sms") -> None:
    """Mark a candidate opted out because the provider says so, and hold everything still pending."""
    applicant = session.get(Applicant, applicant_id)
    if applicant is None:
        return
    # The address itself is refused (Twilio 21610): no application of this person may use it until they opt in.
    optouts.opt_out(session, channel, optouts.address_of(svc, applicant, channel), OptOutReason.CARRIER, svc.clock())
    if applicant.opted_out:
        return
    # Everything unsent is held with the provider's reason; the conversation then decides the state and alerts.
    cancel_pending(session, Outbox.kind != Kind.ALERT, applicant_id=applicant_id, why=why)
    converse(session, svc, applicant, CarrierOptOut(why), source=channel)


def address_refused(session: Session, svc: Services, row_id: int, reason: str, error: str) -> None:
    """The provider refused a row's address (bot.core.transport.Refused), recorded with the row: an address
    that opted out (Twilio 21610) opts the candidate out; one the channel cannot reach (21211 invalid, 21614
    a landline) sends a greeting once more on another channel."""
    row = session.get(Outbox, row_id)
    if row is None or row.applicant_id is None:
        return
    if reason == "opted_out":
        opt_out(session, svc, row.applicant_id, error[:200], channel=row.channel)
    elif row.kind in FALLBACK_KINDS:
        row.delivery_status = "failed"
        fall_back(session, svc, row)
