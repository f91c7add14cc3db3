"""An SMS whose send heard no answer (a timeout, a 5xx, a worker killed before it wrote the answer) is `unknown`:
Twilio's status callback or its list of messages says whether it went out before it is ever sent again."""
from __future__ import annotations

import time
from datetime import timedelta

from sqlmodel import Session, select

from bot.db.engine import session_scope
from bot.db.models import MessageLog, Outbox
from bot.service.delivery import LEASE, claim, prepare
from bot.service.delivery_record import UNSURE_WAIT
from tests.conftest import stored_outbox


def _greeting(svc, applicant_id) -> Outbox:
    return stored_outbox(svc, applicant_id, kind="greeting")[0]


def _greetings(fake, number) -> list:
    return [c for c in fake.to(number) if "ご応募ありがとうございます" in c.body]


def _after_the_wait(clock):
    clock.advance(seconds=UNSURE_WAIT.total_seconds() + 1)


def _logged_out(svc, row_id) -> int:
    with Session(svc.engine) as s:
        return len(s.exec(select(MessageLog).where(MessageLog.outbox_id == row_id)).all())


def test_a_send_that_timed_out_is_looked_up_and_not_sent_again(phone, sms_svc, fake_twilio, clock):
    fake_twilio.failures.append(("sleep", 2.0))  # Twilio takes 2 s and creates it; the client gave up after 1 s
    phone.apply()
    phone.inbox()
    row = _greeting(sms_svc, phone.id)
    assert row.status == "unknown" and "did not answer" in row.last_error and row.provider_message_id is None
    assert row.due_at >= clock.now + UNSURE_WAIT  # not asked at once: Twilio may still be working on it
    deadline = time.monotonic() + 5
    while not _greetings(fake_twilio, phone.number):  # the hung request completes on Twilio's side
        assert time.monotonic() < deadline
        time.sleep(0.05)
    _after_the_wait(clock)
    phone.inbox()
    row, [sms] = _greeting(sms_svc, phone.id), _greetings(fake_twilio, phone.number)
    assert row.status == "sent" and row.provider_message_id == sms.sid and fake_twilio.lists == 1
    assert _logged_out(sms_svc, row.id) == 1  # the conversation shows it once


def test_a_500_after_twilio_created_the_message_is_not_sent_twice(phone, sms_svc, fake_twilio, clock):
    fake_twilio.failures.append(("created", 500))
    phone.apply()
    phone.inbox()
    assert _greeting(sms_svc, phone.id).status == "unknown"
    _after_the_wait(clock)
    phone.inbox()
    [sms] = _greetings(fake_twilio, phone.number)
    assert _greeting(sms_svc, phone.id).provider_message_id == sms.sid


def test_a_500_before_anything_was_created_is_sent_once_after_the_look_up(phone, sms_svc, fake_twilio, clock):
    fake_twilio.failures.append((500, 20500, "Internal Server Error"))
    phone.apply()
    phone.inbox()
    assert _greetings(fake_twilio, phone.number) == []
    _after_the_wait(clock)
    phone.inbox()
    [sms] = _greetings(fake_twilio, phone.number)
    row = _greeting(sms_svc, phone.id)
    assert row.status == "sent" and row.provider_message_id == sms.sid and row.attempts == 2


def test_a_refused_connection_never_reached_twilio_and_is_simply_retried(phone, sms_svc, fake_twilio, clock):
    sms_svc.channels["sms"].client.http_client.origin = "http://127.0.0.1:9"  # nothing listens there
    phone.apply()
    phone.inbox()
    assert _greeting(sms_svc, phone.id).status == "pending"  # nothing to ask Twilio about


def test_the_status_callback_settles_a_send_that_heard_no_answer(phone, sms_svc, fake_twilio, clock):
    fake_twilio.failures.append(("created", 500))
    phone.apply()
    phone.inbox()
    row = _greeting(sms_svc, phone.id)
    [sms] = _greetings(fake_twilio, phone.number)
    assert sms.form["StatusCallback"].endswith(f"/webhooks/twilio/status?row={row.id}")
    assert phone.report(sms.sid, "sent", row=row.id).status_code == 204
    row = _greeting(sms_svc, phone.id)
    assert row.status == "sent" and row.provider_message_id == sms.sid and row.delivery_status == "sent"
    assert _logged_out(sms_svc, row.id) == 1
    _after_the_wait(clock)
    phone.inbox()
    assert len(_greetings(fake_twilio, phone.number)) == 1 and fake_twilio.lists == 0  # nothing left to ask


def test_a_callback_cannot_give_an_answered_row_another_message(phone, sms_svc, fake_twilio):
    phone.apply()
    phone.inbox()
    row = _greeting(sms_svc, phone.id)
    assert phone.report("SM" + "7" * 32, "delivered", row=row.id).status_code == 204
    after = _greeting(sms_svc, phone.id)
    assert after.provider_message_id == row.provider_message_id and after.delivery_status is None


def test_a_row_taken_over_from_a_killed_worker_is_looked_up_first(phone, sms_svc, fake_twilio, clock):
    phone.apply()
    claimed = claim(sms_svc, "killed-worker")
    with session_scope(sms_svc.engine) as s:  # the killed worker's send reached Twilio; its answer was never written
        ready = prepare(s, sms_svc, s.get(Outbox, min(claimed)))
    sid = sms_svc.channels["sms"].send(ready.message)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    phone.inbox()
    row = _greeting(sms_svc, phone.id)
    assert row.status == "sent" and row.provider_message_id == sid and row.attempts == 2
    assert len(_greetings(fake_twilio, phone.number)) == 1 and fake_twilio.lists == 2  # the greeting and its follow-up


def test_the_same_words_sent_for_another_row_are_not_taken_for_this_one(phone, sms_svc, fake_twilio, clock):
    phone.apply()
    phone.inbox()
    with session_scope(sms_svc.engine) as s:  # two answers with the same words, a minute apart
        rows = [Outbox(applicant_id=phone.id, channel="sms", kind="help", payload={"kind": "help", "text": "同じ言葉"},
                       due_at=clock.now + timedelta(minutes=n), created_at=clock.now) for n in (0, 1)]
        s.add_all(rows)
        s.flush()
        first, second = (r.id for r in rows)
    phone.inbox()
    clock.advance(minutes=1)
    fake_twilio.failures.append((500, 20500, "Internal Server Error"))  # the second never reaches a phone
    phone.inbox()
    _after_the_wait(clock)
    phone.inbox()
    with Session(sms_svc.engine) as s:
        one, two = s.get(Outbox, first), s.get(Outbox, second)
    assert two.status == "sent" and two.provider_message_id != one.provider_message_id
    assert [c.sid for c in fake_twilio.to(phone.number) if c.body == "同じ言葉"] == [one.provider_message_id,
                                                                                  two.provider_message_id]
