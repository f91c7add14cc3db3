"""Claim due outbox rows and deliver them: leases, retries with backoff, each row sent once."""
from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from bot.bootstrap import Services
from bot.channels import Outgoing, PermanentError
from bot.db import session_scope
from bot.models import Applicant, MessageLog, Outbox
from bot.nudges import hold
from bot.ratelimit import Limiter

log = logging.getLogger("sokuresu.outbox")
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
INBOX = "line-inbox"  # rows that carry a LINE webhook event to its turn (bot.line_inbound)
MAX_RATE_WAIT = 5.0  # seconds a claimed row may wait for its channel's token; longer, it goes back to the queue


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s ... capped at one hour, with jitter so retries do not arrive in lockstep."""
    return timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2))


def claim(svc: Services, owner: str, limit: int = 50) -> list[int]:
    """Take up to `limit` due rows (or rows whose lease expired) for this worker; return their ids."""
    now = svc.clock()
    due = or_(and_(Outbox.status == "pending", Outbox.due_at <= now),
              and_(Outbox.status == "sending", Outbox.lease_until < now))
    ids = select(Outbox.id).where(due).order_by(Outbox.due_at, Outbox.id).limit(limit)
    if svc.engine.dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    # One statement: on SQLite it runs under the write lock, on PostgreSQL rows locked by another
    # worker are skipped; either way no two workers get the same row.
    stmt = (update(Outbox).where(Outbox.id.in_(ids.scalar_subquery()))
            .values(status="sending", lease_owner=owner, lease_until=now + LEASE, attempts=Outbox.attempts + 1)
            .returning(Outbox.id))
    with session_scope(svc.engine) as session:
        return sorted(session.execute(stmt, execution_options={"synchronize_session": False}).scalars())


def _address(applicant: Applicant | None) -> dict:
    if applicant is None:
        return {}
    return {"token": applicant.token, "line_user_id": applicant.line_user_id, "phone": applicant.phone,
            "email": applicant.email, "name": applicant.name}


def release(svc: Services, ids: list[int], owner: str, due_at: datetime | None = None) -> int:
    """Hand claimed rows back unsent (shutdown, or a channel over its rate), as if never claimed."""
    if not ids:
        return 0
    values = {"status": "pending", "lease_owner": None, "lease_until": None, "attempts": Outbox.attempts - 1}
    if due_at is not None:
        values["due_at"] = due_at
    stmt = (update(Outbox).where(Outbox.id.in_(ids), Outbox.lease_owner == owner, Outbox.status == "sending")
            .values(**values))
    with session_scope(svc.engine) as session:
        return session.execute(stmt, execution_options={"synchronize_session": False}).rowcount


def retry_later(svc: Services, row_id: int, owner: str, error: str) -> str:
    """A claimed row failed for a reason that may pass: back to the queue after a backoff (or failed for good)."""
    with session_scope(svc.engine) as session:
        row = session.get(Outbox, row_id)
        if row is None or row.status != "sending" or row.lease_owner != owner:
            return "lost"
        row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
        row.last_error, row.lease_owner, row.lease_until = error[:500], None, None
        row.due_at = svc.clock() + backoff(row.attempts)
        return row.status


def deliver(svc: Services, row_id: int, owner: str, limiter: Limiter | None = None) -> str:
    """Send one claimed row; return its new status."""
    with session_scope(svc.engine) as session:
        row = session.get(Outbox, row_id)
        if row is None or row.status != "sending" or row.lease_owner != owner:
            return "lost"  # cancelled, deleted, or taken over after our lease ran out
        inbound = row.channel == INBOX
    if inbound:  # a LINE webhook event waiting for its turn, not a message to send
        from bot.line_inbound import run_row

        if (status := run_row(svc, row_id, owner, limiter)) == "waiting":  # the user's earlier event is in hand
            release(svc, [row_id], owner, svc.clock() + timedelta(seconds=1))
            return "pending"
        return status
    with session_scope(svc.engine) as session:
        row = session.get(Outbox, row_id)
        if row is None or row.status != "sending" or row.lease_owner != owner:
            return "lost"
        applicant = session.get(Applicant, row.applicant_id) if row.applicant_id else None
        if applicant is not None and (applicant.opted_out or applicant.blocked) and row.kind not in ("stopped", "alert"):
            row.status, row.last_error = "cancelled", "candidate opted out or blocked us"
            return row.status
        if (held := hold(session, svc, row, applicant)) is not None:  # a reminder or nudge gone stale, or quiet hours
            return held
        message = Outgoing(row.channel, _address(applicant), row.payload, row.idempotency_key,
                           applicant.locale if applicant else "ja", {"outbox_id": row.id, "kind": row.kind})
        channel = svc.channels.get(row.channel)
        attempts = row.attempts
    if limiter is not None and channel is not None and (wait := limiter.reserve(message.channel)) > 0:
        if wait > MAX_RATE_WAIT:  # do not sit on a lease: let any worker pick it up when the channel has room
            limiter.refund(message.channel)
            release(svc, [row_id], owner, svc.clock() + timedelta(seconds=wait))
            return "pending"
        time.sleep(wait)
    now = svc.clock()
    status, error, provider_id = "sent", None, None
    if channel is None:
        status, error = "failed", f"channel {row.channel!r} is not configured"
    else:
        try:
            provider_id = channel.send(message)
        except PermanentError as exc:
            status, error = "failed", str(exc)[:500]
        except Exception as exc:  # network, 429, 5xx, timeouts: try again later
            error = f"{type(exc).__name__}: {exc}"[:500]
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            if limiter is not None:
                limiter.penalise(message.channel, exc)  # a 429 slows the whole channel, not just this row
    with session_scope(svc.engine) as session:
        row = session.get(Outbox, row_id)
        if row is None or row.lease_owner != owner:
            return "lost"
        row.status, row.last_error, row.lease_owner, row.lease_until = status, error, None, None
        if status == "sent":
            row.sent_at, row.provider_message_id = now, provider_id
            mode = (provider_id or "").partition(":")[0]
            if mode in ("reply", "push"):  # LINE says how it went out; pushes count against the plan
                row.delivery_mode = mode
            if row.applicant_id and row.channel != "recruiter":
                session.add(MessageLog(applicant_id=row.applicant_id, direction="out", channel=row.channel,
                                       text=row.payload.get("text", ""), payload=row.payload, outbox_id=row.id))
        elif status == "pending":
            row.due_at = now + backoff(attempts)
            log.warning("outbox row %s (%s via %s) attempt %s failed, retrying: %s",
                        row.id, row.kind, row.channel, attempts, error)
        else:
            log.error("outbox row %s (%s via %s) failed: %s", row.id, row.kind, row.channel, error)
    return status


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

