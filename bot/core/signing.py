"""Everything signed with SECRET_KEY: HMAC tokens and signed link values (nothing extra to store).

Links already sent must keep working, so each caller keeps its own message prefix or salt
("link:", "feed:", "outcome:", "recruiter-login"; salts "unsubscribe" and "candidate-page").
"""
from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, URLSafeSerializer


def mac(secret_key: str, message: str) -> bytes:
    """The HMAC-SHA256 of `message` under SECRET_KEY."""
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()


def mac_hex(secret_key: str, message: str, length: int = 32) -> str:
    """A stable, unguessable hex token for one purpose (its first `length` hex digits)."""
    return mac(secret_key, message).hex()[:length]


def sign(secret_key: str, salt: str, value: str) -> str:
    """`value` with a URL-safe signature for one purpose (`salt`): readable, but not forgeable."""
    return URLSafeSerializer(secret_key, salt=salt).dumps(value)


def unsign(secret_key: str, salt: str, signed: str) -> str | None:
    """The string inside a value `sign` made with this salt, or None when it was not signed so."""
    try:
        value = URLSafeSerializer(secret_key, salt=salt).loads(signed)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None
