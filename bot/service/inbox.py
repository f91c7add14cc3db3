"""The durable inbox: inbound work a channel keeps before answering its webhook, run once and in order per sender.

A channel keeps what arrived (receive(), or enqueue() inside a transaction) and registers a `Handler`
(its plugin's `inbox_handler`) that carries out one item in the transaction that marks it done. Items
are taken with a lease: a web process's InboxRunner (bot.service.inbox_runner) holds those it received
from the start; the worker claims the rest, and any whose lease ran out because a process died.
"""
from __future__ import annotations

import logging
import weakref
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache
from typing import Callable

from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bot.core.vocab import InboxStatus
from bot.db.engine import DriverStatement, one_or_many, one_statement, retry_on_disconnect, session_scope
from bot.db.models import InboxItem, Outbox
from bot.service import inbound_log, prefetch
from bot.service.availability import FETCHED_SINCE, fetches_ahead
from bot.service.calendar_sync import UNSENT, Unsent
from bot.service.delivery import LEASE, lease_to_self, prepare, send_all
from bot.service.delivery_record import MAX_ATTEMPTS, Prepared, backoff
from bot.service.deps import Services
from bot.service.ratelimit import Limiter
from bot.service.turn import CALENDAR_WRITTEN

log = logging.getLogger("sokuresu.inbox")
PENDING, PROCESSING, DONE, FAILED = InboxStatus.PENDING, InboxStatus.PROCESSING, InboxStatus.DONE, InboxStatus.FAILED
# What a run reports besides those: behind the sender's earlier item, or no longer held by the runner.
WAITING, LOST = "waiting", "lost"
BATCH = 32  # items per transaction at most
CLAIM_LOCK = 0x50B0_1B0C  # PostgreSQL advisory lock: claims run one at a time, each seeing the last one's leases


@dataclass(frozen=True)
class Handler:
    """How a channel carries out its inbox items, each inside the transaction that marks it done."""

    run: Callable[[Session, Services, dict], None]  # run(session, svc, payload): one item
    # prefetch(session, svc, payloads): read (and lock) what a batch's items need, one statement per table,
    # before the first one runs; what it returns is kept referenced until the batch ends.
    prefetch: Callable[[Session, Services, list[dict]], object] | None = None
    # fetch_ahead(svc, payloads): before the batch's transaction, fetch what its turns read from a calendar
    # provider; the mark availability.prefetch_busy returns (None: nothing fetched).
    fetch_ahead: Callable[[Services, list[dict]], float | None] | None = None


@dataclass(frozen=True)
class Arrival:
    """One thing a channel received, to keep."""

    sender: str | None  # whose items run one at a time, in arrival order (a LINE user id); None: any order
    payload: dict
    event_id: str | None = None  # the channel's id for it: a redelivery with the same id is kept once


@cache
def _keep_statement(dialect: str):
    """INSERT ... ON CONFLICT (channel, event_id) DO NOTHING RETURNING, built once per process."""
    table = InboxItem.__table__
    insert = (sqlite_insert if dialect == "sqlite" else postgresql_insert)(table)
    return insert.on_conflict_do_nothing(index_elements=["channel", "event_id"]).returning(table.c.id,
                                                                                          table.c.sender)


_KEEP_ONE: "weakref.WeakKeyDictionary[Engine, DriverStatement]" = weakref.WeakKeyDictionary()


def _keep_one(engine: Engine, keys: list[str]) -> DriverStatement:
    """The keep statement for a single item on the driver's cursor (PostgreSQL), compiled once per engine."""
    if (kept := _KEEP_ONE.get(engine)) is None:
        kept = _KEEP_ONE[engine] = DriverStatement(engine, _keep_statement("postgresql"), keys)
    return kept


def _values(svc: Services, channel: str, arrivals: list[Arrival], held_by: str | None) -> list[dict]:
    now = svc.clock()
    lease = ({"status": PROCESSING, "lease_owner": held_by, "lease_until": now + LEASE, "attempts": 1}
             if held_by is not None else {"status": PENDING, "lease_owner": None, "lease_until": None, "attempts": 0})
    return [{"channel": channel, "sender": a.sender, "event_id": a.event_id, "payload": a.payload, "due_at": now,
             "created_at": now, **lease} for a in arrivals]


