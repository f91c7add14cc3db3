"""Opt-outs of people whose data was erased, kept as keyed hashes.

An address that told us to stop must not be written to again if it comes back (a new application with the same
phone or e-mail): that is why the opt-out outlives the erasure (APPI and GDPR allow keeping what is needed to honour
an objection). It is kept as an HMAC of the address under SECRET_KEY, so the table no longer says whose it was,
and a guess of a phone number cannot be checked without the key. When the address appears in a new application
the plain opt-out is written again (`recall`), and everything that reads opt-outs works as before.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session

from bot.core.signing import mac_hex
from bot.db.models import Applicant, ContactOptOut
from bot.service import optouts
from bot.service.deps import Services

PREFIX = "erased:"  # an address column holding a hash, never a real address (no address has this form)


def hashed(svc: Services, channel: str, address: str) -> str:
    """The keyed hash an erased opt-out of this address is kept as (changing SECRET_KEY forgets them all)."""
    return PREFIX + mac_hex(svc.keys.secret_key, f"erased-opt-out:{channel}:{address}", 64)


def hash_opt_outs(session: Session, svc: Services, applicants: list[Applicant]) -> int:
    """Replace the opt-outs of these applications' addresses by their hashes; how many."""
    count = 0
    pairs = {pair for a in applicants for pair in optouts.addresses(svc, a)}
    for (channel, address), row in optouts.look_up(session, sorted(pairs)).items():
        session.execute(update(ContactOptOut).where(ContactOptOut.id == row.id)
                        .values(address=hashed(svc, channel, address)),
                        execution_options={"synchronize_session": False})
        session.info.setdefault(optouts.CACHE, {})[(channel, address)] = None
        count += 1
    return count


def recall(session: Session, svc: Services, applicant: Applicant) -> int:
    """A new application gave an address whose person was erased after opting out: opt it out again, in clear.

    One look-up for every address, in clear and hashed, which also answers the turn's later questions of whether
    an address of the applicant's opted out (bot.service.optouts remembers them for the transaction)."""
    clear = optouts.addresses(svc, applicant)
    erased = {(channel, hashed(svc, channel, address)): (channel, address) for channel, address in clear}
    rows = optouts.look_up(session, [*clear, *erased])
    cache = session.info.setdefault(optouts.CACHE, {})
    found = 0
    for key, (channel, address) in erased.items():
        row = rows.get(key)
        if row is None:
            continue
        cache[key] = None
        if rows.get((channel, address)) is not None:
            session.delete(row)  # opted out again since, in clear: one row is enough
        else:
            row.address = address
            session.add(row)
            cache[(channel, address)] = row
        found += 1
    if found:
        session.flush()
    return found
