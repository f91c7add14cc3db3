"""A person's reply from the inbox goes as LINE's free reply when it can: to the candidate's latest event while its
reply token is fresh and nothing has answered it yet (a candidate writing while a person has the conversation
gets no answer from the bot, so their token is still unused); otherwise it is pushed and counts against the plan."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bot.db.models import Applicant, InboxItem, Outbox
from bot.service.deps import Services

FRESH = timedelta(seconds=45)  # inside the adapter's 50 s (LINE: use a token within a minute), with time to send


def unused_reply(session: Session, svc: Services, applicant: Applicant) -> dict | None:
    """The reply token of the candidate's latest LINE event, while it is fresh and unused; else None."""
    if not applicant.line_user_id:
        return None
    since = svc.clock() - FRESH
    latest = session.exec(select(InboxItem).where(InboxItem.channel == "line",
                                                  InboxItem.sender == applicant.line_user_id,
                                                  InboxItem.created_at >= since)
                          .order_by(InboxItem.id.desc())).first()
    if latest is None:
        return None
    event = (latest.payload or {}).get("event") or {}  # as bot.channels.line.inbound keeps it
    if not event.get("reply_token") or not event.get("at"):
        return None
    answer = {"token": event["reply_token"], "at": event["at"]}  # inbound.reply_to's shape
    sent = session.exec(select(Outbox.payload).where(Outbox.applicant_id == applicant.id, Outbox.channel == "line",
                                                     Outbox.created_at >= since)).all()
    if any(((p or {}).get("reply_to") or {}).get("token") == answer["token"] for p in sent):
        return None  # the bot answered that event already: the token is spent
    return answer