def receive(svc: Services, channel: str, arrivals: list[Arrival]) -> int:
    """Keep each new arrival durably, in one statement, and hand it on; return how many were new."""
    # A webhook answers at once and the work runs after. When this process runs an InboxRunner (a web
    # process does), the items are leased to it as they are written and it runs them right after the
    # answer; otherwise, or should this process die, the worker takes them.
    if not arrivals:
        return 0
    runner = svc.process.inbox_runner
    values = _values(svc, channel, arrivals, runner.owner if runner is not None else None)
    stmt = _keep_statement(svc.engine.dialect.name)

    def write() -> list[tuple[int, str | None]]:
        if len(values) == 1 and svc.engine.dialect.name == "postgresql":  # a webhook request's usual one event
            return _keep_one(svc.engine, list(values[0])).run(values[0])
        with one_statement(svc.engine) as conn:
            return [tuple(row) for row in conn.execute(stmt, one_or_many(values)).all()]
    new = retry_on_disconnect(write)
    if new and runner is not None:
        runner.submit([(item_id, sender or "") for item_id, sender in new])
    elif new:
        svc.process.wake.set()
    return len(new)


def enqueue(session: Session, svc: Services, channel: str, sender: str | None, payload: dict,
            event_id: str | None = None) -> int | None:
    """Keep one arrival in the caller's transaction, for the worker; its id, or None when already kept."""
    stmt = _keep_statement(svc.engine.dialect.name)
    new = session.execute(stmt, _values(svc, channel, [Arrival(sender, payload, event_id)], None)).first()
    if new is not None:
        svc.process.wake.set()
    return new.id if new is not None else None


def claim(svc: Services, owner: str, limit: int = BATCH) -> list[int]:
    """Lease up to `limit` due items (or items whose lease ran out) to `owner`; return their ids.

    An item is not taken while an earlier item of its sender is held by someone else or waits for a
    retry: two claimers never hold one sender's items at once, and a sender's items run in order.
    """
    if not svc.inbox_handlers:
        return []
    now = svc.clock()
    earlier = aliased(InboxItem)
    blocked = exists().where(earlier.channel == InboxItem.channel, earlier.sender == InboxItem.sender,
                             earlier.id < InboxItem.id,
                             or_(and_(earlier.status == PROCESSING, earlier.lease_until >= now),
                                 and_(earlier.status == PENDING, earlier.due_at > now)))
    due = and_(or_(and_(InboxItem.status == PENDING, InboxItem.due_at <= now),
                   and_(InboxItem.status == PROCESSING, InboxItem.lease_until < now)),
               InboxItem.channel.in_(sorted(svc.inbox_handlers)))
    ids = select(InboxItem.id).where(due, ~blocked).order_by(InboxItem.id).limit(limit)
    postgres = svc.engine.dialect.name == "postgresql"
    if postgres:
        # Nothing due is the common case for a worker's round: one read without a transaction or the claim
        # lock, instead of four round trips that would also queue the workers behind each other.
        with one_statement(svc.engine) as conn:
            if conn.execute(select(InboxItem.id).where(due).limit(1)).first() is None:
                return []
        ids = ids.with_for_update(of=InboxItem, skip_locked=True)
    stmt = (update(InboxItem).where(InboxItem.id.in_(ids.scalar_subquery()))
            .values(status=PROCESSING, lease_owner=owner, lease_until=now + LEASE, attempts=InboxItem.attempts + 1)
            .returning(InboxItem.id))
    with session_scope(svc.engine) as session:
        if postgres:  # SQLite runs the UPDATE under its write lock: one claim at a time already
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
        return sorted(session.execute(stmt, execution_options={"synchronize_session": False}).scalars())


def release(svc: Services, ids: list[int], owner: str, due_at=None) -> int:
    """Hand held items back unstarted (a stopping process, a sender busy elsewhere), as if never taken."""
    if not ids:
        return 0
    values = {"status": PENDING, "lease_owner": None, "lease_until": None, "attempts": InboxItem.attempts - 1}
    if due_at is not None:
        values["due_at"] = due_at
    stmt = (update(InboxItem).where(InboxItem.id.in_(ids), InboxItem.lease_owner == owner,
                                    InboxItem.status == PROCESSING).values(**values))
    with session_scope(svc.engine) as session:
        return session.execute(stmt, execution_options={"synchronize_session": False}).rowcount


class _Redo(Exception):
    """An item failed in a batch run without savepoints: run the batch again, each item in its own."""


