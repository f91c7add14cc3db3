"""The form's rate limits ([protection] form_per_client, form_per_destination): so many applications per client
network, and per phone number or e-mail address, in fixed windows counted in bot.service.ratestore."""
from __future__ import annotations

import math
import time
from functools import lru_cache
from typing import Mapping

from limits import RateLimitItem, parse_many
from limits.strategies import FixedWindowRateLimiter

from bot.core.signing import mac_hex
from bot.service.deps import Services
from bot.service.ratestore import storage
from bot.service.refusals import network


@lru_cache(maxsize=16)
def _items(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


def take(svc: Services, limits: str, identities: list[tuple[str, ...]]) -> tuple[int, int | None]:
    """Count one application against each of `limits` for each identity: (0, None) when all allow it, else the
    seconds until the refusing windows end (for Retry-After) and which identity was refused. A refused application
    counts for none of them."""
    limiter = FixedWindowRateLimiter(storage(svc))
    items = _items(limits)
    for step in (limiter.test, limiter.hit):  # another process may take the last place between the two: hit says so
        for index, identity in enumerate(identities):
            refused = [item for item in items if not step(item, *identity)]
            if refused:
                now = time.time()
                wait = max(math.ceil(limiter.get_window_stats(item, *identity).reset_time - now) for item in refused)
                return max(1, wait), index
    return 0, None


def client_wait(svc: Services, client: str | None) -> int:
    """One more form post from this client's network (/24, /48): 0, or the seconds to wait."""
    return take(svc, svc.settings.protection.form_per_client, [("form-client", network(client) or "unknown")])[0]


def destination_wait(svc: Services, addresses: Mapping[str, str | None]) -> tuple[int, str | None]:
    """One more application to each address given ({column: address}, as validation normalised them): (0, None),
    or the seconds to wait and the address refused. The key is an HMAC of the address: no number is stored."""
    given: dict[str, str] = {}  # column -> the address as compared (e-mail: case-insensitive)
    for info in svc.addressed():
        address = addresses.get(info.address_field)
        if address and info.address_field not in given:
            given[info.address_field] = (info.address_key or str)(address)
    columns = list(given)
    identities = [("form-destination", mac_hex(svc.config.secret_key, f"form-destination:{column}:{given[column]}"))
                  for column in columns]
    wait, index = take(svc, svc.settings.protection.form_per_destination, identities)
    return wait, (addresses[columns[index]] if index is not None else None)
