"""Take back outbox rows not sent yet: one statement, the same for every reason to."""
from __future__ import annotations

from sqlmodel import Session, update

from bot.db.models import Outbox


def cancel_pending(session: Session, *where, applicant_id: int | None = None, booking_id: int | None = None,
                   why: str | None = None) -> int:
    """Cancel a booking's pending rows (booking_id), else a candidate's, narrowed by `where`; `why` is recorded."""
    query = update(Outbox).where(Outbox.status == "pending", *where)
    query = query.where(Outbox.booking_id == booking_id) if booking_id else query.where(Outbox.applicant_id == applicant_id)
    # Without a reason, a retried row keeps the error of its last attempt, as before.
    values = {"status": "cancelled"} if why is None else {"status": "cancelled", "last_error": why}
    return session.execute(query.values(**values)).rowcount