def process(svc: Services, ids: list[int], owner: str) -> tuple[dict[int, str], list[Prepared]]:
    """Run items `owner` holds, in one transaction; return each item's outcome (done, waiting, lost, or
    pending/failed after an error) and the answers to send now.

    Each item's effect commits together with marking it done, so an item runs exactly once even when it
    is taken over after its lease ran out. An item that fails is undone alone and handed back with a
    backoff. The answers its run wrote that are due now come back leased to `owner`: the caller sends
    them once this has committed, instead of waiting for a worker's poll, worded as the calendar writes
    the commit ran left them (a Meet link added to a confirmation).
    """
    fetched = _fetch_ahead(svc, ids)
    try:
        return _process(svc, ids, owner, careful=False, fetched=fetched)
    except _Redo:  # rolled back whole; nothing of it happened
        return _process(svc, ids, owner, careful=True, fetched=fetched)


def _fetch_ahead(svc: Services, ids: list[int]) -> float | None:
    """Let the handlers fetch their calendar reads before the transaction: no provider call (nor its retry
    sleeps) then waits while the batch holds its applicants' rows or the SQLite write lock."""
    ahead = {channel: h.fetch_ahead for channel, h in svc.inbox_handlers.items() if h.fetch_ahead is not None}
    if not ahead or not fetches_ahead(svc):
        return None  # no extra read of the items where no calendar provider is in use
    with Session(svc.engine) as session:
        rows = session.execute(select(InboxItem.channel, InboxItem.payload).where(InboxItem.id.in_(ids))).all()
    marks = [fetch(svc, [payload for channel, payload in rows if channel == name]) for name, fetch in ahead.items()
             if any(channel == name for channel, _ in rows)]
    return min((mark for mark in marks if mark is not None), default=None)


def _process(svc: Services, ids: list[int], owner: str, careful: bool,
             fetched: float | None = None) -> tuple[dict[int, str], list[Prepared]]:
    # What the items need is read up front (the handlers' prefetch, bot.service.prefetch), and what they
    # write goes to the database in one flush at the end: a round trip to the database costs more than
    # most of a turn. Savepoints (two more round trips an item) are taken only when a failing item must
    # not undo the others: in the second, careful run, or once an item wrote to a calendar outside the database.
    statuses: dict[int, str] = {}
    answers: list[Outbox] = []
    with session_scope(svc.engine) as session:
        if fetched is not None:
            session.info[FETCHED_SINCE] = fetched
        inbound_log.collect(session)  # what candidates said: one INSERT for the batch
        items = _take(session, ids, owner, statuses)
        blocked = _held_elsewhere(session, items)
        # Kept referenced to the end: the session holds loaded rows weakly, and prepare() reads them again.
        session.info["inbox_prefetched"] = [
            handler.prefetch(session, svc, [i.payload for i in items if i.channel == channel])
            for channel, handler in svc.inbox_handlers.items()
            if handler.prefetch is not None and any(i.channel == channel for i in items)]
        for item in items:
            key = (item.channel, item.sender) if item.sender is not None else None
            if key in blocked and blocked[key] < item.id:
                statuses[item.id] = WAITING  # an earlier item of this sender is not done yet: keep their order
                continue
            statuses[item.id] = _run_one(session, svc, item, careful)
            if statuses[item.id] != DONE and key is not None:
                blocked.setdefault(key, item.id)  # the sender's later items wait behind this one
                continue
            answers += lease_to_self(svc, session.info["enqueued"], owner)
        prefetch.clear(session)
        inbound_log.write_pending(session)
        if done := [item_id for item_id, status in statuses.items() if status == DONE]:
            session.execute(update(InboxItem).where(InboxItem.id.in_(done)).values(
                status=DONE, processed_at=svc.clock(), lease_owner=None, lease_until=None, last_error=None),
                execution_options={"synchronize_session": False})
        session.flush()
        ready = [p for p in (prepare(session, svc, row) for row in answers) if isinstance(p, Prepared)]
        # The calendar writes queued here run as this commits, before these go: they may add a Meet link.
        session.info[UNSENT] = unsent = Unsent(owner, [p.row_id for p in ready])
    if unsent.kept is None:
        return statuses, ready  # no calendar write ran
    return statuses, [_rewritten(p, unsent.rewritten.get(p.row_id)) for p in ready if p.row_id in unsent.kept]


