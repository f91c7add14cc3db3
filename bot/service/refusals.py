"""What the abuse protections refused or held back, for the recruiter page: counted, masked, never a flood of rows.

A refused application is not stored (nobody asked to be contacted), so this table is the only trace of it: the
reason, where it came from (the form or the intake API), the client's network and the destination with most
of its digits hidden. One row per day, reason, source, channel, destination and network carries a count, so a
script posting thousands of times writes one row.
"""
from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core.vocab import RefusalReason
from bot.db.engine import session_scope
from bot.db.models import Refusal
from bot.service.deps import Services


def mask(destination: str | None) -> str | None:
    """Enough of an address to recognise a pattern (country, prefix, domain), not enough to contact anyone:
    +4490912345678 -> +44909•••••78, hanako@example.com -> h•••@example.com."""
    if not destination:
        return None
    if "@" in destination:
        local, _, domain = destination.rpartition("@")
        return f"{local[:1]}•••@{domain}"[:80]
    if len(destination) <= 6:
        return "•" * len(destination)
    return (destination[:6] + "•" * (len(destination) - 8) + destination[-2:])[:80]


def network(client: str | None) -> str | None:
    """The client's network, not its address: /24 for IPv4, /48 for IPv6 (how rate limits group clients too)."""
    if not client:
        return None
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _key(day: str, reason: str, source: str, channel: str | None, destination: str | None,
         client: str | None) -> str:
    raw = "\x1f".join((day, reason, source, channel or "", destination or "", client or ""))
    return hashlib.sha256(raw.encode()).hexdigest()


def record_in(session: Session, now: datetime, reason: RefusalReason, *, source: str, channel: str | None = None,
              destination: str | None = None, client: str | None = None, job_id: str | None = None,
              applicant_id: int | None = None) -> None:
    """Count one refusal in the caller's transaction (used when the application itself is stored, e.g. a held
    greeting). `destination` is the full address and `client` the remote address: both are reduced here."""
    masked, net = mask(destination), network(client)
    key = _key(now.date().isoformat(), reason, source, channel, masked, net)
    counted = session.execute(update(Refusal).where(Refusal.key == key)
                              .values(count=Refusal.count + 1, last_at=now, applicant_id=applicant_id))
    if counted.rowcount:
        return
    try:
        with session.begin_nested():
            session.add(Refusal(key=key, reason=reason, source=source, channel=channel, destination=masked,
                                client=net, job_id=job_id, applicant_id=applicant_id, created_at=now, last_at=now))
    except IntegrityError:  # another process counted the first one a moment ago
        session.execute(update(Refusal).where(Refusal.key == key)
                        .values(count=Refusal.count + 1, last_at=now, applicant_id=applicant_id))


def record(svc: Services, reason: RefusalReason, **fields) -> None:
    """Count one refusal in its own transaction (the application it refuses is not stored)."""
    with session_scope(svc.engine) as session:
        record_in(session, svc.clock(), reason, **fields)


def recent(session: Session, limit: int = 50) -> list[Refusal]:
    """The latest refusals first, for the recruiter page."""
    return list(session.exec(select(Refusal).order_by(Refusal.last_at.desc(), Refusal.id.desc()).limit(limit)).all())
