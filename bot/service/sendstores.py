"""Where the deployment's send rates are kept (bot.service.sendrates): a row per channel, or a Redis hash.

Both keep GCRA state: `tat`, the theoretical arrival time of the next message, the current `rate` (halved by a 429,
creeping back by 10 % of the base each quiet second, as the local Bucket does) and the `stamp` of the last change.
Every change is ONE atomic step (an upsert with RETURNING, or a Lua script), so two processes never both take the
same place. Times are the caller's clock (time.time: the one every process agrees on), passed in as `now`.
"""
from __future__ import annotations

import redis
from sqlalchemy import Float, case, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.db.engine import one_statement
from bot.db.models import SendRate
from bot.service.ratelimit import SLOWEST

REDIS_TIMEOUT_S = 0.5  # a Redis that does not answer is left for the database this fast
PREFIX = "sokuresu:send_rate:"


def _least(a, b):
    return case((a < b, a), else_=b)


def _greatest(a, b):
    return case((a > b, a), else_=b)


class DatabaseRates:
    """The send_rate table, on SQLite and PostgreSQL alike."""

    name = "database"
    errors = (SQLAlchemyError,)

    def __init__(self, engine: Engine):
        self.engine = engine
        self.insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def take(self, channel: str, now: float, base: float, burst: float) -> tuple[float, float]:
        """Take the next place; return when it is (before the burst allowance) and the rate it was taken at."""
        t, now_ = SendRate.__table__, literal(now, Float)
        rate = self._crept(now_, base)
        tat, rate = self._upsert(channel, {"tat": now + 1 / base, "rate": base, "stamp": now},
                                 {"tat": _greatest(t.c.tat, now_) + 1.0 / rate, "rate": rate, "stamp": now_})
        return tat - 1 / rate, rate

    def give(self, channel: str, now: float) -> None:
        """Hand back the place last taken."""
        t = SendRate.__table__
        with one_statement(self.engine) as conn:
            conn.execute(update(t).where(t.c.channel == channel).values(tat=t.c.tat - 1.0 / t.c.rate))

    def slow(self, channel: str, now: float, base: float, burst: float, pause: float) -> None:
        """A 429: halve the rate and move the next place to after the pause, the burst allowance spent."""
        t, now_ = SendRate.__table__, literal(now, Float)
        first = max(SLOWEST, base / 2)
        rate = _greatest(literal(SLOWEST, Float), self._crept(now_, base) / 2)
        self._upsert(channel, {"tat": now + pause + (burst - 1) / first, "rate": first, "stamp": now},
                     {"tat": _greatest(t.c.tat, now_ + pause + (burst - 1) / rate), "rate": rate, "stamp": now_})

    def peek(self, channel: str, now: float) -> tuple[float, float, float] | None:
        """The channel's (tat, rate, stamp), or None when nothing was kept for it."""
        t = SendRate.__table__
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.tat, t.c.rate, t.c.stamp).where(t.c.channel == channel)).first()
        return tuple(row) if row else None

    def _crept(self, now_, base: float):
        """The rate as it is now: back up by 10 % of the base a second since the last change, never above it."""
        t = SendRate.__table__
        return _least(literal(base, Float), t.c.rate + 0.1 * base * _greatest(literal(0.0, Float), now_ - t.c.stamp))

    def _upsert(self, channel: str, first: dict, change: dict) -> tuple[float, float]:
        # Every right-hand side reads the row as it was, so tat moves with the rate it was taken at.
        t = SendRate.__table__
        stmt = (self.insert(t).values(channel=channel, **first)
                .on_conflict_do_update(index_elements=[t.c.channel], set_=change).returning(t.c.tat, t.c.rate))
        with one_statement(self.engine) as conn:
            tat, rate = conn.execute(stmt).one()
        return float(tat), float(rate)


# The same steps in Redis. Numbers go out as %.17g strings: Lua's own tostring keeps 14 digits, a millisecond of
# an epoch time. A hash left alone for a minute after its last place is no different from none, so it expires.
_SCRIPT = """
local what, base, burst, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local pause, slowest = tonumber(ARGV[5]), tonumber(ARGV[6])
local function f(x) return string.format('%.17g', x) end
local held = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'stamp')
if what == 'give' then
  if held[1] then redis.call('HSET', KEYS[1], 'tat', f(tonumber(held[1]) - 1 / tonumber(held[2]))) end
  return nil
end
local tat, rate, stamp = tonumber(held[1]) or now, tonumber(held[2]) or base, tonumber(held[3]) or now
rate = math.min(base, rate + 0.1 * base * math.max(0, now - stamp))
local before = math.max(tat, now)
if what == 'take' then
  tat = before + 1 / rate
else
  rate = math.max(slowest, rate / 2)
  tat = math.max(tat, now + pause + (burst - 1) / rate)
end
redis.call('HSET', KEYS[1], 'tat', f(tat), 'rate', f(rate), 'stamp', f(now))
redis.call('EXPIRE', KEYS[1], math.ceil(math.max(0, tat - now)) + 60)
return {f(before), f(rate)}
"""


class RedisRates:
    """A hash per channel (`sokuresu:send_rate:<channel>`), changed by one Lua script."""

    name = "Redis"
    errors = (redis.RedisError,)

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S)
        self.script = self.client.register_script(_SCRIPT)

    def take(self, channel: str, now: float, base: float, burst: float) -> tuple[float, float]:
        before, rate = self._run("take", channel, now, base, burst, 0.0)
        return float(before), float(rate)

    def give(self, channel: str, now: float) -> None:
        self._run("give", channel, now, 1.0, 1.0, 0.0)

    def slow(self, channel: str, now: float, base: float, burst: float, pause: float) -> None:
        self._run("slow", channel, now, base, burst, pause)

    def peek(self, channel: str, now: float) -> tuple[float, float, float] | None:
        held = self.client.hmget(PREFIX + channel, "tat", "rate", "stamp")
        return tuple(float(v) for v in held) if held[0] is not None else None

    def _run(self, what: str, channel: str, now: float, base: float, burst: float, pause: float):
        return self.script(keys=[PREFIX + channel], args=[what, repr(base), repr(burst), repr(now), repr(pause),
                                                          repr(SLOWEST)])
