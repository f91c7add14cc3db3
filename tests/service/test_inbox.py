"""The durable inbox on its own, with a recording handler: kept once, one sender's items in order and never
in two hands at once, a dead process's items taken over, failures retried later. On SQLite and PostgreSQL."""
import threading

import pytest
from sqlmodel import Session, select

from bot.db.engine import session_scope
from bot.db.models import InboxItem
from bot.service import inbox
from bot.service.delivery import LEASE
from bot.service.delivery_record import MAX_ATTEMPTS
from tests.conftest import START, FakeClock, make_services


class RecordingHandler:
    """Carries out items by noting their payload; fails those named in `failing`; notices overlapping senders."""

    def __init__(self):
        self.done, self.failing, self.overlaps = [], set(), []
        self._active, self._lock = set(), threading.Lock()

    def run(self, session, svc, payload):
        sender = payload["sender"]
        with self._lock:
            if sender in self._active:
                self.overlaps.append(payload["n"])
            self._active.add(sender)
        try:
            if payload["n"] in self.failing:
                raise RuntimeError(f"item {payload['n']} fell over")
            self.done.append(payload["n"])
        finally:
            with self._lock:
                self._active.discard(sender)


@pytest.fixture
def handler():
    return RecordingHandler()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def queue_svc(request, tmp_path, handler):
    """Services on SQLite, then PostgreSQL, where the "demo" channel keeps its items in the inbox."""
    url = (f"sqlite:///{tmp_path / 'inbox.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    svc = make_services(url, FakeClock(START))
    svc.inbox_handlers["demo"] = inbox.Handler(run=handler.run)
    yield svc
    svc.engine.dispose()


def keep(svc, *items):
    """Keep ("sender", n) items on the demo channel, as a webhook would; how many were new."""
    return inbox.receive(svc, "demo", [inbox.Arrival(sender, {"sender": sender, "n": n}, event_id=f"e{n}")
                                       for sender, n in items])


def items(svc):
    with Session(svc.engine) as s:
        return {item.payload["n"]: item for item in s.exec(select(InboxItem))}


def test_an_event_redelivered_is_kept_once_and_run_once(queue_svc, handler):
    assert keep(queue_svc, ("ann", 1), ("bob", 2)) == 2
    assert keep(queue_svc, ("ann", 1)) == 0
    with session_scope(queue_svc.engine) as session:
        assert inbox.enqueue(session, queue_svc, "demo", "bob", {"sender": "bob", "n": 2}, event_id="e2") is None
        assert inbox.enqueue(session, queue_svc, "demo", "bob", {"sender": "bob", "n": 3}) is not None
    assert inbox.run_once(queue_svc, "w1") == 3
    assert inbox.run_once(queue_svc, "w1") == 0
    assert sorted(handler.done) == [1, 2, 3]
    assert {item.status for item in items(queue_svc).values()} == {"done"}
    assert all(item.processed_at == START and item.lease_owner is None for item in items(queue_svc).values())


def test_one_senders_items_run_in_arrival_order(queue_svc, handler):
    keep(queue_svc, ("ann", 1), ("bob", 2), ("ann", 3), ("bob", 4), ("ann", 5))
    assert inbox.run_once(queue_svc, "w1") == 5
    done = handler.done
    assert [n for n in done if n % 2] == [1, 3, 5] and [n for n in done if not n % 2] == [2, 4]


def test_two_claimers_never_hold_one_senders_items_at_once(queue_svc):
    keep(queue_svc, ("ann", 1), ("ann", 2), ("bob", 3), ("bob", 4))
    first = inbox.claim(queue_svc, "w1", limit=1)
    second = inbox.claim(queue_svc, "w2")
    by_n = {item.id: n for n, item in items(queue_svc).items()}
    assert [by_n[i] for i in first] == [1] and [by_n[i] for i in second] == [3, 4]  # not ann's 2: w1 holds her 1
    assert inbox.claim(queue_svc, "w3") == []
    assert inbox.run(queue_svc, first, "w1") == {first[0]: "done"}
    assert [by_n[i] for i in inbox.claim(queue_svc, "w3")] == [2]  # her next one, once the first is done


def test_a_dead_claimers_items_are_taken_over_once_the_lease_ran_out_and_run_once(queue_svc, handler):
    keep(queue_svc, ("ann", 1))
    [item_id] = inbox.claim(queue_svc, "dead")
    assert inbox.claim(queue_svc, "w2") == []  # the lease still holds
    queue_svc.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert inbox.claim(queue_svc, "w2") == [item_id]
    assert inbox.run(queue_svc, [item_id], "w2") == {item_id: "done"}
    assert inbox.run(queue_svc, [item_id], "dead") == {item_id: "lost"}  # woken up too late: no effect
    assert handler.done == [1] and items(queue_svc)[1].attempts == 2


def test_a_failing_item_is_retried_later_and_holds_back_its_senders_next_ones(queue_svc, handler):
    keep(queue_svc, ("ann", 1), ("ann", 2), ("bob", 3))
    handler.failing.add(1)
    assert inbox.run_once(queue_svc, "w1") == 3
    assert handler.done == [3]  # bob's is not held up by ann's
    kept = items(queue_svc)
    assert kept[1].status == "pending" and "fell over" in kept[1].last_error and kept[1].due_at > START
    assert kept[2].status == "pending" and kept[2].attempts == 0  # waits behind her first, untried
    assert inbox.run_once(queue_svc, "w1") == 0  # neither is due while the first waits for its retry
    handler.failing.clear()
    queue_svc.clock.advance(minutes=1)
    assert inbox.run_once(queue_svc, "w1") == 2
    assert handler.done == [3, 1, 2]


def test_an_item_that_keeps_failing_is_given_up_after_the_last_attempt(queue_svc, handler):
    keep(queue_svc, ("ann", 1))
    handler.failing.add(1)
    for _ in range(MAX_ATTEMPTS):
        queue_svc.clock.advance(hours=2)  # past any backoff
        assert inbox.run_once(queue_svc, "w1") == 1
    assert items(queue_svc)[1].status == "failed"
    queue_svc.clock.advance(hours=2)
    assert inbox.run_once(queue_svc, "w1") == 0


def test_a_stopping_worker_hands_its_claimed_items_back_untried(queue_svc, handler):
    keep(queue_svc, ("ann", 1))
    stop = threading.Event()
    stop.set()
    assert inbox.run_once(queue_svc, "w1", stop=stop) == 1
    assert handler.done == [] and items(queue_svc)[1].status == "pending"
    assert items(queue_svc)[1].attempts == 0 and items(queue_svc)[1].lease_owner is None


def test_claimers_in_parallel_run_every_item_once_and_never_one_sender_in_two_hands(queue_svc, handler):
    senders = [f"s{i}" for i in range(8)]
    keep(queue_svc, *[(senders[n % 8], n) for n in range(80)])
    clash = []

    def work(owner):
        while ids := inbox.claim(queue_svc, owner, limit=3):
            with Session(queue_svc.engine) as s:
                mine = {item.sender for item in s.exec(select(InboxItem).where(InboxItem.id.in_(ids)))}
                others = s.exec(select(InboxItem).where(InboxItem.sender.in_(mine), InboxItem.status == "processing",
                                                        InboxItem.lease_owner != owner)).all()
            clash.extend(others)
            inbox.run(queue_svc, ids, owner)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert clash == [] and handler.overlaps == []
    done = handler.done
    assert sorted(done) == list(range(80))
    for sender in range(8):
        assert [n for n in done if n % 8 == sender] == list(range(sender, 80, 8))  # each sender's in order
