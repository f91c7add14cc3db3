"""[rate_limits] for the whole deployment: every process takes its places from one store, so the provider sees the
configured rate however many web and worker processes send, and a 429 seen by one slows them all.

The store is Redis when REDIS_URL is set, else the database (bot.service.sendstores); a store that fails is
skipped for a few seconds (logged once), and with none answering a send takes its place from this process's own
bucket (bot.service.ratelimit), so sending never stops for want of a place to count.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from sqlalchemy.engine import Engine

from bot.service.deps import Services
from bot.service.ratelimit import Limiter, is_rate_limited
from bot.service.sendstores import DatabaseRates, RedisRates

log = logging.getLogger("sokuresu.sendrates")
UNLIMITED = 1000.0  # a 429 on a channel without a limit slows it from this rate (as the local Limiter does)
LOOK_EVERY_S = 5.0  # how often a process asks whether another one's 429 slowed a channel without a limit
RETRY_STORE_S = 5.0  # a store that failed is left alone this long, so a hung Redis does not slow every send


class SharedLimiter:
    """The local Limiter's interface (reserve, refund, penalise) on state every process shares."""

    def __init__(self, rates: dict[str, float], stores: list, clock: Callable[[], float] = time.time):
        self.rates, self.stores, self.clock = dict(rates), stores, clock
        self.local = Limiter(rates, clock)  # when no store answers
        self.slowed: dict[str, float] = {}  # channels without a limit that a 429 slowed -> UNLIMITED
        self.looked: dict[str, float] = {}  # channel without a limit -> when this process last asked about it
        self.down: dict[str, float] = {}  # store name -> until when it is left alone

    def reserve(self, channel: str) -> float:
        """Take the channel's next place; return how many seconds to wait before sending (0 = now)."""
        now = self.clock()
        base = self._base(channel, now)
        if base is None:
            return 0.0
        burst = max(1.0, base)
        answered, got = self._ask("take", channel, now, base, burst)
        if not answered:
            return self.local.reserve(channel)
        before, rate = got
        return max(0.0, before - now - (burst - 1) / rate)

    def refund(self, channel: str) -> None:
        """Give back the place taken for a row that was not sent after all."""
        if channel in self.rates or channel in self.slowed:
            if not self._ask("give", channel, self.clock())[0]:
                self.local.refund(channel)

    def penalise(self, channel: str, exc: BaseException) -> None:
        """The provider said 429: halve the channel's rate and pause it for Retry-After (1 s without), everywhere."""
        if not is_rate_limited(exc):
            return
        base = self.rates.get(channel) or self.slowed.setdefault(channel, UNLIMITED)
        pause = getattr(exc, "retry_after", None) or 1.0
        if not self._ask("slow", channel, self.clock(), base, max(1.0, base), pause)[0]:
            self.local.penalise(channel, exc)

    def _base(self, channel: str, now: float) -> float | None:
        """The channel's configured rate; for one without a limit, UNLIMITED once some process's 429 slowed it."""
        if channel in self.rates:
            return self.rates[channel]
        if channel in self.slowed:
            return self.slowed[channel]
        if now - self.looked.get(channel, float("-inf")) < LOOK_EVERY_S:
            return None  # no round trip for a channel without a limit, bar one look every few seconds
        self.looked[channel] = now
        answered, held = self._ask("peek", channel, now)
        if answered and held is not None:
            tat, rate, stamp = held
            if tat > now or rate + 0.1 * UNLIMITED * max(0.0, now - stamp) < UNLIMITED:
                self.slowed[channel] = UNLIMITED
                return UNLIMITED
        return None

    def _ask(self, what: str, channel: str, now: float, *args) -> tuple[bool, object]:
        """Run one step on the first store that answers: (True, its answer), or (False, None) when none did."""
        for store in self.stores:
            if self.down.get(store.name, float("-inf")) > now:
                continue
            try:
                answer = getattr(store, what)(channel, now, *args)
            except store.errors as exc:
                if store.name not in self.down:  # once an outage, without the URL (it may hold a password)
                    log.error("send rates: the %s does not answer (%s); using %s", store.name, type(exc).__name__,
                              "the next store" if store is not self.stores[-1] else "this process's own buckets")
                self.down[store.name] = now + RETRY_STORE_S
                continue
            if self.down.pop(store.name, None) is not None:
                log.info("send rates: the %s answers again", store.name)
            return True, answer
        return False, None


def build(rates: dict[str, float], redis_url: str | None, engine: Engine,
          clock: Callable[[], float] = time.time) -> SharedLimiter:
    """Redis first when configured (the database behind it), else the database."""
    stores = [RedisRates(redis_url), DatabaseRates(engine)] if redis_url else [DatabaseRates(engine)]
    return SharedLimiter(rates, stores, clock)


def for_deployment(svc: Services) -> SharedLimiter:
    """The send rates this process shares with every other one of the deployment."""
    return build(svc.settings.rate_limits, svc.config.redis_url, svc.engine)
