"""Claim due outbox rows and deliver them: leases, retries with backoff, each row sent once."""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlmodel import Session

from bot.core.transport import Outgoing, PermanentError, Refused
from bot.core.vocab import RECRUITER_CHANNEL, Direction, Kind, OutboxStatus
from bot.db.engine import session_scope
from bot.db.models import Applicant, MessageLog, Outbox
from bot.service.delivery_reports import address_refused
from bot.service.deps import Services
from bot.service.followups import hold
from bot.service.optouts import EXEMPT_KINDS, is_stopped, refusal, row_address
from bot.service.ratelimit import Limiter

log = logging.getLogger("sokuresu.outbox")
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
MAX_RATE_WAIT = 5.0  # seconds a claimed row may wait for its channel's token; longer, it goes back to the queue


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s ... capped at one hour, with jitter so retries do not arrive in lockstep."""
    return timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2))


def claim(svc: Services, owner: str, limit: int = 50) -> list[int]:
    """Take up to `limit` due rows (or rows whose lease expired) for this worker; return their ids."""
    now = svc.clock()
    due = or_(and_(Outbox.status == OutboxStatus.PENDING, Outbox.due_at <= now),
              and_(Outbox.status == OutboxStatus.SENDING, Outbox.lease_until < now))
    ids = select(Outbox.id).where(due).order_by(Outbox.due_at, Outbox.id).limit(limit)
    if svc.engine.dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    # One statement: on SQLite it runs under the write lock, on PostgreSQL rows locked by another
    # worker are skipped; either way no two workers get the same row.
    stmt = (update(Outbox).where(Outbox.id.in_(ids.scalar_subquery()))
            .values(status=OutboxStatus.SENDING, lease_owner=owner, lease_until=now + LEASE,
                    attempts=Outbox.attempts + 1)
            .returning(Outbox.id))
    with session_scope(svc.engine) as session:
        return sorted(session.execute(stmt, execution_options={"synchronize_session": False}).scalars())


def _address(svc: Services, applicant: Applicant | None) -> dict:
    """Every address of the applicant, by column, with the token of their pages and their name."""
    if applicant is None:
        return {}
    columns = {info.address_field: getattr(applicant, info.address_field) for info in svc.addressed()}
    return {"token": applicant.token, **columns, "name": applicant.name}


def release(svc: Services, ids: list[int], owner: str, due_at: datetime | None = None) -> int:
    """Hand claimed rows back unsent (shutdown, or a channel over its rate), as if never claimed."""
    if not ids:
        return 0
    values = {"status": OutboxStatus.PENDING, "lease_owner": None, "lease_until": None, "attempts": Outbox.attempts - 1}
    if due_at is not None:
        values["due_at"] = due_at
    stmt = (update(Outbox).where(Outbox.id.in_(ids), Outbox.lease_owner == owner, Outbox.status == OutboxStatus.SENDING)
            .values(**values))
    with session_scope(svc.engine) as session:
        return session.execute(stmt, execution_options={"synchronize_session": False}).rowcount


@dataclass(frozen=True)
class Prepared:
    """A claimed row made ready to send: what goes out, and on which attempt."""

    row_id: int
    message: Outgoing
    attempts: int


def prepare(session: Session, svc: Services, row: Outbox) -> Prepared | str:
    """Check a claimed row may go now; the message to send, or the row's new status (cancelled, held)."""
    applicant = session.get(Applicant, row.applicant_id) if row.applicant_id else None
    if (applicant is not None and (applicant.opted_out or applicant.blocked)
            and row.kind not in (Kind.STOPPED, Kind.ALERT)):
        row.status, row.last_error, row.lease_owner, row.lease_until = (
            OutboxStatus.CANCELLED, "candidate opted out or blocked us", None, None)
        return row.status
    if row.kind not in EXEMPT_KINDS and (out := is_stopped(session, row.channel,
                                                            row_address(svc, applicant, row.channel, row.payload))):
        # The address opted out (from this application or another one): nothing goes there, whoever wrote it.
        row.status, row.last_error, row.lease_owner, row.lease_until = (
            OutboxStatus.CANCELLED, refusal(out, row.channel), None, None)
        return row.status
    if (held := hold(session, svc, row, applicant)) is not None:  # a reminder or nudge gone stale, or quiet hours
        return held
    message = Outgoing(row.channel, _address(svc, applicant), row.payload, row.idempotency_key,
                       applicant.locale if applicant else "ja",
                       {"outbox_id": row.id, "kind": row.kind, "written_at": row.created_at})
    return Prepared(row.id, message, row.attempts)


def deliver(svc: Services, row_id: int, owner: str, limiter: Limiter | None = None) -> str:
    """Send one claimed row; return its new status."""
    with session_scope(svc.engine) as session:
        row = session.get(Outbox, row_id)
        if row is None or row.status != OutboxStatus.SENDING or row.lease_owner != owner:
            return "lost"  # cancelled, deleted, or taken over after our lease ran out
        ready = prepare(session, svc, row)
    return ready if isinstance(ready, str) else send(svc, ready, owner, limiter)


