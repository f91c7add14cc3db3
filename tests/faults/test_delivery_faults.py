"""Greetings through faults, over real `sokuresu worker` processes on PostgreSQL and the fake LINE and Twilio
APIs: a worker killed mid-batch, a provider that hangs past the timeout, answers 500 or 429 with Retry-After, and
a database that stops answering. Each prints what the candidates received (sent / duplicated / lost): nothing
is lost, and nothing is sent twice (Twilio is asked before an unanswered SMS goes again; LINE's retry key)."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot.db.engine import make_engine
from bot.db.migrate import upgrade
from bot.db.models import Outbox
from tests.fakes.line_api import FakeLine
from tests.fakes.twilio_api import FakeTwilio
from tests.faults.harness import Proxy, Tally, Worker, all_sent, received, seed, statuses, wait_for, worker_env

pytestmark = pytest.mark.postgres


@pytest.fixture
def db(pg_url):
    upgrade(pg_url)
    engine = make_engine(pg_url)
    yield pg_url, engine
    engine.dispose()


@pytest.fixture
def twilio():
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def line():
    fake = FakeLine().start()
    yield fake
    fake.stop()


@pytest.fixture
def workers(tmp_path):
    started = []
    yield started
    for worker in started:  # whatever a failing test left running
        if worker.proc.poll() is None:
            worker.kill()


def start(workers, url, twilio, line, tmp_path, **knobs) -> Worker:
    worker = Worker(worker_env(url, twilio, line, tmp_path, **knobs), tmp_path)
    workers.append(worker)
    return worker


def settle(engine, rows, twilio, line, workers, scenario: str, timeout: float = 60) -> Tally:
    """Wait until every row is sent, stop the workers (a clean exit), and tally what the candidates received."""
    try:
        wait_for(all_sent(engine, rows), timeout, f"every row sent (now {dict(statuses(engine))})")
    except AssertionError:
        for worker in workers:
            print("".join(worker.log[-40:]))
        raise
    running = [worker for worker in workers if worker.proc.poll() is None]
    assert [worker.stop() for worker in running] == [0] * len(running)  # SIGTERM: a clean exit
    tally = Tally.of(rows, received(twilio, line))
    tally.report(scenario)
    return tally


def sending(engine, worker: Worker) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Outbox).where(
            Outbox.status == "sending", Outbox.lease_owner.like(worker.owns()))).scalar_one()


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_nothing(db, twilio, line, workers, tmp_path):
    url, engine = db
    twilio.delay = line.delay = 0.2  # a send takes a while: the kill lands with sends in flight
    rows = seed(engine, sms=30, line=30)
    victim = start(workers, url, twilio, line, tmp_path)
    wait_for(lambda: sum(received(twilio, line).values()) >= 8, 30, "the first sends")
    victim.kill()
    orphaned = sending(engine, victim)
    assert orphaned > 0  # killed with rows claimed and not recorded
    start(workers, url, twilio, line, tmp_path)  # restarted (systemd, the platform): takes them over
    tally = settle(engine, rows, twilio, line, workers, f"kill -9 mid-batch ({orphaned} rows in hand)")
    assert tally == Tally(len(rows), 0, 0)


def test_a_provider_that_hangs_past_the_timeout_holds_up_nobody_else_and_is_asked_before_a_resend(
        db, twilio, line, workers, tmp_path):
    url, engine = db
    twilio.failures.append(("sleep", 2.5))  # the first SMS: Twilio answers after 2.5 s (and sends it); we wait 1.5
    line.fail("/v2/bot/message/push", 500, "hung", sleep=2.5, accept=True)  # the first push likewise
    rows = seed(engine, sms=12, line=12)
    start(workers, url, twilio, line, tmp_path)
    began = time.monotonic()
    others = wait_for(lambda: sum(1 for n in received(twilio, line).values() if n) >= len(rows) - 2, 30,
                      "the other candidates' greetings")
    tally = settle(engine, rows, twilio, line, workers, "a provider hanging past the timeout")
    print(f"the others were all sent {others:.2f} s after the worker started ({time.monotonic() - began:.1f} s "
          f"until the hung ones were settled); one hung send used to hold them all up for its whole timeout")
    assert others < 1.5  # before the hung sends even gave up (their read timeout)
    assert tally == Tally(len(rows), 0, 0)
    assert twilio.lists >= 1  # the unanswered SMS was looked up, not sent again


def test_a_provider_answering_500_loses_nothing_and_repeats_nothing(db, twilio, line, workers, tmp_path):
    url, engine = db
    # Twilio: one 500 before creating anything, one after creating the message; LINE: two 500s after delivering.
    twilio.failures += [(500, 20500, "Internal Server Error"), ("created", 500)]
    line.fail("/v2/bot/message/push", 500, "Internal Server Error", times=2, accept=True)
    rows = seed(engine, sms=10, line=10)
    start(workers, url, twilio, line, tmp_path)
    tally = settle(engine, rows, twilio, line, workers, "a provider answering 500")
    assert tally == Tally(len(rows), 0, 0)
    assert len(line.calls("/v2/bot/message/push")) == len(rows) // 2 + 2  # retried with the key: 409, not resent


def test_a_429_with_retry_after_pauses_the_channel_for_as_long_as_asked(db, twilio, line, workers, tmp_path):
    url, engine = db
    twilio.failures.append((429, 20429, "Too Many Requests", {"Retry-After": "2"}))
    line.fail("/v2/bot/message/push", 429, "Too many requests", headers={"Retry-After": "2"})
    rows = seed(engine, sms=10, line=10)
    start(workers, url, twilio, line, tmp_path)
    tally = settle(engine, rows, twilio, line, workers, "429 with Retry-After: 2")
    assert tally == Tally(len(rows), 0, 0)
    sms = sorted(at for at, _ in twilio.attempts)
    first = sms[0]  # the call answered 429
    quiet = [at - first for at in sms if 0.2 < at - first < 1.8]
    assert quiet == []  # after the calls already in flight, nothing until Twilio's 2 s were up
    [twice] = [to for to in set(to for _, to in twilio.attempts) if sum(1 for _, t in twilio.attempts if t == to) > 1]
    retried = sorted(at for at, to in twilio.attempts if to == twice)
    assert retried[1] - retried[0] >= 2.0
    pushes = sorted(r.at for r in line.calls("/v2/bot/message/push"))
    assert [at - pushes[0] for at in pushes if 0.2 < at - pushes[0] < 1.8] == []  # LINE's 2 s likewise


def test_a_database_that_stops_answering_mid_batch_loses_nothing_and_repeats_nothing(
        db, twilio, line, workers, tmp_path):
    url, engine = db
    twilio.delay = line.delay = 0.1
    proxy = Proxy(url)
    try:
        rows = seed(engine, sms=25, line=25)
        worker = start(workers, proxy.url, twilio, line, tmp_path)
        wait_for(lambda: sum(received(twilio, line).values()) >= 8, 30, "the first sends")
        proxy.pause()  # the database stops answering: sends in hand reach the providers, their answers cannot be kept
        time.sleep(3)
        in_flight = sum(received(twilio, line).values())
        proxy.drop()  # and comes back without the connections it had
        assert worker.proc.poll() is None  # the worker rides it out
        tally = settle(engine, rows, twilio, line, workers, f"database stopped answering ({in_flight} sent by then)")
    finally:
        proxy.close()
    assert tally == Tally(len(rows), 0, 0)
