"""Per-channel token buckets for the worker: a burst of reminders respects each provider's limit."""
from __future__ import annotations

import re
import threading
import time
from typing import Callable

from bot.core.transport import TemporaryError

_STATUS_429 = re.compile(r"^(?:[A-Za-z]+ )?429\b")
SLOWEST = 0.05  # after repeated 429s a channel still sends one message every 20 s


class RateLimited(TemporaryError):
    """The provider answered 429; `retry_after` seconds is its hint (None when it gave none)."""

    def __init__(self, message: str = "429 Too Many Requests", retry_after: float | None = None):
        super().__init__(message, retry_after=retry_after, status=429)


def is_rate_limited(exc: BaseException) -> bool:
    """True for our RateLimited and for SDK errors that carry an HTTP 429 status."""
    if isinstance(exc, RateLimited):
        return True
    if any(getattr(exc, name, None) == 429 for name in ("status", "status_code", "code")):
        return True
    return bool(_STATUS_429.match(str(exc)))  # adapters that only say it: "LINE 429: Too many requests"


class Bucket:
    """A token bucket: `rate` tokens a second, at most `burst` saved up; 429s halve the rate for a while."""

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.base = self.rate = rate
        self.burst = burst or max(1.0, rate)
        self.clock = clock
        self.tokens = self.burst
        self.stamp = clock()
        self.paused_until = 0.0
        self.lock = threading.Lock()

    def _refill(self, now: float) -> None:
        # A slowed channel creeps back to its configured rate: +10 % of the base each quiet second.
        self.rate = min(self.base, self.rate + 0.1 * self.base * max(0.0, now - self.stamp))
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def reserve(self) -> float:
        """Take one token; return how many seconds to wait before using it (0 = send now)."""
        with self.lock:
            now = self.clock()
            self._refill(now)
            self.tokens -= 1
            wait = max(0.0, -self.tokens / self.rate, self.paused_until - now)
            return wait

    def slow_down(self, retry_after: float | None = None) -> None:
        """The provider said 429: halve the rate and stop sending for `retry_after` (default 1 s)."""
        with self.lock:
            now = self.clock()
            self._refill(now)
            self.rate = max(SLOWEST, self.rate / 2)
            self.tokens = min(self.tokens, 0.0)
            self.paused_until = max(self.paused_until, now + (retry_after if retry_after else 1.0))


class Limiter:
    """One bucket per limited channel; channels without a limit never wait."""

    def __init__(self, rates: dict[str, float], clock: Callable[[], float] = time.monotonic):
        self.buckets = {name: Bucket(rate, clock=clock) for name, rate in rates.items()}

    def reserve(self, channel: str) -> float:
        bucket = self.buckets.get(channel)
        return bucket.reserve() if bucket else 0.0

    def refund(self, channel: str) -> None:
        """Give back a token taken for a row that was not sent after all."""
        bucket = self.buckets.get(channel)
        if bucket:
            with bucket.lock:
                bucket.tokens = min(bucket.burst, bucket.tokens + 1)

    def penalise(self, channel: str, exc: BaseException) -> None:
        """Slow the channel down when the provider said 429."""
        if is_rate_limited(exc):
            bucket = self.buckets.setdefault(channel, Bucket(1000.0))
            bucket.slow_down(getattr(exc, "retry_after", None))
