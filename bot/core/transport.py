"""Channel adapters: one small interface, one vendor SDK per module."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class TemporaryError(Exception):
    """The provider may accept this later (rate limit, 5xx, timeout): retry with backoff, and not before
    `retry_after` seconds when the provider said so (its Retry-After); `status` is its HTTP status, if any."""

    def __init__(self, message: str = "", *, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after, self.status = retry_after, status


def retry_after_seconds(value: str | None, longest: float = 3600.0) -> float | None:
    """A Retry-After header given in seconds, bounded; None when absent or a date (the backoff applies then)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return None if seconds is None or seconds != seconds or seconds < 0 else min(seconds, longest)


class Unconfirmed(TemporaryError):
    """The request may have reached the provider, but no answer came back (a read timeout, a connection dropped
    after sending, a 5xx): the message may have gone out. The row is marked `unknown`, and a channel that can
    `find` what it sent is asked before the message is sent again."""


class PermanentError(Exception):
    """The provider will never accept this message as it is (bad address, blocked): mark it failed."""


class Refused(PermanentError):
    """The provider refuses the address itself: `opted_out` (it asked for nothing more, e.g. SMS STOP) or
    `unreachable` (not a number or mailbox this channel can reach). Recorded where the row is recorded
    (bot.service.delivery), which opts the address out or falls back to another channel."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Outgoing:
    """One message to deliver: where, what, and the key that makes a resend harmless."""

    channel: str
    address: dict  # e.g. {"line_user_id": ...} / {"phone": ...} / {"email": ...} / {"token": ...}
    payload: dict  # {"kind", "text", "buttons", "links"} from bot.core.messages
    idempotency_key: str
    locale: str = "ja"
    meta: dict = field(default_factory=dict)


class Channel(Protocol):
    """Deliver one message; return the provider's message id (or None)."""

    def send(self, message: Outgoing) -> str | None: ...


class Finder(Protocol):
    """A channel whose provider can say what it already took (Twilio lists the messages to a number)."""

    def find(self, message: Outgoing, since: datetime) -> list[str]:
        """The provider's ids of messages like this one to the same address since `since`, newest first."""
