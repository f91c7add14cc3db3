"""Claim due outbox rows and deliver them: leases, retries with backoff, each row sent once.

A row whose send may have gone out without our hearing back (a provider that timed out, a worker killed
before it recorded the answer) is `unknown`: before it is sent again, the provider's status callback or the
channel's `find` is asked whether it already went (docs/security.md, "The at-least-once window").
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, or_, select, update
from sqlmodel import Session

from bot.core.transport import Outgoing, PermanentError, Refused, Unconfirmed
from bot.core.vocab import RECRUITER_CHANNEL, Kind, OutboxStatus
from bot.db.engine import session_scope
from bot.db.models import Applicant, Outbox
from bot.service import notify, optouts
from bot.service.delivery_record import LOST, Outcome, Prepared, record, retry
from bot.service.delivery_reports import settle
from bot.service.deps import Services
from bot.service.followups import hold
from bot.service.lanes import lanes
from bot.service.optouts import EXEMPT_KINDS, is_stopped, refusal, row_address
from bot.service.ratelimit import Limiter

log = logging.getLogger("sokuresu.outbox")
LEASE = timedelta(seconds=60)  # renewed before each send once half of it has gone, so it always outlasts one send
MAX_RATE_WAIT = 5.0  # seconds a claimed row may wait for its channel's token; longer, it goes back to the queue
HELD = (OutboxStatus.SENDING, OutboxStatus.UNKNOWN)  # statuses a lease holder may send


@dataclass(frozen=True)
class Claimed:
    """A row this worker leased: which channel sends it, and whose it is (one candidate's rows go in order)."""

    row_id: int
    channel: str
    applicant_id: int | None


def claim_rows(svc: Services, owner: str, limit: int = 50, skip_channels=(), skip_applicants=(),
               skip_unowned: bool = False) -> list[Claimed]:
    """Lease up to `limit` due rows for this worker, oldest first; leave out busy channels and candidates (and
    rows of no candidate, `skip_unowned`, while one of those is in hand)."""
    now = svc.clock()
    # A row left `sending` by a worker whose lease ran out may have gone out: it is taken as `unknown`.
    due = or_(and_(Outbox.status == OutboxStatus.PENDING, Outbox.due_at <= now),
              and_(Outbox.status == OutboxStatus.UNKNOWN, Outbox.due_at <= now,
                   or_(Outbox.lease_until.is_(None), Outbox.lease_until < now)),
              and_(Outbox.status == OutboxStatus.SENDING, Outbox.lease_until < now))
    ids = select(Outbox.id).where(due).order_by(Outbox.due_at, Outbox.id).limit(limit)
    if skip_channels:
        ids = ids.where(Outbox.channel.not_in(sorted(skip_channels)))
    if skip_applicants:
        ids = ids.where(or_(Outbox.applicant_id.is_(None), Outbox.applicant_id.not_in(sorted(skip_applicants))))
    if skip_unowned:
        ids = ids.where(Outbox.applicant_id.is_not(None))
    if svc.engine.dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    # One statement: on SQLite it runs under the write lock, on PostgreSQL rows locked by another
    # worker are skipped; either way no two workers get the same row.
    stmt = (update(Outbox).where(Outbox.id.in_(ids.scalar_subquery()))
            .values(status=case((Outbox.status == OutboxStatus.PENDING, OutboxStatus.SENDING),
                                else_=OutboxStatus.UNKNOWN),
                    lease_owner=owner, lease_until=now + LEASE, attempts=Outbox.attempts + 1)
            .returning(Outbox.id, Outbox.channel, Outbox.applicant_id))
    with session_scope(svc.engine) as session:
        rows = session.execute(stmt, execution_options={"synchronize_session": False}).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.row_id)


def claim(svc: Services, owner: str, limit: int = 50) -> list[int]:
    """Take up to `limit` due rows (or rows whose lease expired) for this worker; return their ids."""
    return [c.row_id for c in claim_rows(svc, owner, limit)]


def _address(svc: Services, applicant: Applicant | None) -> dict:
    """Every address of the applicant, by column, with the token of their pages and their name."""
    if applicant is None:
        return {}
    columns = {info.address_field: getattr(applicant, info.address_field) for info in svc.addressed()}
    return {"token": applicant.token, **columns, "name": applicant.name}


