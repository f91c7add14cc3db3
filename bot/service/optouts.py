"""Opt-outs belong to the address: a phone that sent STOP, a LINE user who blocked us, an e-mail address
that unsubscribed gets nothing more on that channel, from any application, until the person opts back in
from that very address (START or 配信再開 by SMS, following us again on LINE, the re-subscribe button or
配信再開 in their own chat for e-mail)."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, delete, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core.channelinfo import ChannelInfo
from bot.core.vocab import Kind, OptOutReason
from bot.db.models import Applicant, ContactOptOut
from bot.service.deps import Services

EXEMPT_KINDS = (Kind.STOPPED, Kind.ALERT)  # the acknowledgement of this very opt-out, and the recruiter's own alerts
CACHE = "opt_outs"  # session.info: {(channel, address): ContactOptOut | None} looked up in this transaction


def address_channels(svc: Services) -> list[str]:
    """The channels that write to an address of the candidate's, so an opt-out can stop them."""
    return [info.name for info in svc.addressed()]


def address_of(svc: Services, applicant: Applicant | None, channel: str) -> str | None:
    """The applicant's address on a channel, normalised as opt-outs are stored; None without one."""
    info = svc.channel_info.get(channel)
    address = info.address(applicant) if info is not None else None
    return info.address_key(address) if address and info.address_key is not None else address


def _cache(session: Session) -> dict:
    return session.info.setdefault(CACHE, {})


def look_up(session: Session, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], ContactOptOut]:
    """The opt-outs among these (channel, address) pairs, in one statement; remembered for the transaction."""
    cache = _cache(session)
    wanted = sorted({p for p in pairs if p[1] and p not in cache})
    if wanted:
        for pair in wanted:
            cache[pair] = None
        by_channel: dict[str, list[str]] = {}
        for channel, address in wanted:
            by_channel.setdefault(channel, []).append(address)
        query = select(ContactOptOut).where(or_(*(and_(ContactOptOut.channel == c, ContactOptOut.address.in_(a))
                                                  for c, a in by_channel.items())))
        for row in session.exec(query):
            cache[(row.channel, row.address)] = row
    return {p: cache[p] for p in pairs if p[1] and cache.get(p) is not None}


def addresses(svc: Services, applicant: Applicant) -> list[tuple[str, str]]:
    """The (channel, address) pairs the applicant gave."""
    return [(c, a) for c in address_channels(svc) if (a := address_of(svc, applicant, c))]


def stopped(session: Session, svc: Services, applicant: Applicant) -> dict[str, ContactOptOut]:
    """The applicant's addresses that opted out, by channel."""
    pairs = addresses(svc, applicant)
    return {c: row for (c, _), row in look_up(session, pairs).items()}


def is_stopped(session: Session, channel: str, address: str | None) -> ContactOptOut | None:
    """This address's opt-out, or None when it may be written to (a channel without addresses never has one)."""
    if not address:
        return None
    return look_up(session, [(channel, address)]).get((channel, address))


def opt_out(session: Session, channel: str, address: str | None, reason: OptOutReason, now: datetime) -> None:
    """Record that this address wants nothing more on this channel (kept if it already does)."""
    if not address or is_stopped(session, channel, address):
        return
    row = ContactOptOut(channel=channel, address=address, reason=reason.value, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent turn recorded the same address
        row = session.exec(select(ContactOptOut).where(ContactOptOut.channel == channel,
                                                       ContactOptOut.address == address)).first()
    _cache(session)[(channel, address)] = row


def opt_in(session: Session, channel: str, address: str | None) -> bool:
    """The person opted back in from this address; True when it had opted out."""
    if not address:
        return False
    cache = _cache(session)
    if (channel, address) in cache and cache[(channel, address)] is None:
        return False  # looked up (or deleted) in this transaction already: nothing to delete
    cache[(channel, address)] = None
    query = delete(ContactOptOut).where(ContactOptOut.channel == channel, ContactOptOut.address == address)
    return session.execute(query, execution_options={"synchronize_session": False}).rowcount > 0


def channel_for(session: Session, svc: Services, applicant: Applicant) -> str | None:
    """Where a message to the applicant goes: their own channel (the stand-in chat without a transport) unless
    its address opted out, else `fallback`; None when every address they gave opted out."""
    own = svc.channel_info.get(applicant.channel) or ChannelInfo(applicant.channel)
    # An application of a channel linked by code, without its address or a code, has lost it to a newer application.
    has_own = not own.links_by_code or own.address(applicant) or applicant.link_code
    if has_own and not is_stopped(session, own.name, address_of(svc, applicant, own.name)):  # most turns: one look
        return own.name if svc.enabled(own.name) else svc.stand_in
    return fallback(session, svc, applicant, own.name)


def fallback(session: Session, svc: Services, applicant: Applicant, instead_of: str) -> str | None:
    """Another channel the person gave an address for, not opted out, in the channels' fallback order: one with a
    transport, or the stand-in chat for a channel that falls back to it; None when there is none."""
    out = stopped(session, svc, applicant)
    ranked = sorted((i for i in svc.addressed() if i.fallback_rank is not None), key=lambda i: i.fallback_rank)
    for info in ranked:
        if info.name == instead_of or info.name in out or not info.address(applicant):
            continue
        if svc.enabled(info.name):
            return info.name
        if info.falls_back_to_stand_in:
            return svc.stand_in
    return None


def row_address(svc: Services, applicant: Applicant | None, channel: str, payload: dict) -> str | None:
    """The address an outbox row goes to (a LINE friend without an application is named in the payload)."""
    info = svc.channel_info.get(channel)
    to = payload.get(info.payload_to) if info is not None and info.payload_to else None
    return address_of(svc, applicant, channel) or to


def refusal(row: ContactOptOut, channel: str) -> str:
    """The outbox row's last_error when a send is refused for an opted-out address."""
    return f"not sent: the {channel} address opted out ({row.reason}, {row.created_at:%Y-%m-%d})"