@dataclass(frozen=True)
class Outcome:
    ready: Prepared
    status: str  # sent | pending | failed
    error: str | None = None
    provider_id: str | None = None
    refused: str | None = None  # the provider refused the address itself (Refused.reason)
    retry_after: float | None = None  # seconds the provider asked us to wait (Retry-After on a 429)


def send(svc: Services, ready: Prepared, owner: str, limiter: Limiter | None = None) -> str:
    """Hand a prepared row to its adapter and record the outcome; return the row's new status."""
    return send_all(svc, [ready], owner, limiter)[0]


def send_all(svc: Services, prepared: list[Prepared], owner: str, limiter: Limiter | None = None) -> list[str]:
    """Send prepared rows one after another, then record every outcome in one transaction."""
    outcomes = [_transmit(svc, ready, owner, limiter) for ready in prepared]
    done = [o for o in outcomes if isinstance(o, Outcome)]
    recorded: dict[int, str] = {}
    if done:
        with session_scope(svc.engine) as session:
            recorded = _record(session, svc, done, owner)
    return [recorded[o.ready.row_id] if isinstance(o, Outcome) else o for o in outcomes]


def _transmit(svc: Services, ready: Prepared, owner: str, limiter: Limiter | None) -> Outcome | str:
    message, attempts = ready.message, ready.attempts
    channel = svc.channels.get(message.channel)
    if limiter is not None and channel is not None and (wait := limiter.reserve(message.channel)) > 0:
        if wait > MAX_RATE_WAIT:  # do not sit on a lease: let any worker pick it up when the channel has room
            limiter.refund(message.channel)
            release(svc, [ready.row_id], owner, svc.clock() + timedelta(seconds=wait))
            return OutboxStatus.PENDING
        time.sleep(wait)
    if channel is None:
        return Outcome(ready, OutboxStatus.FAILED, f"channel {message.channel!r} is not configured")
    try:
        return Outcome(ready, OutboxStatus.SENT, provider_id=channel.send(message))
    except Refused as exc:
        return Outcome(ready, OutboxStatus.FAILED, str(exc)[:500], refused=exc.reason)
    except PermanentError as exc:
        return Outcome(ready, OutboxStatus.FAILED, str(exc)[:500])
    except Exception as exc:  # network, 429, 5xx, timeouts: try again later
        if limiter is not None:
            limiter.penalise(message.channel, exc)  # a 429 slows the whole channel, not just this row
        status = OutboxStatus.FAILED if attempts >= MAX_ATTEMPTS else OutboxStatus.PENDING
        return Outcome(ready, status, f"{type(exc).__name__}: {exc}"[:500],
                       retry_after=getattr(exc, "retry_after", None))


def _record(session: Session, svc: Services, outcomes: list[Outcome], owner: str) -> dict[int, str]:
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
            statuses[row_id] = "lost"  # taken over after our lease ran out
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
        elif status == OutboxStatus.PENDING:
            wait = backoff(outcome.ready.attempts)  # and never sooner than the provider asked
            values["due_at"] = now + max(wait, timedelta(seconds=outcome.retry_after or 0))
        changes.append(values)
        kind = message.meta.get("kind")
        if status == OutboxStatus.PENDING:
            log.warning("outbox row %s (%s via %s) attempt %s failed, retrying: %s", row_id, kind, message.channel,
                        outcome.ready.attempts, outcome.error)
        elif status == OutboxStatus.FAILED:
            log.error("outbox row %s (%s via %s) failed: %s", row_id, kind, message.channel, outcome.error)
    if changes:  # the rows are locked above; Core statements, as no ORM object is needed here
        table = Outbox.__table__
        session.execute(update(table).where(table.c.id == bindparam("row_id")).values(
            status=bindparam("status"), last_error=bindparam("last_error"), lease_owner=None, lease_until=None,
            sent_at=func.coalesce(bindparam("sent_at", type_=table.c.sent_at.type), table.c.sent_at),
            provider_message_id=func.coalesce(bindparam("provider_message_id", type_=table.c.provider_message_id.type),
                                              table.c.provider_message_id),
            delivery_mode=func.coalesce(bindparam("delivery_mode", type_=table.c.delivery_mode.type),
                                        table.c.delivery_mode),
            due_at=func.coalesce(bindparam("due_at", type_=table.c.due_at.type), table.c.due_at)), changes)
    if said:
        session.execute(insert(MessageLog.__table__), said)
    for outcome in outcomes:
        if outcome.refused and outcome.ready.row_id in held:
            address_refused(session, svc, outcome.ready.row_id, outcome.refused, outcome.error or "")
    return statuses


def run_once(svc: Services, owner: str, limit: int = 50, limiter: Limiter | None = None,
             stop: threading.Event | None = None) -> int:
    """Claim and deliver one batch; return how many rows were handled."""
    ids = claim(svc, owner, limit)
    for n, row_id in enumerate(ids):
        if stop is not None and stop.is_set():  # SIGTERM: hand the rest back now rather than at lease expiry
            release(svc, ids[n:], owner)
            break
        deliver(svc, row_id, owner, limiter)
    return len(ids)