def release(svc: Services, ids: list[int], owner: str, due_at: datetime | None = None) -> int:
    """Hand claimed rows back unsent (shutdown, or a channel over its rate), as if never claimed; a row whose
    last send may have gone out stays `unknown`."""
    if not ids:
        return 0
    values = {"status": case((Outbox.status == OutboxStatus.UNKNOWN, OutboxStatus.UNKNOWN),
                             else_=OutboxStatus.PENDING),
              "lease_owner": None, "lease_until": None, "attempts": Outbox.attempts - 1}
    if due_at is not None:
        values["due_at"] = due_at
    stmt = (update(Outbox).where(Outbox.id.in_(ids), Outbox.lease_owner == owner, Outbox.status.in_(HELD))
            .values(**values))
    with session_scope(svc.engine) as session:
        return session.execute(stmt, execution_options={"synchronize_session": False}).rowcount


def lease_to_self(svc: Services, written: list[Outbox], owner: str) -> list[Outbox]:
    """Lease to `owner` the rows of this transaction it may send as soon as it commits (pending, due now, on a
    configured channel), so that no worker claims them meanwhile; those rows. Its lease is the only claim: if the
    process dies before it sends them, a worker takes them over when the lease runs out, as unsure (`unknown`)."""
    now, leased = svc.clock(), []
    for row in written:
        if row.status == OutboxStatus.PENDING and row.lease_owner is None and row.due_at <= now \
                and row.channel in svc.channels:
            row.status, row.lease_owner, row.lease_until, row.attempts = OutboxStatus.SENDING, owner, now + LEASE, 1
            leased.append(row)
    return leased


def prepare(session: Session, svc: Services, row: Outbox) -> Prepared | str:
    """Check a claimed row may go now; the message to send, or the row's new status (cancelled, held)."""
    applicant = session.get(Applicant, row.applicant_id) if row.applicant_id else None
    if (applicant is not None and (applicant.opted_out or applicant.blocked)
            and row.kind not in (Kind.STOPPED, Kind.ALERT)):
        row.status, row.last_error, row.lease_owner, row.lease_until = (
            OutboxStatus.CANCELLED, "candidate opted out or blocked us", None, None)
        return row.status
    to = row_address(svc, applicant, row.channel, row.payload)
    if row.kind not in EXEMPT_KINDS and (out := is_stopped(session, row.channel, to)):
        # The address opted out (from this application or another one): nothing goes there, whoever wrote it.
        row.status, row.last_error, row.lease_owner, row.lease_until = (
            OutboxStatus.CANCELLED, refusal(out, row.channel), None, None)
        return row.status
    unsure = row.status == OutboxStatus.UNKNOWN
    if (held := hold(session, svc, row, applicant)) is not None:  # a reminder or nudge gone stale, or quiet hours
        if unsure and held == OutboxStatus.PENDING:
            row.status = held = OutboxStatus.UNKNOWN  # held for the morning, and still asked about before it goes
        return held
    if row.channel == RECRUITER_CHANNEL:
        notify.fan_out(session, svc, row, applicant)  # its mails and chat message, written as the alert goes out
    message = Outgoing(row.channel, _address(svc, applicant), row.payload, row.idempotency_key,
                       applicant.locale if applicant else "ja",
                       {"outbox_id": row.id, "kind": row.kind, "written_at": row.created_at})
    return Prepared(row.id, message, row.attempts, to or row.applicant_id, unsure)


def _locked(session: Session, row_ids: list[int]) -> list[tuple[Outbox, Applicant | None]]:
    """Claimed rows, locked (only they are), with their candidates, in one statement. The caller keeps the result
    referenced: the session holds loaded rows weakly, and prepare() then finds the candidate there."""
    return session.execute(select(Outbox, Applicant).outerjoin(Applicant, Applicant.id == Outbox.applicant_id)
                           .where(Outbox.id.in_(row_ids)).order_by(Outbox.id).with_for_update(of=Outbox)).all()


