"""One key per purpose (feeds, links, sessions, vault), derived from SECRET_KEY and that purpose's generation.

`sokuresu keys rotate <purpose>` bumps one generation in the database: that purpose's key changes, every
other purpose's stays, and SECRET_KEY (the only secret in the environment) stays as it is. A process reads
the generations when it starts, so a rotation takes effect in each process as it restarts. Until a purpose
is rotated for the first time, what was signed with SECRET_KEY itself before keys had purposes (links in
messages already sent, subscribed feeds, the bookmarked recruiter link) is still accepted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot.core.vocab import KeyPurpose
from bot.db.models import KeyGeneration

_SALT = b"sokuresu/purpose-keys"


@lru_cache(maxsize=64)
def derive(secret_key: str, purpose: KeyPurpose, generation: int) -> str:
    """The key of one purpose at one generation: HKDF-SHA256 of SECRET_KEY, as 64 hex digits."""
    info = f"{KeyPurpose(purpose)}/{generation}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(secret_key.encode()).hex()


def generation(session: Session, purpose: KeyPurpose) -> int:
    """One purpose's generation as the database says now (0: never rotated)."""
    row = session.get(KeyGeneration, str(purpose))
    return row.generation if row is not None else 0


def bump(session: Session, purpose: KeyPurpose, now: datetime) -> int:
    """Advance one purpose's generation in the caller's transaction (a second rotation at the same time waits for
    the first); the new generation."""
    row = session.exec(select(KeyGeneration).where(KeyGeneration.purpose == str(purpose)).with_for_update()).first()
    row = row or KeyGeneration(purpose=str(purpose), generation=0, rotated_at=now)
    row.generation, row.rotated_at = row.generation + 1, now
    session.add(row)
    session.flush()
    return row.generation


@dataclass(frozen=True)
class Keys:
    """This process's keys: SECRET_KEY and the generations read when it started."""

    secret_key: str = field(repr=False)
    generations: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, secret_key: str, engine: Engine) -> "Keys":
        """The keys as the database says now (every purpose at 0 on a database not migrated yet)."""
        try:
            with Session(engine) as session:
                rows = session.exec(select(KeyGeneration)).all()
        except DBAPIError:
            if inspect(engine).has_table(KeyGeneration.__tablename__):
                raise  # the table is there: a failing database, not an old schema
            rows = []
        return cls(secret_key, {row.purpose: row.generation for row in rows})

    def generation(self, purpose: KeyPurpose) -> int:
        return self.generations.get(str(purpose), 0)

    def current(self, purpose: KeyPurpose) -> str:
        """The key this process signs with for one purpose."""
        return derive(self.secret_key, purpose, self.generation(purpose))

    def accepted(self, purpose: KeyPurpose) -> tuple[str, ...]:
        """The keys a token of this purpose may carry: the current one, and SECRET_KEY itself until the purpose's
        first rotation (tokens made before keys had purposes)."""
        current = self.current(purpose)
        return (current, self.secret_key) if self.generation(purpose) == 0 else (current,)
