"""People of the company who sign in: invitations, one-time sign-in links, sessions, removal, and what each may see.

A sign-in link holds a random token valid for 15 minutes and once; a session is a random token the browser's
cookie carries for 12 hours. Only their SHA-256 hashes are stored. Each request looks its session up, so
signing out or removing a person ends their sessions on the very next request.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from bot.core.settings import Settings
from bot.core.vocab import AuditAction, BookingStatus, Role
from bot.db.accounts import Account, SignInToken, StaffSession
from bot.db.engine import session_scope
from bot.db.models import Booking
from bot.service import audit
from bot.service.deps import Services

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)  # a working day; the same as the cookie's (bot/app.py)
LINKS_PER_LIFETIME = 3  # links the sign-in form mails to one person per 15 minutes, so it cannot flood a mailbox
FIRST_ADMIN = "admin@example.com"  # made by `sokuresu demo` / `recruiter-url` when nobody can sign in yet
SIGN_IN_PATH = "/recruiter/sign-in/"


class LastAdmin(Exception):
    """Removing this person would leave nobody who can invite or remove people."""


@dataclass(frozen=True)
class Person:
    """Who is signed in, as the pages need it: a snapshot of their account, and the settings interviewers they
    are (by e-mail) when their role is interviewer."""

    id: int
    email: str
    name: str
    role: Role
    interviewers: tuple[str, ...] = ()

    @property
    def sees_everyone(self) -> bool:
        return self.role != Role.INTERVIEWER


def normalise(email: str) -> str:
    return email.strip().lower()


def looks_like_email(email: str) -> bool:
    """One @, something before it, a dotted domain after, no spaces or control characters, at most 320 long."""
    local, at, domain = email.rpartition("@")
    return (bool(at and local) and "." in domain.strip(".") and len(email) <= 320
            and not any(c.isspace() or ord(c) < 32 or c in "<>\"" for c in email))


def hashed(token: str) -> str:
    """What is stored of a token: its SHA-256 (the token is 256 random bits, so no salt or key is needed)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def person(settings: Settings, account: Account) -> Person:
    mine = tuple(i.id for i in settings.interviewers.values() if i.email and normalise(i.email) == account.email)
    name = account.name or next((settings.interviewers[i].name.ja for i in mine), "") or account.email
    return Person(account.id, account.email, name, Role(account.role), mine)


def link_url(svc: Services, token: str) -> str:
    return f"{svc.config.public_base_url}{SIGN_IN_PATH}{token}"


def active(session: Session, email: str) -> Account | None:
    """The account of this address that may sign in, if any."""
    return session.exec(select(Account).where(Account.email == normalise(email),
                                              Account.removed_at.is_(None))).first()


def people(session: Session) -> list[Account]:
    """Everyone who may sign in, admins first."""
    rows = session.exec(select(Account).where(Account.removed_at.is_(None)).order_by(Account.id)).all()
    return sorted(rows, key=lambda a: list(Role).index(Role(a.role)))


def _issue(session: Session, account: Account, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(SignInToken(token_hash=hashed(token), account_id=account.id, created_at=now,
                            expires_at=now + LINK_LIFETIME))
    return token


def invite(svc: Services, email: str, role: Role | None = None, name: str = "", *, by: int | None = None,
           via: str = "cli") -> tuple[Account, str]:
    """Give a person access (or back, or another role; None keeps theirs, a new person is a recruiter) and a
    one-time sign-in link; the account and the link."""
    now, email = svc.clock(), normalise(email)
    with session_scope(svc.engine) as session:
        account = session.exec(select(Account).where(Account.email == email)).first()
        if account is None:
            account = Account(email=email, role=str(role or Role.RECRUITER), name=name.strip(), created_at=now)
        else:
            if role is not None and role != account.role:
                if account.role == Role.ADMIN:
                    _keep_an_admin(session, account)
                account.role = str(role)
            account.removed_at = None
            account.name = name.strip() or account.name
        session.add(account)
        session.flush()
        token = _issue(session, account, now)
        audit.record(session, now, AuditAction.INVITE, by=by, via=via, target=account.id, detail=account.role)
    return account, link_url(svc, token)


def first_admin_link(svc: Services) -> tuple[Account, str]:
    """A fresh link for the first admin (the demo's and `recruiter-url`'s), made as FIRST_ADMIN if there is none."""
    with session_scope(svc.engine) as session:
        found = session.exec(select(Account).where(Account.role == Role.ADMIN, Account.removed_at.is_(None))
                             .order_by(Account.id)).first()
        email = found.email if found is not None else FIRST_ADMIN
    return invite(svc, email, None if found is not None else Role.ADMIN, "" if found else "管理者")


def request_link(svc: Services, email: str) -> tuple[Account, str] | None:
    """A link for the sign-in form: None when the address has no account, or was sent enough links lately."""
    now = svc.clock()
    with session_scope(svc.engine) as session:
        account = active(session, email)
        if account is None:
            return None
        lately = session.exec(select(func.count()).select_from(SignInToken).where(
            SignInToken.account_id == account.id, SignInToken.created_at > now - LINK_LIFETIME)).one()
        if lately >= LINKS_PER_LIFETIME:
            return None
        token = _issue(session, account, now)
    return account, link_url(svc, token)


def link_usable(svc: Services, token: str) -> bool:
    """Whether a link would sign in now (without spending it: the page it opens asks first)."""
    with session_scope(svc.engine) as session:
        row = session.exec(select(SignInToken).where(SignInToken.token_hash == hashed(token))).first()
        return (row is not None and hmac.compare_digest(row.token_hash, hashed(token)) and row.used_at is None
                and svc.clock() < row.expires_at and _is_active(session, row.account_id))


def redeem(svc: Services, token: str) -> tuple[Person, str] | None:
    """Spend a sign-in link and open a session: the person and the session's token, or None when the link is
    unknown, used, expired or its person removed. Exactly one of two requests racing with one link wins."""
    now, digest = svc.clock(), hashed(token)
    with session_scope(svc.engine) as session:
        row = session.exec(select(SignInToken).where(SignInToken.token_hash == digest)).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest) or not _is_active(session, row.account_id):
            return None
        spent = session.execute(update(SignInToken).where(SignInToken.id == row.id, SignInToken.used_at.is_(None),
                                                       SignInToken.expires_at > now).values(used_at=now))
        if spent.rowcount != 1:
            return None
        return _open(session, svc, session.get(Account, row.account_id), "link", now)


