"""The outbox worker: due rows only, retries with backoff, permanent failures, leases, never twice.

Each test runs on SQLite and on PostgreSQL: recording what a send came to is one statement on PostgreSQL and
three on SQLite (bot.service.delivery_record), and both must leave the same rows behind."""
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.core.transport import Outgoing, PermanentError
from bot.db.engine import session_scope
from bot.db.models import Applicant, MessageLog, Outbox
from bot.service.delivery import LEASE, claim, deliver, run_once
from bot.service.delivery_record import LOST, MAX_ATTEMPTS, UNSURE_WAIT, Outcome, Prepared, record
from tests.conftest import RecordingChannel


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return request.getfixturevalue("pg_url")


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


def test_recording_a_batch_writes_each_rows_outcome_and_logs_only_what_reached_a_candidate(svc, clock):
    """One batch of every outcome: sent by reply and by push, to be retried, unsure, failed, a row taken over by
    another worker, an alert to the recruiter and a message to nobody's application."""
    ids = [add_row(svc, channel="line") for _ in range(6)] + [add_row(svc, channel="recruiter", kind="alert")]
    with session_scope(svc.engine) as s:
        orphan = Outbox(applicant_id=None, channel="line", kind="lead_reply", payload={"text": "友だち追加ありがとう"},
                        due_at=clock(), created_at=clock())
        s.add(orphan)
        s.flush()
        ids.append(orphan.id)
    claimed = claim(svc, "w1", limit=20)
    assert sorted(claimed) == sorted(ids)
    with session_scope(svc.engine) as s:  # the fourth row was taken over by another worker meanwhile
        s.get(Outbox, ids[3]).lease_owner = "w2"
        s.get(Outbox, ids[1]).payload = {"kind": "greeting", "text": "保存された言葉"}

    def ready(row_id, channel="line", attempts=1):
        payload = get(svc, row_id).payload
        return Prepared(row_id, Outgoing(channel, {}, payload, "key", "ja", {"kind": "greeting"}), attempts)

    sent_at = clock()
    outcomes = [Outcome(ready(ids[0]), "sent", provider_id="reply:m1"),
                Outcome(ready(ids[1]), "sent", provider_id="push:m2"),
                Outcome(ready(ids[2]), "pending", "TemporaryError: LINE 429", retry_after=120),
                Outcome(ready(ids[3]), "sent", provider_id="reply:m4"),
                Outcome(ready(ids[4]), "unknown", "Unconfirmed: timed out"),
                Outcome(ready(ids[5]), "failed", "PermanentError: LINE 400"),
                Outcome(ready(ids[6], "recruiter"), "sent", provider_id="mail-7"),
                Outcome(ready(ids[7]), "sent", provider_id="reply:m8")]
    with session_scope(svc.engine) as s:
        statuses = record(s, svc, outcomes, "w1")
    assert statuses == {ids[0]: "sent", ids[1]: "sent", ids[2]: "pending", ids[3]: LOST, ids[4]: "unknown",
                        ids[5]: "failed", ids[6]: "sent", ids[7]: "sent"}
    rows = {row_id: get(svc, row_id) for row_id in ids}
    assert [rows[i].delivery_mode for i in ids[:2]] == ["reply", "push"]
    assert [rows[i].provider_message_id for i in ids[:2]] == ["reply:m1", "push:m2"]
    assert all(rows[i].sent_at == sent_at and rows[i].lease_owner is None for i in (ids[0], ids[1], ids[6]))
    assert rows[ids[6]].delivery_mode is None and rows[ids[6]].provider_message_id == "mail-7"
    assert rows[ids[2]].due_at - sent_at >= timedelta(seconds=120) and "429" in rows[ids[2]].last_error
    assert rows[ids[4]].due_at - sent_at >= UNSURE_WAIT and rows[ids[4]].sent_at is None
    assert rows[ids[5]].last_error == "PermanentError: LINE 400" and rows[ids[5]].due_at == clock()
    lost = rows[ids[3]]  # left exactly as the other worker holds it
    assert (lost.status, lost.lease_owner, lost.provider_message_id, lost.sent_at) == ("sending", "w2", None, None)
    with Session(svc.engine) as s:
        logged = s.exec(select(MessageLog).order_by(MessageLog.outbox_id)).all()
    # Sent to a candidate only: not the recruiter's alert, not the lead's, not the row another worker holds.
    assert [(m.outbox_id, m.direction, m.channel, m.text, m.created_at) for m in logged] == [
        (ids[0], "out", "line", "こんにちは", sent_at), (ids[1], "out", "line", "保存された言葉", sent_at)]
    assert [m.payload for m in logged] == [{"kind": "greeting", "text": "こんにちは"},
                                           {"kind": "greeting", "text": "保存された言葉"}]
    assert [m.applicant_id for m in logged] == [rows[ids[0]].applicant_id, rows[ids[1]].applicant_id]


def test_recording_rows_no_longer_held_changes_nothing(svc):
    row_id = add_row(svc)
    claim(svc, "w1")
    message = Outgoing("fake", {}, get(svc, row_id).payload, "key", "ja", {})
    with session_scope(svc.engine) as s:
        assert record(s, svc, [Outcome(Prepared(row_id, message, 1), "sent", provider_id="x")], "w9") == {row_id: LOST}
    assert get(svc, row_id).status == "sending"
    with Session(svc.engine) as s:
        assert s.exec(select(MessageLog)).all() == []
