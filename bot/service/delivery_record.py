"""What a send came to, and how it is written down: sent, retried later, unknown, or failed."""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import Session

from bot.core.transport import Outgoing
from bot.core.vocab import RECRUITER_CHANNEL, Direction, OutboxStatus
from bot.db.engine import one_or_many
from bot.db.models import MessageLog, Outbox
from bot.service.delivery_reports import address_refused
from bot.service.deps import Services

log = logging.getLogger("sokuresu.outbox")
MAX_ATTEMPTS = 8
# How long an unknown outcome rests before the provider is asked about it: a hung request may still be carried
# out on the provider's side, and its status callback may still arrive.
UNSURE_WAIT = timedelta(seconds=30)
LOST = "lost"  # a row this worker no longer holds (taken over after its lease ran out, or cancelled)


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s ... capped at one hour, with jitter so retries do not arrive in lockstep."""
    return timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2))


@dataclass(frozen=True)
class Prepared:
    """A claimed row made ready to send: what goes out, on which attempt, and whether it may have gone already."""

    row_id: int
    message: Outgoing
    attempts: int
    recipient: str | int | None = None  # whose messages go in order: their address, else the applicant's id
    unsure: bool = False  # the last send may have gone out: ask the provider first where it can tell


@dataclass(frozen=True)
class Outcome:
    ready: Prepared
    status: str  # sent | pending | unknown | failed
    error: str | None = None
    provider_id: str | None = None
    refused: str | None = None  # the provider refused the address itself (Refused.reason)
    retry_after: float | None = None  # seconds the provider asked us to wait (Retry-After on a 429)


def retry(ready: Prepared, status: str, exc: Exception) -> Outcome:
    """Try again later (pending, or unknown when it may have gone out), unless that was the last attempt."""
    status = OutboxStatus.FAILED if ready.attempts >= MAX_ATTEMPTS else status
    return Outcome(ready, status, f"{type(exc).__name__}: {exc}"[:500], retry_after=getattr(exc, "retry_after", None))


def record(session: Session, svc: Services, outcomes: list[Outcome], owner: str) -> dict[int, str]:
    """Write what happened to each sent row, in three statements whatever their number; row id -> status."""
    now = svc.clock()
    ids = sorted(o.ready.row_id for o in outcomes)
    held = dict(session.execute(select(Outbox.id, Outbox.applicant_id)
                                .where(Outbox.id.in_(ids), Outbox.lease_owner == owner)
                                .order_by(Outbox.id).with_for_update()).all())
    statuses, changes, said = {}, [], []
    for outcome in outcomes:
        message, row_id, status = outcome.ready.message, outcome.ready.row_id, outcome.status
        if row_id not in held:
            statuses[row_id] = LOST  # taken over after our lease ran out
            continue
        statuses[row_id] = status
        # Every row's values have the same keys: one executemany for all of them.
        values = {"row_id": row_id, "status": status, "last_error": outcome.error, "sent_at": None,
                  "provider_message_id": None, "delivery_mode": None, "due_at": None}
        if status == OutboxStatus.SENT:
            mode = (outcome.provider_id or "").partition(":")[0]
            # LINE says how it went out; pushes count against the plan.
            values.update(sent_at=now, provider_message_id=outcome.provider_id,
                          delivery_mode=mode if mode in ("reply", "push") else None)
            if held[row_id] and message.channel != RECRUITER_CHANNEL:
                said.append({"applicant_id": held[row_id], "direction": Direction.OUT, "channel": message.channel,
                             "text": message.payload.get("text", ""), "payload": message.payload,
                             "outbox_id": row_id, "created_at": now})
        elif status in (OutboxStatus.PENDING, OutboxStatus.UNKNOWN):
            wait = backoff(outcome.ready.attempts)  # and never sooner than the provider asked
            if status == OutboxStatus.UNKNOWN:
                wait = max(wait, UNSURE_WAIT)
            values["due_at"] = now + max(wait, timedelta(seconds=outcome.retry_after or 0))
        changes.append(values)
        _log(outcome, status)
    if changes:  # the rows are locked above; Core statements, as no ORM object is needed here
        table = Outbox.__table__
        session.execute(update(table).where(table.c.id == bindparam("row_id")).values(
            status=bindparam("status"), last_error=bindparam("last_error"), lease_owner=None, lease_until=None,
            sent_at=func.coalesce(bindparam("sent_at", type_=table.c.sent_at.type), table.c.sent_at),
            provider_message_id=func.coalesce(bindparam("provider_message_id", type_=table.c.provider_message_id.type),
                                              table.c.provider_message_id),
            delivery_mode=func.coalesce(bindparam("delivery_mode", type_=table.c.delivery_mode.type),
                                        table.c.delivery_mode),
            due_at=func.coalesce(bindparam("due_at", type_=table.c.due_at.type), table.c.due_at)), one_or_many(changes))
    if said:
        session.execute(insert(MessageLog.__table__), one_or_many(said))
    for outcome in outcomes:
        if outcome.refused and outcome.ready.row_id in held:
            address_refused(session, svc, outcome.ready.row_id, outcome.refused, outcome.error or "")
    return statuses


def _log(outcome: Outcome, status: str) -> None:
    row_id, message, attempt = outcome.ready.row_id, outcome.ready.message, outcome.ready.attempts
    kind = message.meta.get("kind")
    if status == OutboxStatus.PENDING:
        log.warning("outbox row %s (%s via %s) attempt %s failed, retrying: %s", row_id, kind, message.channel,
                    attempt, outcome.error)
    elif status == OutboxStatus.UNKNOWN:
        log.warning("outbox row %s (%s via %s) attempt %s may have gone out (%s); the provider is asked before "
                    "it is sent again", row_id, kind, message.channel, attempt, outcome.error)
    elif status == OutboxStatus.FAILED:
        log.error("outbox row %s (%s via %s) failed: %s", row_id, kind, message.channel, outcome.error)
