"""A slow provider call holds up only its own recipient: the channel's other threads, and other channels, go on;
one candidate's messages still go in order, one at a time; a row that waited for a thread gets its lease renewed."""
import threading
import time

from sqlmodel import Session

from bot.db.engine import session_scope
from bot.db.models import Applicant, Outbox
from bot.service.delivery import LEASE, claim, deliver, run_once
from bot.service.lanes import THREADS
from bot.worker import start_thread
from bot.worker.sender import Sender


class Gate:
    """A channel whose sends to some candidates hang until released; it notes when each send began and ended."""

    def __init__(self, hang_for=()):
        self.hang_for, self.open = set(hang_for), threading.Event()
        self.sent, self.spans, self.lock = [], [], threading.Lock()

    def send(self, message):
        began = time.monotonic()
        if message.address.get("name") in self.hang_for:
            self.open.wait(10)
        with self.lock:
            self.sent.append(message.meta["outbox_id"])
            self.spans.append((message.address.get("name"), message.meta["outbox_id"], began, time.monotonic()))
        return f"fake-{message.meta['outbox_id']}"


def add(svc, name, n=1, channel="fake"):
    with session_scope(svc.engine) as s:
        a = Applicant(name=name, channel="sms", job_id="bakery-staff", created_at=svc.clock(), updated_at=svc.clock())
        s.add(a)
        s.flush()
        rows = [Outbox(applicant_id=a.id, channel=channel, kind="help", payload={"kind": "help", "text": f"{name} {i}"},
                       due_at=svc.clock(), created_at=svc.clock()) for i in range(n)]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def status(svc, row_id):
    with Session(svc.engine) as s:
        return s.get(Outbox, row_id).status


def wait_until(check, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_hanging_send_holds_up_only_its_own_candidate(svc):
    svc.channels["fake"] = gate = Gate(hang_for={"hangs"})
    [stuck] = add(svc, "hangs")
    others = add(svc, "b") + add(svc, "c")
    began = time.monotonic()
    thread, stop = start_thread(svc, poll=0.01)
    try:
        wait_until(lambda: set(others) <= set(gate.sent))
        [later] = add(svc, "d")  # written while the hung send is still in hand
        svc.process.wake.set()
        wait_until(lambda: later in gate.sent)
        waited = time.monotonic() - began
        assert stuck not in gate.sent and status(svc, stuck) == "sending"
        print(f"others sent {waited:.2f} s after the start while one send hung")
        assert waited < 2.0
        gate.open.set()
        wait_until(lambda: status(svc, stuck) == "sent")
    finally:
        gate.open.set()
        stop.set()
        svc.process.wake.set()
        thread.join(timeout=5)
    assert not thread.is_alive() and sorted(gate.sent) == sorted([stuck, *others, later])


def test_one_candidates_messages_go_in_order_and_one_at_a_time(svc):
    svc.channels["fake"] = gate = Gate()
    mine = {name: add(svc, name, 3) for name in ("a", "b", "c")}
    assert run_once(svc, "w1") == 9
    for name, ids in mine.items():
        spans = [span for span in gate.spans if span[0] == name]
        assert [row_id for _, row_id, _, _ in spans] == ids  # in the order they were written
        assert all(earlier[3] <= later[2] for earlier, later in zip(spans, spans[1:]))  # never side by side


def test_a_channel_whose_threads_all_hang_is_left_to_other_workers_meanwhile(svc):
    svc.channels["fake"] = gate = Gate(hang_for={f"h{n}" for n in range(THREADS)})
    for n in range(THREADS):
        add(svc, f"h{n}")
    stop = threading.Event()
    sender = Sender(svc, "w1", None, stop)
    assert sender.round(50) == THREADS
    wait_until(lambda: svc.process.pools.full() == {"fake"})
    [waiting] = add(svc, "next")
    assert sender.round(50) == 0  # no thread of the channel is free: not claimed, not sitting on a lease here
    assert claim(svc, "another-worker") == [waiting]
    gate.open.set()
    sender.close(timeout=5)
    assert len(gate.sent) == THREADS


def test_a_row_that_waited_for_a_thread_gets_its_lease_renewed_before_the_send(svc, clock):
    svc.channels["fake"] = Gate()
    [row_id] = add(svc, "a")
    assert claim(svc, "w1") == [row_id]
    clock.advance(seconds=LEASE.total_seconds() * 0.6)  # queued behind slow sends for more than half its lease

    class Watching(Gate):
        def send(self, message):
            with Session(svc.engine) as s:
                seen.append(s.get(Outbox, message.meta["outbox_id"]).lease_until)
            return super().send(message)

    seen, svc.channels["fake"] = [], Watching()
    assert deliver(svc, row_id, "w1") == "sent"
    assert seen == [clock.now + LEASE]  # the whole lease ahead of the send, not a few seconds


def test_sigterm_with_several_candidates_in_hand_hands_back_what_has_not_started(svc):
    stop = threading.Event()

    class StopsOnFirst(Gate):
        def send(self, message):
            stop.set()  # the signal arrives during the first sends
            time.sleep(0.05)
            return super().send(message)

    svc.channels["fake"] = gate = StopsOnFirst()
    ids = [row for name in ("a", "b") for row in add(svc, name, 3)]
    assert run_once(svc, "w1", stop=stop) == 6
    sent = set(gate.sent)
    assert 1 <= len(sent) <= 2  # each candidate's send in hand ends; nothing after the signal starts
    with Session(svc.engine) as s:
        rest = [s.get(Outbox, i) for i in ids if i not in sent]
    assert all(r.status == "pending" and r.lease_owner is None and r.attempts == 0 and r.due_at <= svc.clock()
               for r in rest)  # due again at once, for the next worker
