"""What candidates said, kept in the message log; a batch of turns writes its rows in one statement."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session

from bot.core.vocab import Direction
from bot.db.engine import copy_rows, one_or_many
from bot.db.models import MessageLog

PENDING = "inbound_log"  # session.info: the rows a batch of turns collects (bot.channels.line.inbound)


def log_inbound(session: Session, applicant_id: int, channel: str, text: str, now: datetime,
                payload: dict | None = None) -> None:
    """Keep one thing the candidate said or tapped, in the caller's transaction.

    A NUL is dropped: a webhook's signed text may hold one, and PostgreSQL refuses it in a text column (the
    whole turn would fail, and the provider retry it for ever)."""
    text = text.replace("\x00", "")
    row = {"applicant_id": applicant_id, "direction": Direction.IN, "channel": channel, "text": text,
           "payload": payload or {}, "outbox_id": None, "created_at": now}
    pending = session.info.get(PENDING)
    if pending is None:
        session.add(MessageLog(**row))
    else:
        pending.append(row)


def collect(session: Session) -> None:
    """From now on, hold this transaction's rows until write_pending() (one INSERT for the batch)."""
    session.info[PENDING] = []


def pending_count(session: Session) -> int:
    return len(session.info.get(PENDING) or ())


def forget_since(session: Session, count: int) -> None:
    """Drop the rows held after the first `count` (their turn was rolled back)."""
    if (pending := session.info.get(PENDING)) is not None:
        del pending[count:]


def write_pending(session: Session) -> None:
    """Write the held rows now; anything that reads the message log in this transaction calls it first."""
    pending = session.info.get(PENDING)
    if pending:
        if session.get_bind().dialect.name == "postgresql":
            copy_rows(session, MessageLog.__table__, pending)
        else:
            session.execute(insert(MessageLog.__table__), one_or_many(list(pending)))
        pending.clear()