def sign_in_verified(svc: Services, email: str, via: str) -> tuple[Person, str] | None:
    """Open a session for an address a provider vouched for (Google); None when it has no account."""
    with session_scope(svc.engine) as session:
        account = active(session, email)
        return None if account is None else _open(session, svc, account, via, svc.clock())


def _open(session: Session, svc: Services, account: Account, via: str, now: datetime) -> tuple[Person, str]:
    token = secrets.token_urlsafe(32)
    session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))  # lapsed ones, anyone's
    session.add(StaffSession(token_hash=hashed(token), account_id=account.id, via=via, created_at=now,
                             expires_at=now + SESSION_LIFETIME))
    account.last_sign_in_at = now
    session.add(account)
    audit.record(session, now, AuditAction.SIGN_IN, by=account.id, via=via)
    return person(svc.settings, account), token


def signed_in(svc: Services, token: str) -> Person | None:
    """The person of a live session token (each request asks: a removed person or an ended session is None)."""
    with session_scope(svc.engine) as session:
        found = session.exec(select(Account).join(StaffSession, StaffSession.account_id == Account.id).where(
            StaffSession.token_hash == hashed(token), StaffSession.expires_at > svc.clock(),
            Account.removed_at.is_(None))).first()
        return None if found is None else person(svc.settings, found)


def sign_out(svc: Services, token: str) -> None:
    """End one session (this browser's), whatever copies of its cookie exist."""
    now = svc.clock()
    with session_scope(svc.engine) as session:
        row = session.exec(select(StaffSession).where(StaffSession.token_hash == hashed(token))).first()
        if row is not None:
            audit.record(session, now, AuditAction.SIGN_OUT, by=row.account_id, via="web")
            session.delete(row)


def remove(svc: Services, email: str, *, by: int | None, via: str) -> Account | None:
    """Take a person's access away: their sessions end and their unused links stop working. None: no such person;
    LastAdmin when they are the only admin left."""
    now = svc.clock()
    with session_scope(svc.engine) as session:
        account = active(session, email)
        if account is None:
            return None
        if account.role == Role.ADMIN:
            _keep_an_admin(session, account)
        account.removed_at = now
        session.add(account)
        session.execute(delete(StaffSession).where(StaffSession.account_id == account.id))
        session.execute(update(SignInToken).where(SignInToken.account_id == account.id, SignInToken.used_at.is_(None))
                     .values(used_at=now))
        audit.record(session, now, AuditAction.REMOVE, by=by, via=via, target=account.id)
    return account


def _keep_an_admin(session: Session, account: Account) -> None:
    others = session.exec(select(func.count()).select_from(Account).where(
        Account.role == Role.ADMIN, Account.removed_at.is_(None), Account.id != account.id)).one()
    if not others:
        raise LastAdmin(account.email)


def _is_active(session: Session, account_id: int) -> bool:
    account = session.get(Account, account_id)
    return account is not None and account.removed_at is None


def visible_ids(who: Person):
    """The applicant ids an interviewer may see (a subquery: their interviews not cancelled); None: everyone."""
    if who.sees_everyone:
        return None
    return select(Booking.applicant_id).where(Booking.interviewer.in_(who.interviewers or ("",)),
                                              Booking.status != BookingStatus.CANCELLED)


def may_see(session: Session, who: Person, applicant_id: int) -> bool:
    ids = visible_ids(who)
    return ids is None or session.exec(ids.where(Booking.applicant_id == applicant_id).limit(1)).first() is not None
