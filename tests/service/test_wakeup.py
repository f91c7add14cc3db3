"""A commit that queues work wakes the workers of other processes (LISTEN/NOTIFY on PostgreSQL, a socket on SQLite)."""
import socket
import threading
from datetime import datetime, timedelta, timezone

import pytest

from bot.core.vocab import Kind, OutboxStatus
from bot.db import wakeup
from bot.db.engine import make_engine, session_scope
from bot.db.migrate import upgrade
from bot.db.models import Outbox

WAIT_S = 30  # how long a missing wake-up may take to show as a failure; never a measure of speed


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def listening(engine, tmp_path):
    """A worker's wake event, set by the listener; the listener is ready once it has set it the first time."""
    wake, stop = threading.Event(), threading.Event()
    thread = wakeup.listen(engine, tmp_path, wake, stop)
    assert wake.wait(WAIT_S), "the listener never started"
    wake.clear()
    yield wake
    stop.set()
    thread.join(WAIT_S)


# The deployment's clock, years from the wall clock: "due now" must be read on it, as the workers' claims read it.
NOW = datetime(2031, 5, 1, 9, 0, tzinfo=timezone.utc)


def queue_one(engine, due_at: datetime = NOW) -> None:
    with session_scope(engine) as session:
        session.add(Outbox(channel="staff", kind=Kind.STAFF_ALERT, payload={}, due_at=due_at, created_at=NOW))


def test_a_commit_that_queues_a_message_wakes_a_worker_of_another_process(engine, tmp_path, listening):
    wakeup.announce(engine, tmp_path, lambda: NOW)
    queue_one(engine)
    assert listening.wait(WAIT_S)


def test_a_message_due_later_by_the_deployments_clock_wakes_no_one(engine, tmp_path, listening):
    wakeup.announce(engine, tmp_path, lambda: NOW)
    queue_one(engine, NOW + timedelta(hours=1))  # long past by the wall clock: the poll's, not a wake-up's
    assert not listening.wait(1.0)
    queue_one(engine)
    assert listening.wait(WAIT_S)


def test_only_a_row_a_worker_could_claim_now_wakes_the_workers():
    now = NOW
    assert wakeup.claimable(Outbox(channel="sms", kind=Kind.GREETING, due_at=now, created_at=now), now)
    leased = Outbox(channel="line", kind=Kind.GREETING, due_at=now, created_at=now, status=OutboxStatus.SENDING,
                    lease_owner="web:1")  # the web's inbox runner sends its answers itself
    later = Outbox(channel="sms", kind=Kind.NUDGE, due_at=now + timedelta(hours=1), created_at=now)
    assert not wakeup.claimable(leased, now) and not wakeup.claimable(later, now)


def test_a_dead_workers_socket_is_removed_when_rung(tmp_path):
    where = wakeup.socket_dir(tmp_path)
    where.mkdir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as gone:
        gone.bind(str(where / "gone"))
    wakeup.ring(where)
    assert not (where / "gone").exists()
