"""What a send came to, and how it is written down: sent, retried later, unknown, or failed."""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlmodel import Session

from bot.core.transport import Outgoing
from bot.core.vocab import RECRUITER_CHANNEL, Direction, OutboxStatus
from bot.db.engine import one_or_many
from bot.db.models import MessageLog, Outbox
from bot.service.delivery_reports import address_refused
from bot.service.deps import Services
from calendars.sqltypes import UTCDateTime

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
    """Write what happened to each sent row, in one statement on PostgreSQL (three on SQLite) whatever their
    number; row id -> status. A row no longer held by `owner` is left as it is (LOST). Every row sent to a
    candidate is copied into their message log as it was sent (the outbox row's payload)."""
    now = svc.clock()
    # Every row's values have the same keys: one statement (or executemany) for all of them.
    changes = [_change(outcome, now) for outcome in outcomes]
    write = _record_postgres if session.get_bind().dialect.name == "postgresql" else _record_rows
    held = write(session, outcomes, changes, owner, now)
    statuses = {}
    for outcome, values in zip(outcomes, changes):
        statuses[values["row_id"]] = values["status"] if values["row_id"] in held else LOST
        if values["row_id"] in held:
            _log(outcome, values["status"])
            if outcome.refused:
                address_refused(session, svc, values["row_id"], outcome.refused, outcome.error or "")
    return statuses


def _change(outcome: Outcome, now: datetime) -> dict:
    """A row's new values: its status and error, with when and how it went out, or when to try again (None:
    the column keeps its value)."""
    status = outcome.status
    values = {"row_id": outcome.ready.row_id, "status": status, "last_error": outcome.error, "sent_at": None,
              "provider_message_id": None, "delivery_mode": None, "due_at": None}
    if status == OutboxStatus.SENT:
        mode = (outcome.provider_id or "").partition(":")[0]
        # LINE says how it went out; pushes count against the plan.
        values.update(sent_at=now, provider_message_id=outcome.provider_id,
                      delivery_mode=mode if mode in ("reply", "push") else None)
    elif status in (OutboxStatus.PENDING, OutboxStatus.UNKNOWN):
        wait = backoff(outcome.ready.attempts)  # and never sooner than the provider asked
        if status == OutboxStatus.UNKNOWN:
            wait = max(wait, UNSURE_WAIT)
        values["due_at"] = now + max(wait, timedelta(seconds=outcome.retry_after or 0))
    return values


def _record_rows(session: Session, outcomes: list[Outcome], changes: list[dict], owner: str,
                 now: datetime) -> set[int]:
    """The rows still held, locked; their new values; and what went to a candidate in their message log."""
    ids = sorted(values["row_id"] for values in changes)
    held = dict(session.execute(select(Outbox.id, Outbox.applicant_id)
                                .where(Outbox.id.in_(ids), Outbox.lease_owner == owner)
                                .order_by(Outbox.id).with_for_update()).all())
    changes = [values for values in changes if values["row_id"] in held]
    said = [{"applicant_id": held[o.ready.row_id], "direction": Direction.OUT, "channel": o.ready.message.channel,
             "text": o.ready.message.payload.get("text", ""), "payload": o.ready.message.payload,
             "outbox_id": o.ready.row_id, "created_at": now}
            for o in outcomes if o.status == OutboxStatus.SENT and held.get(o.ready.row_id)
            and o.ready.message.channel != RECRUITER_CHANNEL]
    if changes:  # the rows are locked above; Core statements, as no ORM object is needed here
        table = Outbox.__table__
        session.execute(update(table).where(table.c.id == bindparam("row_id")).values(
            status=bindparam("status"), last_error=bindparam("last_error"), lease_owner=None, lease_until=None,
            sent_at=func.coalesce(bindparam("sent_at", type_=table.c.sent_at.type), table.c.sent_at),
            provider_message_id=func.coalesce(bindparam("provider_message_id",
                                                        type_=table.c.provider_message_id.type),
                                              table.c.provider_message_id),
            delivery_mode=func.coalesce(bindparam("delivery_mode", type_=table.c.delivery_mode.type),
                                        table.c.delivery_mode),
            due_at=func.coalesce(bindparam("due_at", type_=table.c.due_at.type), table.c.due_at)),
            one_or_many(changes))
    if said:
        session.execute(insert(MessageLog.__table__), one_or_many(said))
    return set(held)


# The same in one statement: the rows still held, locked in id order; their new values; and the message log
# copies the payloads of those sent to a candidate on the server, so no payload is encoded again here. Measured
# in one process, 35 rows a batch, side by side: 177 us of CPU a row recorded with the three statements, 58 with
# this one (docs/performance.md, "LINE webhook").
_RECORD_ONE_STATEMENT = text("""
WITH v AS (
    SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:statuses AS text[]), CAST(:errors AS text[]),
                         CAST(:sent_at AS timestamp[]), CAST(:provider_ids AS text[]), CAST(:modes AS text[]),
                         CAST(:due_at AS timestamp[]))
        AS v(id, status, last_error, sent_at, provider_message_id, delivery_mode, due_at)
), held AS MATERIALIZED (
    SELECT id FROM outbox WHERE id = ANY(CAST(:ids AS integer[])) AND lease_owner = :owner ORDER BY id FOR UPDATE
), written AS (
    UPDATE outbox SET status = v.status, last_error = v.last_error, lease_owner = NULL, lease_until = NULL,
        sent_at = coalesce(v.sent_at, outbox.sent_at),
        provider_message_id = coalesce(v.provider_message_id, outbox.provider_message_id),
        delivery_mode = coalesce(v.delivery_mode, outbox.delivery_mode),
        due_at = coalesce(v.due_at, outbox.due_at)
    FROM v JOIN held ON held.id = v.id
    WHERE outbox.id = v.id
    RETURNING outbox.id, outbox.applicant_id, outbox.channel, outbox.payload, outbox.status
), said AS (
    INSERT INTO message_log (applicant_id, direction, channel, text, payload, outbox_id, created_at)
    SELECT applicant_id, :out, channel, coalesce(payload ->> 'text', ''), payload, id, :now FROM written
    WHERE status = :sent AND applicant_id IS NOT NULL AND channel <> :recruiter
    ORDER BY id
)
SELECT id FROM written""")


def _record_postgres(session: Session, outcomes: list[Outcome], changes: list[dict], owner: str,
                     now: datetime) -> set[int]:
    """_record_rows in one statement: the payloads a candidate was sent are copied into the log by the server
    (they are the outbox rows' own: prepare() sends a row's payload as it is stored)."""
    if not changes:
        return set()
    utc = UTCDateTime().process_bind_param  # the columns keep naive UTC
    column = {key: [values[key] for values in changes] for key in changes[0]}
    return set(session.execute(_RECORD_ONE_STATEMENT, {
        "ids": column["row_id"], "statuses": column["status"], "errors": column["last_error"],
        "sent_at": [utc(at, None) for at in column["sent_at"]], "provider_ids": column["provider_message_id"],
        "modes": column["delivery_mode"], "due_at": [utc(at, None) for at in column["due_at"]],
        "owner": owner, "now": utc(now, None), "out": Direction.OUT.value, "sent": OutboxStatus.SENT.value,
        "recruiter": RECRUITER_CHANNEL}).scalars())


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
