"""The worker side of reminders: token buckets, 429s slowing a channel, SIGTERM handing rows back."""
import threading
from datetime import timedelta

from sqlmodel import Session

from bot.db.engine import session_scope
from bot.db.models import Applicant, Outbox
from bot.service.delivery import MAX_RATE_WAIT, run_once
from bot.service.ratelimit import Bucket, Limiter, RateLimited, is_rate_limited
from tests.conftest import RecordingChannel


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def add_rows(svc, n, channel="fake"):
    with session_scope(svc.engine) as s:
        a = Applicant(name="テスト 花子", channel="sms", job_id="bakery-staff", created_at=svc.clock(),
                      updated_at=svc.clock())
        s.add(a)
        s.flush()
        made = [Outbox(applicant_id=a.id, channel=channel, kind="reminder", payload={"kind": "reminder", "text": "x"},
                       due_at=svc.clock(), created_at=svc.clock()) for _ in range(n)]
        s.add_all(made)
        s.flush()
        return [r.id for r in made]


def get(svc, row_id):
    with Session(svc.engine) as s:
        return s.get(Outbox, row_id)


def test_a_bucket_lets_a_burst_through_then_paces_it():
    ticks = Ticks()
    bucket = Bucket(2.0, clock=ticks)
    assert [bucket.reserve(), bucket.reserve()] == [0.0, 0.0]
    assert bucket.reserve() == 0.5
    ticks.t += 1.0
    assert bucket.reserve() == 0.0


def test_a_429_pauses_the_channel_and_halves_its_rate():
    ticks = Ticks()
    bucket = Bucket(4.0, clock=ticks)
    bucket.slow_down(retry_after=3)
    assert bucket.rate == 2.0 and bucket.reserve() >= 3
    ticks.t += 60
    bucket.reserve()
    assert bucket.rate == 4.0  # recovered after a quiet minute


def test_only_rate_limit_errors_slow_a_channel():
    class SdkError(Exception):
        status = 429

    limiter = Limiter({"sms": 10})
    assert is_rate_limited(RateLimited()) and is_rate_limited(SdkError()) and not is_rate_limited(ConnectionError())
    assert is_rate_limited(RuntimeError("LINE 429: Too many requests"))
    assert not is_rate_limited(RuntimeError("Twilio error 30007: filtered")) and not is_rate_limited(ValueError("4290"))
    limiter.penalise("sms", ConnectionError("reset"))
    assert limiter.buckets["sms"].rate == 10
    limiter.penalise("sms", RateLimited(retry_after=2))
    assert limiter.buckets["sms"].rate == 5
    assert Limiter({}).reserve("line") == 0.0


def test_a_row_over_the_rate_goes_back_to_the_queue_instead_of_holding_its_lease(svc):
    svc.channels["fake"] = fake = RecordingChannel()
    ids = add_rows(svc, 3)
    limiter = Limiter({"fake": 1 / (2 * MAX_RATE_WAIT)})  # one message every 10 s
    run_once(svc, "w1", limiter=limiter)
    assert len(fake.sent) == 1
    later = [get(svc, i) for i in ids[1:]]
    assert all(r.status == "pending" and r.lease_owner is None and r.attempts == 0 for r in later)
    assert all(r.due_at > svc.clock() for r in later)


def test_a_429_retries_the_row_and_slows_the_channel(svc):
    class Busy(RecordingChannel):
        def send(self, message):
            raise RateLimited("429 Too Many Requests", retry_after=7)

    svc.channels["fake"] = Busy()
    [row_id] = add_rows(svc, 1)
    limiter = Limiter({})
    run_once(svc, "w1", limiter=limiter)
    assert get(svc, row_id).status == "pending" and "429" in get(svc, row_id).last_error
    assert limiter.reserve("fake") >= 6


def test_sigterm_hands_back_the_claimed_rows_not_yet_sent(svc):
    stop = threading.Event()

    class StopsAfterOne(RecordingChannel):
        def send(self, message):
            stop.set()  # the signal arrives while the first message is being sent
            return super().send(message)

    svc.channels["fake"] = fake = StopsAfterOne()
    ids = add_rows(svc, 5)
    assert run_once(svc, "w1", stop=stop) == 5
    assert len(fake.sent) == 1 and get(svc, ids[0]).status == "sent"
    rest = [get(svc, i) for i in ids[1:]]
    assert all(r.status == "pending" and r.lease_owner is None and r.attempts == 0 for r in rest)
    assert run_once(svc, "w2") == 4 and len(fake.sent) == 5


def test_the_worker_loop_stops_when_told(svc):
    from bot.worker import start_thread

    svc.channels["fake"] = fake = RecordingChannel()
    add_rows(svc, 3)
    thread, stop = start_thread(svc, poll=0.01)
    for _ in range(200):
        if len(fake.sent) == 3:
            break
        threading.Event().wait(0.01)
    stop.set()
    svc.process.wake.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and len(fake.sent) == 3


def test_rows_wait_for_their_lease_not_for_ever(svc, clock):
    from bot.service.delivery import LEASE, claim

    svc.channels["fake"] = RecordingChannel()
    add_rows(svc, 2)
    assert len(claim(svc, "killed")) == 2
    clock.advance(seconds=LEASE.total_seconds() + timedelta(seconds=1).total_seconds())
    assert run_once(svc, "survivor") == 2