def _still_held(svc: Services, row: Outbox, owner: str) -> bool:
    """Whether this worker still holds the row (not cancelled, nor taken over after its lease ran out); its lease
    renewed once half of it has gone (a row that waited for a thread), so the send about to start ends inside it."""
    if row.status not in HELD or row.lease_owner != owner:
        return False
    now = svc.clock()
    if row.lease_until is None or row.lease_until - now < LEASE / 2:
        row.lease_until = now + LEASE
    return True


def deliver(svc: Services, row_id: int, owner: str, limiter: Limiter | None = None) -> str:
    """Send one claimed row; return its new status."""
    with session_scope(svc.engine) as session:
        found = _locked(session, [row_id])
        if not found or not _still_held(svc, row := found[0][0], owner):
            return LOST
        if row.status == OutboxStatus.UNKNOWN and row.provider_message_id:
            return settle(session, svc, row, row.provider_message_id)  # its status callback said it went out
        ready = prepare(session, svc, row)
    return ready if isinstance(ready, str) else send(svc, ready, owner, limiter)


def prepare_claimed(svc: Services, row_ids: list[int], owner: str) -> list[Prepared]:
    """Make a claimed batch ready to send in one transaction: the rows (locked) and their candidates in one
    statement, every address's opt-out in one more; rows no longer held are left out, rows cancelled or held
    back get their new status, unsure rows the provider's callback already confirmed are settled."""
    with session_scope(svc.engine) as session:
        found = _locked(session, row_ids)
        optouts.look_up(session, [(row.channel, row_address(svc, applicant, row.channel, row.payload))
                                  for row, applicant in found if row.kind not in EXEMPT_KINDS])
        ready = []
        for row, _applicant in found:
            if not _still_held(svc, row, owner):
                continue
            if row.status == OutboxStatus.UNKNOWN and row.provider_message_id:
                settle(session, svc, row, row.provider_message_id)  # its status callback said it went out
                continue
            if isinstance(prepared := prepare(session, svc, row), Prepared):
                ready.append(prepared)
    return ready


def deliver_batch(svc: Services, row_ids: list[int], owner: str, limiter: Limiter | None = None,
                  stop: threading.Event | None = None) -> None:
    """Deliver a claimed batch the way the inbox runner sends its answers: one transaction prepares every row,
    each candidate's rows go in order on their lane and candidates side by side, one transaction records them
    all (four statements a batch instead of five a row)."""
    send_all(svc, prepare_claimed(svc, row_ids, owner), owner, limiter, stop, on_caller=False)


def send(svc: Services, ready: Prepared, owner: str, limiter: Limiter | None = None) -> str:
    """Hand a prepared row to its adapter and record the outcome; return the row's new status."""
    return send_all(svc, [ready], owner, limiter)[0]


def send_all(svc: Services, prepared: list[Prepared], owner: str, limiter: Limiter | None = None,
             stop: threading.Event | None = None, on_caller: bool = True) -> list[str]:
    """Send prepared rows, each recipient's in order and recipients side by side (bot.service.lanes); then
    record every outcome in one transaction. On SIGTERM (`stop`) a lane hands back the rows it has not started."""
    grouped = lanes(prepared, lambda p: p.message.channel, lambda p: p.recipient)
    since = svc.clock()
    sent = svc.process.pools.run(grouped, lambda lane: send_lane(svc, lane, owner, limiter, stop, since), on_caller)
    by_row = {ready.row_id: outcome for lane, outcomes in zip(grouped.values(), sent)
              for ready, outcome in zip(lane, outcomes)}
    return record_all(svc, [by_row[ready.row_id] for ready in prepared], owner)


def record_all(svc: Services, outcomes: list[Outcome | str], owner: str) -> list[str]:
    """Record the sends among `outcomes` in one transaction; every row's new status, in order."""
    done = [o for o in outcomes if isinstance(o, Outcome)]
    recorded: dict[int, str] = {}
    if done:
        with session_scope(svc.engine) as session:
            recorded = record(session, svc, done, owner)
    return [recorded[o.ready.row_id] if isinstance(o, Outcome) else o for o in outcomes]


