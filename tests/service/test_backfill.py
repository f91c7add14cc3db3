"""Reminders written again for a booking never double what is still waiting (found by the browser pass: a LINE
block and re-follow gave the recruiter two 'record the outcome' requests for one interview)."""
from __future__ import annotations

from sqlmodel import Session, select, update

from bot.core.vocab import RECRUITER_CHANNEL, Kind, OutboxStatus
from bot.db.models import Outbox
from bot.service.followups import backfill
from tests.conftest import Chat


def test_backfill_after_the_candidates_rows_were_cancelled_keeps_one_outcome_request(client, svc, clock):
    chat = Chat(client, svc)
    chat.apply()
    chat.replies()
    chat.say("1")
    chat.replies()
    with Session(svc.engine) as s:  # what a LINE block does: the candidate's rows go, the recruiter's stay
        s.execute(update(Outbox).where(Outbox.channel != RECRUITER_CHANNEL, Outbox.status == OutboxStatus.PENDING)
                  .values(status=OutboxStatus.CANCELLED))
        s.commit()
    clock.advance(minutes=2)
    assert backfill(svc) > 0  # the reminders come back
    with Session(svc.engine) as s:
        waiting = s.exec(select(Outbox.kind).where(Outbox.status == OutboxStatus.PENDING)).all()
    assert waiting.count(Kind.OUTCOME_REQUEST) == 1
    assert waiting.count(Kind.REMINDER_SOON) + waiting.count(Kind.REMINDER_DAY_BEFORE) >= 1
