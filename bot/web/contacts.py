"""What the recruiter page says about reaching each applicant: opted-out addresses and why, the channel
used instead, and the other applications of the same person."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from bot.db.models import Applicant, ContactOptOut
from bot.service import optouts
from bot.service.deps import Services
from bot.service.people import applications

LOCALE = "ja"  # the recruiter page's language


def channel_label(svc: Services, channel: str) -> str:
    """The channel's name on the recruiter page, as the channel declares it."""
    info = svc.channel_info.get(channel)
    return info.label.get(LOCALE, channel) if info is not None else channel


@dataclass
class ContactNote:
    via: str | None  # the channel messages go by now; None when every address opted out
    via_label: str = "送信先なし"  # the recruiter page's name for it
    stopped: list[str] = field(default_factory=list)  # e.g. "SMS停止中 (STOP 2026-11-30)"
    ordinal: int = 1  # this is the person's n-th application
    others: list[int] = field(default_factory=list)  # the person's other applications, oldest first


def _label(row: ContactOptOut, svc: Services) -> str:
    date = row.created_at.astimezone(svc.settings.tz).strftime("%Y-%m-%d")
    info = svc.channel_info.get(row.channel)
    declared = info.stopped_labels.get(row.reason) if info is not None else None
    return (declared or f"{channel_label(svc, row.channel)}停止中 ({row.reason} {{date}})").format(date=date)


def contact_notes(session: Session, svc: Services, applicants: list[Applicant]) -> dict[int, ContactNote]:
    """For each applicant on the page, in two statements whatever their number."""
    optouts.look_up(session, [pair for x in applicants for pair in optouts.addresses(svc, x)])
    people = applications(session, sorted({a.person_id or a.id for a in applicants}))
    notes = {}
    for a in applicants:
        out = optouts.stopped(session, svc, a)  # answered from the look-up above
        ids = people.get(a.person_id or a.id, [a.id])
        via = optouts.channel_for(session, svc, a)
        notes[a.id] = ContactNote(via=via, via_label=channel_label(svc, via) if via else "送信先なし",
                                  stopped=[_label(row, svc) for _, row in sorted(out.items())],
                                  ordinal=ids.index(a.id) + 1 if a.id in ids else 1,
                                  others=[i for i in ids if i != a.id])
    return notes
