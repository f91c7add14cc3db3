"""The outbox worker: due rows only, retries with backoff, permanent failures, leases, never twice."""
from datetime import timedelta

from sqlmodel import Session, select

from bot.core.transport import PermanentError
from bot.db.engine import session_scope
from bot.db.models import Applicant, MessageLog, Outbox
from bot.service.delivery import LEASE, claim, deliver, run_once
from bot.service.delivery_record import MAX_ATTEMPTS
from tests.conftest import RecordingChannel


class FlakyChannel(RecordingChannel):
    """Fails the first `failures` sends with a temporary error, then works."""

    def __init__(self, failures=1, error=ConnectionError("provider answered 503")):
        super().__init__()
        self.failures, self.error, self.calls = failures, error, 0

    def send(self, message):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return super().send(message)


def add_row(svc, channel="fake", due_in=timedelta(0), kind="greeting", opted_out=False):
    with session_scope(svc.engine) as s:
        a = Applicant(name="テスト 太郎", channel="sms", job_id="bakery-staff", opted_out=opted_out,
                      created_at=svc.clock(), updated_at=svc.clock())
        s.add(a)
        s.flush()
        row = Outbox(applicant_id=a.id, channel=channel, kind=kind, payload={"kind": kind, "text": "こんにちは"},
                     due_at=svc.clock() + due_in, created_at=svc.clock())
        s.add(row)
        s.flush()
        return row.id


def get(svc, row_id):
    with Session(svc.engine) as s:
        return s.get(Outbox, row_id)


def test_a_due_row_is_sent_once_and_logged(svc):
    svc.channels["fake"] = fake = RecordingChannel()
    row_id = add_row(svc)
    assert run_once(svc, "w1") == 1
    assert run_once(svc, "w1") == 0
    row = get(svc, row_id)
    assert row.status == "sent" and row.provider_message_id == "fake-1" and row.sent_at == svc.clock()
    assert len(fake.sent) == 1 and fake.sent[0].idempotency_key == row.idempotency_key
    with Session(svc.engine) as s:
        assert s.exec(select(MessageLog).where(MessageLog.outbox_id == row_id)).one().direction == "out"


def test_a_row_due_later_waits_for_its_time(svc, clock):
    svc.channels["fake"] = fake = RecordingChannel()
    add_row(svc, due_in=timedelta(hours=2))
    assert run_once(svc, "w1") == 0
    clock.advance(hours=2)
    assert run_once(svc, "w1") == 1 and len(fake.sent) == 1


def test_temporary_errors_are_retried_with_growing_backoff(svc, clock):
    svc.channels["fake"] = flaky = FlakyChannel(failures=2)
    row_id = add_row(svc)
    run_once(svc, "w1")
    first = get(svc, row_id)
    assert first.status == "pending" and first.attempts == 1 and "503" in first.last_error
    first_wait = first.due_at - clock()
    assert timedelta(seconds=7) < first_wait < timedelta(seconds=13)
    assert run_once(svc, "w1") == 0  # not before its time
    clock.now = first.due_at
    run_once(svc, "w1")
    second = get(svc, row_id)
    assert second.attempts == 2 and second.due_at - clock() > first_wait
    clock.now = second.due_at
    run_once(svc, "w1")
    assert get(svc, row_id).status == "sent" and len(flaky.sent) == 1


def test_permanent_errors_fail_at_once_with_the_reason(svc):
    svc.channels["fake"] = FlakyChannel(failures=99, error=PermanentError("21211 invalid 'To' number"))
    row_id = add_row(svc)
    run_once(svc, "w1")
    row = get(svc, row_id)
    assert row.status == "failed" and "21211" in row.last_error and row.attempts == 1


def test_a_row_gives_up_after_the_last_attempt(svc, clock):
    svc.channels["fake"] = FlakyChannel(failures=99)
    row_id = add_row(svc)
    for _ in range(MAX_ATTEMPTS):
        run_once(svc, "w1")
        clock.advance(hours=2)
    row = get(svc, row_id)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS


def test_an_unconfigured_channel_fails_clearly(svc):
    row_id = add_row(svc, channel="pigeon")
    run_once(svc, "w1")
    assert "not configured" in get(svc, row_id).last_error


def test_two_workers_never_claim_the_same_row(svc):
    for _ in range(10):
        add_row(svc)
    mine, theirs = claim(svc, "w1", limit=6), claim(svc, "w2", limit=6)
    assert len(mine) == 6 and len(theirs) == 4 and not set(mine) & set(theirs)


def test_rows_of_a_dead_worker_are_taken_over_after_the_lease(svc, clock):
    svc.channels["fake"] = fake = RecordingChannel()
    row_id = add_row(svc)
    assert claim(svc, "dead-worker") == [row_id]  # claimed, then the process died
    assert run_once(svc, "w2") == 0
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert run_once(svc, "w2") == 1
    assert get(svc, row_id).status == "sent" and len(fake.sent) == 1
    assert deliver(svc, row_id, "dead-worker") == "lost"  # the dead one cannot send it again
    assert len(fake.sent) == 1


def test_nothing_is_sent_to_an_opted_out_candidate(svc):
    svc.channels["fake"] = fake = RecordingChannel()
    row_id = add_row(svc, opted_out=True, kind="reminder")
    run_once(svc, "w1")
    assert get(svc, row_id).status == "cancelled" and fake.sent == []
