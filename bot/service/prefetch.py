"""Rows a batch of turns looked up together, handed out once each.

A batch of LINE turns (bot.channels.line.inbound.process) reads what its turns will need in one statement per
table instead of one per turn: the applicants (locked), their live bookings, the "candidate answered"
nudge cancellation. Each prefetched value serves the first turn of its owner only: a second event of
the same candidate in the batch looks again, and so sees what the first turn changed.
"""
from __future__ import annotations

from sqlmodel import Session

KEY = "prefetched"
MISSING = object()


def put(session: Session, kind: str, values: dict) -> None:
    """Offer `values` (key -> row, or None for "looked, there is none") to the turns of this transaction."""
    session.info.setdefault(KEY, {})[kind] = dict(values)


def take(session: Session, kind: str, key) -> object:
    """The prefetched value for `key`, once; MISSING when it was not prefetched or is used up."""
    found = session.info.get(KEY, {}).get(kind)
    if not found or key not in found:
        return MISSING
    return found.pop(key)


def clear(session: Session) -> None:
    session.info.pop(KEY, None)
