"""The webhook only queues; the worker runs each queued event once, in order per user."""
from sqlmodel import Session, select

from bot.channels import Outgoing
from bot.models import Applicant, MessageLog, Outbox
from bot.outbox import claim, deliver
from tests.conftest import AUTH, application


def linked(line_user):
    res = line_user.client.post("/api/applications", headers=AUTH,
                                json=application(channel="line", line_user_id=line_user.user_id))
    line_user.inbox()
    return res.get_json()["id"]


def inbox_rows(svc):
    with Session(svc.engine) as s:
        return s.exec(select(Outbox).where(Outbox.channel == "line-inbox").order_by(Outbox.id)).all()


def test_the_webhook_answers_before_the_turn_runs(line_user, line_svc, fake_line):
    applicant_id = linked(line_user)
    calls = len(fake_line.requests)
    line_user.say("ヘルプ")
    [row] = inbox_rows(line_svc)
    assert row.status == "pending" and row.payload["event"]["text"] == "ヘルプ"
    assert len(fake_line.requests) == calls  # nothing sent yet: the worker has not run
    [[answer]] = line_user.inbox()
    assert "こんなふうに" in answer["text"] and inbox_rows(line_svc)[0].status == "sent"
    with Session(line_svc.engine) as s:
        assert s.get(Applicant, applicant_id).last_inbound_at is not None


def test_a_queued_event_run_twice_after_a_lease_takeover_has_one_effect(line_user, line_svc):
    linked(line_user)
    line_user.say("ヘルプ")
    [row] = inbox_rows(line_svc)
    message = Outgoing(row.channel, {}, row.payload, row.idempotency_key, meta={"outbox_id": row.id})
    inbox = line_svc.channels["line-inbox"]
    inbox.send(message)
    inbox.send(message)  # a second worker took the row over after the first died before marking it
    with Session(line_svc.engine) as s:
        assert len(s.exec(select(MessageLog).where(MessageLog.direction == "in")).all()) == 1
        assert len(s.exec(select(Outbox).where(Outbox.kind == "help")).all()) == 1


def test_a_users_later_event_waits_for_the_earlier_one_held_by_another_worker(line_user, line_svc):
    linked(line_user)
    line_user.say("他の日")
    line_user.say("ヘルプ")
    first, second = inbox_rows(line_svc)
    assert claim(line_svc, "worker-a", limit=1) == [first.id]   # worker A holds the first event
    assert claim(line_svc, "worker-b", limit=1) == [second.id]  # worker B must not overtake it
    assert deliver(line_svc, second.id, "worker-b") == "pending"
    assert deliver(line_svc, first.id, "worker-a") == "sent"
    line_svc.clock.advance(minutes=1)
    batches = line_user.inbox()
    assert "ご希望の日" in batches[0][0]["text"] and "こんなふうに" in batches[1][0]["text"]
