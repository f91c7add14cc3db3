"""The audit log: who did what, to which applicant id, when — written in the transaction of what it records
where it can be, and never holding the candidate's data (a later deletion of their data leaves it as it is)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot.core.vocab import AuditAction
from bot.db.accounts import Account, AuditEntry
from bot.db.engine import session_scope
from bot.service.deps import Services


def record(session: Session, now: datetime, action: AuditAction, *, by: int | None, via: str,
           applicant_id: int | None = None, target: int | None = None, detail: str = "") -> None:
    """Add one entry in the caller's transaction."""
    session.add(AuditEntry(at=now, account_id=by, via=via, action=str(action), applicant_id=applicant_id,
                           target_account_id=target, detail=str(detail)[:64]))


def log(svc: Services, action: AuditAction, *, by: int | None, via: str, applicant_id: int | None = None,
        detail: str = "") -> None:
    """Add one entry in a transaction of its own (after an action that committed its own)."""
    with session_scope(svc.engine) as session:
        record(session, svc.clock(), action, by=by, via=via, applicant_id=applicant_id, detail=detail)


def recent(session: Session, limit: int = 200, before: int | None = None) -> tuple[list[AuditEntry], dict]:
    """The newest entries (older than entry id `before`, for paging), and the accounts they name, by id."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    entries = session.exec(query).all()
    ids = {e.account_id for e in entries} | {e.target_account_id for e in entries}
    accounts = {a.id: a for a in session.exec(select(Account).where(Account.id.in_(ids - {None})))}
    return entries, accounts
