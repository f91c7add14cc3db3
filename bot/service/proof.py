"""The form's proof of work ([protection] proof_of_work): ALTCHA, self-hosted. We sign a challenge, the browser's
widget (bot/static/vendor/altcha) finds its counter in web workers, and the form posts the solution, which is
good for one application, within minutes of the challenge.

A challenge hides a counter drawn below `proof_of_work_cost` (ALTCHA's deterministic mode): the browser hashes
SHA-256 from 0 upwards until it finds it, half the cost on average, never more than the cost; we check the
solution with one HMAC (the derived key's signature), never redoing the work.
"""
from __future__ import annotations

import base64
import json
import secrets
import time
from enum import StrEnum

from altcha import create_challenge, verify_solution

from bot.core.signing import mac_hex
from bot.service.deps import Services
from bot.service.ratestore import storage

ALGORITHM = "SHA-256"  # one SHA-256 a try: the widget's bundled worker (sha.js), no WebAssembly to allow
CHALLENGE_SECONDS = 600  # a challenge fetched when the form is sent is solved in seconds; ten minutes is lenient
LONGEST_PAYLOAD = 4096  # a real solution is ~700 characters


class Problem(StrEnum):
    """Why a form post's proof of work was refused (the form words each one)."""
    MISSING = "pow_missing"  # no solution: no JavaScript, or a script posting the form directly
    INVALID = "pow_invalid"  # not one we signed, or not solved
    EXPIRED = "pow_expired"
    REPLAYED = "pow_replayed"  # used for an application already


def _keys(svc: Services) -> tuple[str, str]:
    # Derived from SECRET_KEY for this purpose alone: the challenges' signatures, and the solved keys' signatures.
    secret = svc.config.secret_key
    return mac_hex(secret, "altcha:challenge", 64), mac_hex(secret, "altcha:derived-key", 64)


def challenge(svc: Services) -> dict:
    """A new signed challenge, as the widget reads it (JSON)."""
    challenge_key, key_key = _keys(svc)
    made = create_challenge(ALGORITHM, 1, counter=secrets.randbelow(svc.settings.protection.proof_of_work_cost),
                            expires_at=int(time.time()) + CHALLENGE_SECONDS,
                            hmac_secret=challenge_key, hmac_key_secret=key_key)
    return made.to_dict()


def check(svc: Services, payload: str | None) -> Problem | None:
    """Why this solution cannot post an application (None: it may, and it is now used up)."""
    if not payload:
        return Problem.MISSING
    if len(payload) > LONGEST_PAYLOAD:
        return Problem.INVALID
    challenge_key, key_key = _keys(svc)
    try:
        result = verify_solution(payload, challenge_key, hmac_key_secret=key_key)
    except (ValueError, TypeError, AttributeError):  # parameters no widget sends (the library reads most itself)
        return Problem.INVALID
    if result.expired:
        return Problem.EXPIRED
    if not result.verified:
        return Problem.INVALID
    signed = json.loads(base64.b64decode(payload))["challenge"]
    left = max(1, int(signed["parameters"]["expiresAt"] - time.time()) + 1)
    # Once per challenge, in every process: the first to count its signature wins; it is forgotten when it expires.
    if storage(svc).incr(f"altcha-used/{signed['signature']}", left) > 1:
        return Problem.REPLAYED
    return None