def _rewritten(ready: Prepared, payload: dict | None) -> Prepared:
    return ready if payload is None else replace(ready, message=replace(ready.message, payload=payload))


def _run_one(session: Session, svc: Services, item: InboxItem, careful: bool) -> str:
    """Run one item's handler; DONE, or the status it was handed back with after a failure."""
    session.info["enqueued"] = []
    guarded = careful or session.info.get(CALENDAR_WRITTEN, False)
    logged = inbound_log.pending_count(session)
    try:
        with (session.begin_nested() if guarded else nullcontext()):
            handler = svc.inbox_handlers.get(item.channel)
            if handler is None:
                raise LookupError(f"no inbox handler for channel {item.channel!r}")
            handler.run(session, svc, item.payload)
        return DONE  # marked below, with the others
    except Exception as exc:
        if not guarded:
            raise _Redo from exc
        # Rolled back to the savepoint: nothing of this item happened.
        inbound_log.forget_since(session, logged)
        log.warning("inbox item %s (%s) failed (%s); it will be retried", item.id, item.channel,
                    type(exc).__name__)
        return _retry(svc, item, f"{type(exc).__name__}: {exc}")


def _take(session: Session, ids: list[int], owner: str, statuses: dict[int, str]) -> list[InboxItem]:
    """Lock the items; those `owner` no longer holds are lost to it. The rest per sender, in arrival order."""
    found = {item.id: item for item in session.scalars(select(InboxItem).where(InboxItem.id.in_(ids))
                                                       .order_by(InboxItem.id).with_for_update())}
    items = []
    for item_id in ids:
        item = found.get(item_id)
        if item is None or item.status != PROCESSING or item.lease_owner != owner:
            statuses[item_id] = LOST  # done already, or taken over after our lease ran out
        else:
            items.append(item)
    return sorted(items, key=lambda item: (item.channel, item.sender or "", item.id))


def _held_elsewhere(session: Session, items: list[InboxItem]) -> dict[tuple[str, str], int]:
    """For each sender of these items: the first of their items not done yet outside this batch."""
    senders = sorted({item.sender for item in items if item.sender is not None})
    if not senders:
        return {}
    query = (select(InboxItem.channel, InboxItem.sender, func.min(InboxItem.id))
             .where(InboxItem.sender.in_(senders), InboxItem.status.in_((PENDING, PROCESSING)),
                    InboxItem.id.not_in([item.id for item in items]))
             .group_by(InboxItem.channel, InboxItem.sender))
    return {(channel, sender): first for channel, sender, first in session.execute(query).all()}


def _retry(svc: Services, item: InboxItem, error: str) -> str:
    item.status = FAILED if item.attempts >= MAX_ATTEMPTS else PENDING
    item.last_error, item.lease_owner, item.lease_until = error[:500], None, None
    item.due_at = svc.clock() + backoff(item.attempts)
    return item.status


def run(svc: Services, ids: list[int], owner: str, limiter: Limiter | None = None) -> dict[int, str]:
    """Run held items, send the answers they wrote, and hand back those whose sender is busy elsewhere."""
    statuses, answers = process(svc, ids, owner)
    send_all(svc, answers, owner, limiter)
    if waiting := [item_id for item_id, status in statuses.items() if status == WAITING]:
        release(svc, waiting, owner, svc.clock() + timedelta(seconds=1))  # their earlier item is in hand
        statuses.update(dict.fromkeys(waiting, PENDING))
    return statuses


def run_once(svc: Services, owner: str, limit: int = BATCH, limiter: Limiter | None = None, stop=None) -> int:
    """Claim and run one batch; return how many items were taken."""
    ids = claim(svc, owner, limit)
    if ids and stop is not None and stop.is_set():  # SIGTERM: hand them back now rather than at lease expiry
        release(svc, ids, owner)
    elif ids:
        run(svc, ids, owner, limiter)
    return len(ids)


def backlog(session: Session) -> int:
    """How many items wait to be run (the recruiter page counts them with the messages waiting)."""
    query = select(func.count()).select_from(InboxItem).where(InboxItem.status.in_((PENDING, PROCESSING)))
    return session.execute(query).scalar_one()


def failures(session: Session, limit: int = 50) -> list[InboxItem]:
    """The items given up on, newest first (the recruiter page lists them beside the failed sends)."""
    return list(session.scalars(select(InboxItem).where(InboxItem.status == FAILED)
                                .order_by(InboxItem.id.desc()).limit(limit)))