def send_lane(svc: Services, lane: list[Prepared], owner: str, limiter: Limiter | None,
               stop: threading.Event | None, since: datetime) -> list[Outcome | str]:
    """One recipient's rows, in order. The rest of the lane goes back to the queue (prepared again, and so
    checked again, when next claimed) after a send the provider refused for the address, and on SIGTERM. A row
    prepared more than half a lease ago has its lease renewed before it goes (or is left alone when it was lost)."""
    out: list[Outcome | str] = []
    for n, ready in enumerate(lane):
        if (stop is not None and stop.is_set()) or (out and isinstance(out[-1], Outcome) and out[-1].refused):
            release(svc, [later.row_id for later in lane[n:]], owner)
            return out + [OutboxStatus.UNKNOWN if later.unsure else OutboxStatus.PENDING for later in lane[n:]]
        if svc.clock() - since > LEASE / 2:
            if not renew(svc, [later.row_id for later in lane[n:]], owner):
                return out + [LOST] * (len(lane) - n)
            since = svc.clock()
        out.append(_transmit(svc, ready, owner, limiter))
    return out


def renew(svc: Services, ids: list[int], owner: str) -> int:
    """Renew the lease of rows this worker still holds; how many it holds."""
    stmt = (update(Outbox).where(Outbox.id.in_(ids), Outbox.lease_owner == owner, Outbox.status.in_(HELD))
            .values(lease_until=svc.clock() + LEASE))
    with session_scope(svc.engine) as session:
        return session.execute(stmt, execution_options={"synchronize_session": False}).rowcount


def _transmit(svc: Services, ready: Prepared, owner: str, limiter: Limiter | None) -> Outcome | str:
    message = ready.message
    channel = svc.channels.get(message.channel)
    if channel is None:
        return Outcome(ready, OutboxStatus.FAILED, f"channel {message.channel!r} is not configured")
    if ready.unsure and (find := getattr(channel, "find", None)) is not None:
        try:
            if found := _went_out(svc, ready, find):
                log.info("outbox row %s had gone out (%s): not sent again", ready.row_id, message.channel)
                return Outcome(ready, OutboxStatus.SENT, provider_id=found)
        except Exception as exc:  # the provider cannot tell now: ask again later rather than risk a repeat
            return retry(ready, OutboxStatus.UNKNOWN, exc)
    if limiter is not None and (wait := limiter.reserve(message.channel)) > 0:
        if wait > MAX_RATE_WAIT:  # do not sit on a lease: let any worker pick it up when the channel has room
            limiter.refund(message.channel)
            release(svc, [ready.row_id], owner, svc.clock() + timedelta(seconds=wait))
            return OutboxStatus.UNKNOWN if ready.unsure else OutboxStatus.PENDING
        time.sleep(wait)
    try:
        return Outcome(ready, OutboxStatus.SENT, provider_id=channel.send(message))
    except Refused as exc:
        return Outcome(ready, OutboxStatus.FAILED, str(exc)[:500], refused=exc.reason)
    except PermanentError as exc:
        return Outcome(ready, OutboxStatus.FAILED, str(exc)[:500])
    except Unconfirmed as exc:  # it may have gone out: never sent again before the provider is asked
        return retry(ready, OutboxStatus.UNKNOWN, exc)
    except Exception as exc:  # network, 429, 5xx, timeouts: try again later
        if limiter is not None:
            limiter.penalise(message.channel, exc)  # a 429 slows the whole channel, not just this row
        return retry(ready, OutboxStatus.PENDING, exc)


def _went_out(svc: Services, ready: Prepared, find) -> str | None:
    """The provider's id of this row's message if the provider already took it (and no other row claims it)."""
    found = find(ready.message, ready.message.meta["written_at"])
    if not found:
        return None
    # The same words to the same address may have gone out for another row: that one is not ours.
    with session_scope(svc.engine) as session:
        theirs = set(session.execute(select(Outbox.provider_message_id).where(
            Outbox.provider_message_id.in_(found), Outbox.id != ready.row_id)).scalars())
    return next((sid for sid in found if sid not in theirs), None)


def run_once(svc: Services, owner: str, limit: int = 50, limiter: Limiter | None = None,
             stop: threading.Event | None = None) -> int:
    """Claim and deliver one batch, candidates side by side, and wait for it; return how many rows were handled."""
    claimed = claim_rows(svc, owner, limit)
    if claimed:
        deliver_batch(svc, [c.row_id for c in claimed], owner, limiter, stop)
    return len(claimed)
