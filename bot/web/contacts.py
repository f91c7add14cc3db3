"""What the recruiter page says about reaching each applicant: opted-out addresses and why, the channel
used instead, and the other applications of the same person."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from bot.service import optouts
from bot.service.deps import Services
from bot.db.models import Applicant, ContactOptOut
from bot.service.people import applications

CHANNEL_LABELS = {"sms": "SMS", "email": "メール", "line": "LINE", "sandbox": "Webチャット"}
STOPPED = {("sms", "stop_word"): "SMS停止中 (STOP {date})", ("sms", "carrier"): "SMS停止中 (通信会社でSTOP {date})",
           ("line", "blocked"): "LINEブロック中 ({date})", ("line", "stop_word"): "LINE配信停止中 (配信停止 {date})",
           ("email", "unsubscribed"): "メール配信停止中 (配信停止リンク {date})",
           ("email", "stop_word"): "メール配信停止中 (配信停止 {date})"}


@dataclass
class ContactNote:
    via: str | None  # the channel messages go by now; None when every address opted out
    stopped: list[str] = field(default_factory=list)  # e.g. "SMS停止中 (STOP 2026-11-30)"
    ordinal: int = 1  # this is the person's n-th application
    others: list[int] = field(default_factory=list)  # the person's other applications, oldest first

    @property
    def via_label(self) -> str:
        return CHANNEL_LABELS.get(self.via, self.via) if self.via else "送信先なし"


def _label(row: ContactOptOut, svc: Services) -> str:
    date = row.created_at.astimezone(svc.settings.tz).strftime("%Y-%m-%d")
    default = f"{CHANNEL_LABELS.get(row.channel, row.channel)}停止中 ({row.reason} {{date}})"
    return STOPPED.get((row.channel, row.reason), default).format(date=date)


def contact_notes(session: Session, svc: Services, applicants: list[Applicant]) -> dict[int, ContactNote]:
    """For each applicant on the page, in two statements whatever their number."""
    optouts.look_up(session, [(c, a) for x in applicants for c in optouts.ADDRESS_CHANNELS
                              if (a := optouts.address_of(x, c))])
    people = applications(session, sorted({a.person_id or a.id for a in applicants}))
    notes = {}
    for a in applicants:
        out = optouts.stopped(session, a)  # answered from the look-up above
        ids = people.get(a.person_id or a.id, [a.id])
        notes[a.id] = ContactNote(via=optouts.channel_for(session, svc, a),
                                  stopped=[_label(row, svc) for _, row in sorted(out.items())],
                                  ordinal=ids.index(a.id) + 1 if a.id in ids else 1,
                                  others=[i for i in ids if i != a.id])
    return notes
