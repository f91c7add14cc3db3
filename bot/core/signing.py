"""Everything signed with a purpose's key (bot.service.keys): HMAC tokens and signed link values (nothing extra
to store).

Links already sent must keep working, so each caller keeps its own message prefix or salt
("link:", "feed:", "outcome:"; salts "unsubscribe" and "candidate-page"), and a check takes
every key a token may have been signed with (`Keys.accepted`).
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Iterable

from itsdangerous import BadData, URLSafeSerializer


def mac(secret_key: str, message: str) -> bytes:
    """The HMAC-SHA256 of `message` under a key."""
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()


def mac_hex(secret_key: str, message: str, length: int = 32) -> str:
    """A stable, unguessable hex token for one purpose (its first `length` hex digits)."""
    return mac(secret_key, message).hex()[:length]


def matches(given: str, expected: Iterable[str]) -> bool:
    """Whether `given` is one of the expected tokens, each compared in constant time (as bytes: a token from a URL
    may hold any character, which compare_digest refuses in a str)."""
    given_bytes = given.encode("utf-8", "surrogatepass")
    return any([hmac.compare_digest(given_bytes, token.encode()) for token in expected])


def sign(secret_key: str, salt: str, value: str) -> str:
    """`value` with a URL-safe signature for one purpose (`salt`): readable, but not forgeable."""
    return URLSafeSerializer(secret_key, salt=salt).dumps(value)


def unsign(keys: str | Iterable[str], salt: str, signed: str) -> str | None:
    """The string inside a value `sign` made with this salt under one of `keys`, or None when it was not."""
    for key in [keys] if isinstance(keys, str) else keys:
        try:
            value = URLSafeSerializer(key, salt=salt).loads(signed)
        except BadData:
            continue
        return value if isinstance(value, str) else None
    return None
