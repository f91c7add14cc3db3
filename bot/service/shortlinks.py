"""Short /r/<token> links: keep SMS short and count how often a candidate opened our content."""
from __future__ import annotations

import base64
from datetime import datetime
from typing import Collection, Iterable

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from bot.core.signing import mac, sign, unsign
from bot.db.engine import one_or_many
from bot.db.models import ShortLink

TOKEN_LENGTH = 8  # 48 bits from an HMAC: unguessable enough for links that only redirect


def token_for(secret_key: str, applicant_id: int | None, url: str) -> str:
    """The same candidate and URL always get the same token, so a resend reuses the link."""
    return base64.urlsafe_b64encode(mac(secret_key, f"link:{applicant_id}:{url}")).decode()[:TOKEN_LENGTH]


class Shortener:
    """Turn URLs into {base}/r/<token>; only the links a text really shows are stored.

    Only `trusted` URLs (the company's settings, our own pages, the booking's meeting link) are shortened: a
    URL a candidate typed (in their name, say) stays as typed, so /r/ never redirects anywhere in the
    company's name that the company did not choose."""

    def __init__(self, secret_key: str, base_url: str, applicant_id: int | None, trusted: Collection[str] = ()):
        self.secret_key, self.base_url, self.applicant_id = secret_key, base_url, applicant_id
        self.trusted = frozenset(trusted)
        self.made: dict[str, str] = {}

    def is_trusted(self, url: str) -> bool:
        return url in self.trusted or url.startswith(self.base_url.rstrip("/") + "/")

    def __call__(self, url: str) -> str:
        if not self.is_trusted(url):
            return url
        token = token_for(self.secret_key, self.applicant_id, url)
        self.made[token] = url
        return f"{self.base_url}/r/{token}"

    def save(self, session: Session, text: str, now: datetime) -> None:
        """Store the links that appear in `text`, in the caller's transaction: one statement, whatever the number.

        A link stored already (a resend, or a concurrent turn writing the very same one) is left as it is. The
        statement is not the ORM's, so it does not flush the caller's pending rows first: an outbox row whose text
        is being fixed is inserted once, with its text, instead of inserted and then updated."""
        rows = [{"token": token, "applicant_id": self.applicant_id, "url": url, "opens": 0, "created_at": now}
                for token, url in self.made.items() if f"/r/{token}" in text]  # others were measured, left out
        if not rows:
            return
        table = ShortLink.__table__
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        with session.no_autoflush:
            # Parameters apart from the statement, so its compiled form is cached (a VALUES list is compiled anew).
            session.execute(insert(table).on_conflict_do_nothing(index_elements=[table.c.token]), one_or_many(rows))


def open_link(session: Session, token: str, now: datetime) -> str | None:
    """Count one open and return the target URL (None for an unknown token)."""
    link = session.exec(select(ShortLink).where(ShortLink.token == token)).first()
    if link is None:
        return None
    # One UPDATE, so parallel opens are all counted.
    session.execute(update(ShortLink).where(ShortLink.id == link.id)
                    .values(opens=ShortLink.opens + 1, first_opened_at=func.coalesce(ShortLink.first_opened_at, now)))
    return link.url


def opens_by_applicant(session: Session, applicant_ids: list[int]) -> dict[int, int]:
    """How many times each candidate opened any of their links."""
    rows = session.execute(select(ShortLink.applicant_id, func.sum(ShortLink.opens))
                           .where(ShortLink.applicant_id.in_(applicant_ids)).group_by(ShortLink.applicant_id)).all()
    return {applicant_id: int(total or 0) for applicant_id, total in rows}


UNSUBSCRIBE_SALT = "unsubscribe"


def unsubscribe_url(secret_key: str, base_url: str, applicant_token: str) -> str:
    """A signed one-click unsubscribe link for the List-Unsubscribe header."""
    return f"{base_url}/u/{sign(secret_key, UNSUBSCRIBE_SALT, applicant_token)}"


def unsubscribe_token(keys: str | Iterable[str], signed: str) -> str | None:
    """The applicant token inside an unsubscribe link signed with one of `keys`, or None when it was tampered with."""
    return unsign(keys, UNSUBSCRIBE_SALT, signed)
