"""Secret links and form tokens derived from SECRET_KEY (nothing extra to store or configure)."""
from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

from bot.core.signing import mac_hex


def feed_token(secret_key: str, interviewer_id: str) -> str:
    return mac_hex(secret_key, f"feed:{interviewer_id}")


def csrf_token() -> str:
    """The form token of this browser session (created on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse a form post whose token does not match the session's."""
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "the form expired or came from another site; please reload the page and try again")
