"""Many `sokuresu worker` processes on one PostgreSQL: each row sent once, SIGKILL takeover, graceful SIGTERM."""
import importlib.util
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db.engine import make_engine
from bot.db.migrate import upgrade
from bot.db.models import Outbox
from bot.service.lanes import THREADS

pytestmark = pytest.mark.postgres
ROWS = 2000

_spec = importlib.util.spec_from_file_location(
    "bench_reminders", Path(__file__).resolve().parents[2] / "scripts" / "bench_reminders.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.fixture
def provider():
    fake = bench.FakeProvider()
    yield fake
    fake.close()


@pytest.fixture
def db(pg_url):
    upgrade(pg_url)
    engine = make_engine(pg_url)
    yield pg_url, engine
    engine.dispose()


@pytest.fixture
def workers():
    started = []
    yield started
    for proc in started:  # whatever a failing test left running
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def count(engine, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Outbox).where(*where)).scalar()


def wait_for(condition, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("n", [2, 4])
def test_every_row_is_sent_exactly_once_by_n_workers(db, provider, workers, n):
    url, engine = db
    workers += bench.start_workers(url, provider.url, n)
    bench.seed(url, ROWS)
    wait_for(lambda: count(engine, Outbox.status != "sent") == 0)
    assert bench.stop_workers(workers) == [0] * n  # SIGTERM: a clean exit
    assert len(provider.hits) == ROWS and set(provider.hits.values()) == {1}
    assert provider.duplicates() == 0
    assert len(provider.by_worker) == n  # every process did its share


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_at_most_its_message_in_flight(db, provider, workers):
    url, engine = db
    workers += bench.start_workers(url, provider.url, 2, lease=3, send_keys=True)
    victim = workers[0]
    bench.seed(url, ROWS)
    mine = Outbox.lease_owner.like(f"%:{victim.pid}:%")
    wait_for(lambda: count(engine, mine, Outbox.status == "sending") >= 10)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    orphaned = count(engine, mine, Outbox.status == "sending")
    assert orphaned > 0  # killed with rows claimed and not yet sent
    wait_for(lambda: count(engine, Outbox.status != "sent") == 0)
    assert bench.stop_workers(workers[1:]) == [0]
    assert len(provider.hits) == ROWS  # every row reached the provider
    assert provider.duplicates() == 0  # the idempotency key kept each to one message
    # Without a key (or a provider to ask) the only repeats possible are the messages in flight when the worker
    # died: one per sending thread of the channel.
    assert sum(provider.hits.values()) - ROWS <= THREADS
    assert count(engine, Outbox.attempts >= 2) >= orphaned  # the orphans were taken over after the lease


def test_sigterm_mid_batch_hands_claimed_rows_back_at_once(db, provider, workers):
    url, engine = db
    workers += bench.start_workers(url, provider.url, 1)
    bench.seed(url, ROWS)
    wait_for(lambda: sum(provider.hits.values()) >= 100)
    assert bench.stop_workers(workers) == [0]
    assert count(engine, Outbox.status == "sending") == 0  # nothing waits for a lease to run out
    assert count(engine, Outbox.status == "sent") == sum(provider.hits.values()) < ROWS
