"""[rate_limits] for the whole deployment (issue 16): processes sharing one store get the configured rate between
them, not once each; a 429 seen by one slows them all; a store that fails never stops sending.

Each test runs on SQLite, PostgreSQL (TEST_DATABASE_URL) and Redis (TEST_REDIS_URL) where it is about the store.
Two limiters built on one store stand for two processes; a hand-moved epoch clock stands for time.time.
"""
from __future__ import annotations

import logging

import pytest
from sqlmodel import Session, select

from bot.db.engine import make_engine, session_scope
from bot.db.migrate import upgrade
from bot.db.models import Applicant, Outbox, SendRate
from bot.service.delivery import MAX_RATE_WAIT, run_once
from bot.service.ratelimit import Limiter, RateLimited
from bot.service.sendrates import LOOK_EVERY_S, SharedLimiter, build
from bot.service.sendstores import DatabaseRates
from tests.conftest import START, FakeClock, RecordingChannel, make_services
from tests.fakes.smtp_server import free_port

STORES = ["sqlite", "postgresql", "redis"]


class Epoch:
    """time.time moved by hand."""

    def __init__(self, t: float = 1_796_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


class CountingStore:
    """A store that counts what it is asked, in front of a real one."""

    def __init__(self, store):
        self.store, self.asked = store, []
        self.name, self.errors = store.name, store.errors

    def __getattr__(self, what):
        def ask(*args):
            self.asked.append(what)
            return getattr(self.store, what)(*args)
        return ask


def database_url(request, tmp_path) -> str:
    return request.getfixturevalue("pg_url") if request.param == "postgresql" else f"sqlite:///{tmp_path / 'r.db'}"


@pytest.fixture(params=STORES)
def store(request, tmp_path):
    """What the processes share: (REDIS_URL or None, the database's engine)."""
    url = database_url(request, tmp_path)
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    upgrade(url)
    engine = make_engine(url)
    yield redis_url, engine
    engine.dispose()


@pytest.fixture
def epoch():
    return Epoch()


@pytest.fixture
def process(store, epoch):
    """Start a 'process': a limiter of its own on the shared store and clock."""
    return lambda rates: build(rates, *store, clock=epoch)


def sends_in(limiters, epoch, seconds: float, step: float = 0.02) -> int:
    """Every `step`, each process sends if its channel has room now (and gives the place back if not)."""
    sent, end = 0, epoch.t + seconds
    while epoch.t < end - 1e-9:
        for limiter in limiters:
            if limiter.reserve("sms") == 0:
                sent += 1
            else:
                limiter.refund("sms")
        epoch.t += step
    return sent


def test_two_processes_together_send_the_configured_rate_not_twice_it(process, epoch):
    first, second = process({"sms": 5}), process({"sms": 5})
    # 5 a second for 10 s, plus the first second's burst of 5: what one process alone would get.
    assert sends_in([first, second], epoch, 10.0) == pytest.approx(55, abs=1)
    alone = [Limiter({"sms": 5}, clock=epoch), Limiter({"sms": 5}, clock=epoch)]
    assert sends_in(alone, epoch, 10.0) == pytest.approx(110, abs=2)  # per-process buckets: twice the limit


def test_a_burst_from_two_processes_is_spaced_at_the_shared_rate(process, epoch):
    first, second = process({"sms": 4}), process({"sms": 4})
    waits = [(first if i % 2 else second).reserve("sms") for i in range(12)]
    assert waits == pytest.approx([0.0] * 4 + [0.25 * k for k in range(1, 9)])


def test_a_429_in_one_process_pauses_the_other_and_halves_the_shared_rate(process, epoch):
    first, second = process({"sms": 4}), process({"sms": 4})
    first.penalise("sms", RateLimited(retry_after=3))
    pause, next_one = second.reserve("sms"), second.reserve("sms")
    assert pause == pytest.approx(3.0)
    assert next_one - pause == pytest.approx(1 / 2)  # 2 a second now, not 4
    epoch.t += 60  # a quiet minute: the rate is back, and so is the burst
    assert [second.reserve("sms") for _ in range(5)] == pytest.approx([0, 0, 0, 0, 0.25])


def test_an_error_that_is_not_a_429_slows_nobody(process, epoch):
    first, second = process({"sms": 4}), process({"sms": 4})
    first.penalise("sms", ConnectionError("reset by peer"))
    assert [second.reserve("sms") for _ in range(4)] == [0, 0, 0, 0]


def test_a_refund_gives_the_place_back(process, epoch):
    first, second = process({"sms": 1}), process({"sms": 1})
    assert first.reserve("sms") == 0
    assert second.reserve("sms") == pytest.approx(1.0)
    second.refund("sms")  # not sent after all (it would have held its lease too long)
    assert first.reserve("sms") == pytest.approx(1.0)


def test_a_channel_without_a_limit_never_waits_and_only_looks_at_the_store_every_few_seconds(store, epoch):
    redis_url, engine = store
    counting = CountingStore(build({}, redis_url, engine).stores[0])
    limiter = SharedLimiter({"sms": 1}, [counting], clock=epoch)
    waits = []
    for _ in range(100):
        waits.append(limiter.reserve("line"))
        epoch.t += 0.1
    assert waits == [0.0] * 100
    assert counting.asked == ["peek"] * int(10 / LOOK_EVERY_S)  # never a place taken: no write, ever


def test_a_429_on_a_channel_without_a_limit_slows_every_process(process, epoch):
    first, second = process({}), process({})
    assert second.reserve("line") == 0  # it has looked: nothing slowed
    first.penalise("line", RuntimeError("LINE 429: Too many requests"))  # no Retry-After: 1 s
    first.penalise("line", RateLimited(retry_after=30))
    assert first.reserve("line") == pytest.approx(30.0)
    epoch.t += LOOK_EVERY_S
    # It waits out the rest of the pause (a little more: the burst the rate has crept back to is not yet earned).
    assert 30.0 - LOOK_EVERY_S <= second.reserve("line") < 30.0


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_redis_that_does_not_answer_leaves_the_counting_to_the_database(store, epoch, caplog):
    _, engine = store
    closed = f"redis://127.0.0.1:{free_port()}/0"
    first, second = (build({"sms": 1}, closed, engine, clock=epoch) for _ in range(2))
    with caplog.at_level(logging.ERROR, logger="sokuresu.sendrates"):
        assert [first.reserve("sms"), second.reserve("sms"), first.reserve("sms")] == pytest.approx([0, 1, 2])
    assert [r.getMessage() for r in caplog.records] == [
        "send rates: the Redis does not answer (ConnectionError); using the next store"] * 2  # once a process
    with Session(engine) as s:
        assert s.exec(select(SendRate.channel)).all() == ["sms"]


def test_a_database_that_does_not_answer_leaves_each_process_its_own_bucket(epoch, caplog):
    engine = make_engine(f"postgresql+psycopg://sokuresu:s3cret-password@127.0.0.1:{free_port()}/gone")
    limiter = SharedLimiter({"sms": 1}, [DatabaseRates(engine)], clock=epoch)
    with caplog.at_level(logging.ERROR, logger="sokuresu.sendrates"):
        waits = [limiter.reserve("sms") for _ in range(3)]
        limiter.penalise("sms", RateLimited(retry_after=10))
    assert waits == pytest.approx([0, 1, 2])  # paced by this process's bucket, at the configured rate
    assert limiter.reserve("sms") >= 10  # and a 429 still slows it
    assert len(caplog.records) == 1 and "own buckets" in caplog.text and "s3cret" not in caplog.text
    engine.dispose()


def test_sending_goes_on_when_the_database_table_is_missing(svc, epoch):
    svc.channels["fake"] = fake = RecordingChannel()
    ids = add_rows(svc, 3)
    broken = SharedLimiter({"fake": 1 / (2 * MAX_RATE_WAIT)}, [DatabaseRates(make_engine("sqlite://"))],
                           clock=epoch)  # an empty in-memory database: no send_rate table
    assert run_once(svc, "w1", limiter=broken) == 3
    assert len(fake.sent) == 1  # the first goes; the others wait for this process's bucket
    with Session(svc.engine) as s:
        # Three candidates' lanes run side by side: any one of them may take the place.
        assert sorted(s.get(Outbox, i).status for i in ids) == ["pending", "pending", "sent"]


def add_rows(svc, n: int, channel: str = "fake") -> list[int]:
    """n due rows for `channel`, each for a different candidate (so two workers can take them side by side)."""
    with session_scope(svc.engine) as s:
        rows = []
        for i in range(n):
            a = Applicant(name=f"テスト {i}", channel="sms", job_id="bakery-staff", created_at=svc.clock(),
                          updated_at=svc.clock())
            s.add(a)
            s.flush()
            rows.append(Outbox(applicant_id=a.id, channel=channel, kind="reminder",
                               payload={"kind": "reminder", "text": "x"}, due_at=svc.clock(), created_at=svc.clock()))
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


class StampingChannel(RecordingChannel):
    """Keeps the (epoch) time of each send."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch, self.times = epoch, []

    def send(self, message):
        self.times.append(self.epoch())
        return super().send(message)


def test_two_workers_sending_a_burst_keep_to_the_shared_rate(store, epoch):
    redis_url, engine = store
    url, clock = engine.url.render_as_string(hide_password=False), FakeClock(START)
    rate = 1 / (2 * MAX_RATE_WAIT)  # one message every 10 s: a second one would wait too long and go back
    workers = [make_services(url, clock) for _ in range(2)]
    fake = StampingChannel(epoch)
    for svc in workers:
        svc.channels["fake"] = fake
    limiters = [build({"fake": rate}, redis_url, engine, clock=epoch) for _ in workers]
    add_rows(workers[0], 6)
    try:
        for _ in range(60):
            for n, (svc, limiter) in enumerate(zip(workers, limiters)):
                run_once(svc, f"worker-{n}", limit=3, limiter=limiter)
            epoch.t += 1
            clock.advance(seconds=1)
    finally:
        for svc in workers:
            svc.engine.dispose()
    start = Epoch().t
    assert [t - start for t in fake.times] == [0, 10, 20, 30, 40, 50]  # both workers: still one every 10 s
