"""Where the form's rate limits count, shared by every process: Redis when REDIS_URL is set, else the database.

Both are `limits` storages, so the library's fixed-window limiter reads and writes them. The database one keeps
each window's count in `rate_counter`: one `INSERT … ON CONFLICT DO UPDATE … RETURNING` per hit, atomic on
SQLite and PostgreSQL alike, so two web processes never both take the last place in a window.
"""
from __future__ import annotations

import logging
import threading
import time

from limits.errors import StorageError
from limits.storage import RedisStorage, Storage
from sqlalchemy import case, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.db.engine import one_statement
from bot.db.models import RateCounter
from bot.service.deps import Services

log = logging.getLogger("sokuresu.ratestore")
SWEEP_EVERY_S = 60.0  # expired windows are deleted at most once a minute per process
REDIS_TIMEOUT_S = 0.5  # a Redis that does not answer is left for the database this fast
_build = threading.Lock()


class DatabaseStorage(Storage):
    """A `limits` storage on the rate_counter table (fixed windows; times are the library's: time.time())."""

    def __init__(self, engine: Engine, clock=time.time):
        super().__init__()
        self.engine, self.clock, self.swept = engine, clock, 0.0
        self.insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add `amount` to the key's window, starting a new window when the last one is over; the new count."""
        now = self.clock()
        self._sweep(now)
        table = RateCounter.__table__
        over = table.c.expires_at <= now
        stmt = (self.insert(table).values(key=key, count=amount, expires_at=now + expiry)
                .on_conflict_do_update(index_elements=[table.c.key], set_={
                    # Both right-hand sides read the row as it was, so the window's end moves only with its count.
                    "count": case((over, literal(amount)), else_=table.c.count + amount),
                    "expires_at": case((over, literal(now + expiry)), else_=table.c.expires_at)})
                .returning(table.c.count))
        with one_statement(self.engine) as conn:
            return int(conn.execute(stmt).scalar_one())

    def get(self, key: str) -> int:
        table = RateCounter.__table__
        with self.engine.connect() as conn:
            count = conn.execute(select(table.c.count).where(table.c.key == key,
                                                             table.c.expires_at > self.clock())).scalar()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        table = RateCounter.__table__
        with self.engine.connect() as conn:
            expires = conn.execute(select(table.c.expires_at).where(table.c.key == key)).scalar()
        return float(expires) if expires is not None else self.clock()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(literal(1)))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with one_statement(self.engine) as conn:
            return conn.execute(delete(RateCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        with one_statement(self.engine) as conn:
            conn.execute(delete(RateCounter.__table__).where(RateCounter.__table__.c.key == key))

    def _sweep(self, now: float) -> None:
        """Delete windows that are over (a flood from many addresses leaves one row each)."""
        if now - self.swept < SWEEP_EVERY_S:
            return
        self.swept = now
        with one_statement(self.engine) as conn:
            conn.execute(delete(RateCounter.__table__).where(RateCounter.__table__.c.expires_at < now))


class Fallback(Storage):
    """Redis first; when it does not answer, the database (logged), so the form neither fails nor goes unlimited."""

    def __init__(self, primary: Storage, secondary: Storage):
        super().__init__()
        self.primary, self.secondary = primary, secondary

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        return (StorageError, SQLAlchemyError)

    def _either(self, method: str, *args):
        try:
            return getattr(self.primary, method)(*args)
        except StorageError as exc:
            log.error("rate-limit storage (Redis) unavailable, counting in the database: %s",
                      type(exc.storage_error).__name__)
            return getattr(self.secondary, method)(*args)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        return self._either("incr", key, expiry, amount)

    def get(self, key: str) -> int:
        return self._either("get", key)

    def get_expiry(self, key: str) -> float:
        return self._either("get_expiry", key)

    def check(self) -> bool:
        return self.primary.check()

    def reset(self) -> int | None:
        return self._either("reset")

    def clear(self, key: str) -> None:
        self._either("clear", key)


def build(redis_url: str | None, engine: Engine) -> Storage:
    """Redis (keys prefixed `sokuresu`, short timeouts, the database behind it) or the database alone."""
    database = DatabaseStorage(engine)
    if not redis_url:
        return database
    redis = RedisStorage(redis_url, key_prefix="sokuresu", wrap_exceptions=True,
                         socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S)
    return Fallback(redis, database)


def storage(svc: Services) -> Storage:
    """This process's rate-limit storage, made on first use from REDIS_URL and the database."""
    if svc.process.rates is None:
        with _build:
            if svc.process.rates is None:
                svc.process.rates = build(svc.config.redis_url, svc.engine)
    return svc.process.rates
