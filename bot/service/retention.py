"""[privacy] retention_days: delete the people nothing has happened with for that many days (off by default).

The worker runs `sweep` with its periodic checks. A person is stale when none of their applications changed, wrote,
or had an interview within the period; each is erased as on request (bot.service.erasure), one
transaction each, and the audit log records it as done by the retention setting.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, select

from bot.core.vocab import Direction
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking, MessageLog
from bot.service import erasure
from bot.service.deps import Services

log = logging.getLogger("sokuresu.retention")
VIA = "retention"
BATCH = 100


def _recent(session: Session, cutoff: datetime) -> set[int]:
    """Ids of applications with something at or after `cutoff`, and the people they belong to."""
    busy = set(session.execute(select(Applicant.id).where(or_(
        Applicant.updated_at >= cutoff, Applicant.created_at >= cutoff,
        Applicant.last_inbound_at >= cutoff))).scalars())
    said = (MessageLog.created_at >= cutoff) & (MessageLog.direction == Direction.IN)  # our nudges are no sign of life
    busy |= set(session.execute(select(MessageLog.applicant_id).where(said)
                                .group_by(MessageLog.applicant_id)).scalars())
    busy |= set(session.execute(select(Booking.applicant_id).where(Booking.end_at >= cutoff)).scalars())
    people = set(session.execute(select(func.coalesce(Applicant.person_id, Applicant.id))
                                 .where(Applicant.id.in_(busy))).scalars()) if busy else set()
    return busy | people


def stale(session: Session, cutoff: datetime, limit: int = BATCH) -> list[int]:
    """One application id per person whose every application has been quiet since before `cutoff`."""
    busy = _recent(session, cutoff)
    query = (select(Applicant.id, Applicant.person_id).where(Applicant.updated_at < cutoff)
             .order_by(Applicant.id).limit(limit * 4))
    chosen, seen = [], set()
    for applicant_id, person_id in session.execute(query):
        root = person_id or applicant_id
        if applicant_id in busy or root in busy or root in seen:
            continue
        seen.add(root)
        chosen.append(applicant_id)
        if len(chosen) >= limit:
            break
    return chosen


def cutoff(svc: Services) -> datetime | None:
    """Activity before this moment is past the retention period; None when the setting is off."""
    days = svc.settings.retention_days
    return svc.clock() - timedelta(days=days) if days else None


def sweep(svc: Services) -> int:
    """Erase the people past the retention period (a batch at a time); how many people."""
    before = cutoff(svc)
    if before is None:
        return 0
    with session_scope(svc.engine) as session:
        ids = stale(session, before)
    done = 0
    for applicant_id in ids:
        with session_scope(svc.engine) as session:  # checked again under the person's locks: a reply may have come
            group = erasure.person_of(session, applicant_id)
            if group and not (_recent(session, before) & {a.id for a in group}):
                erasure.erase_in(session, svc, applicant_id, by=None, via=VIA)
                done += 1
    if done:
        log.info("retention: erased %s people quiet for %s days", done, svc.settings.retention_days)
    return done
