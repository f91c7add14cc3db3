"""A web process sends the messages of its own requests right after answering them (a new application's greeting).

Waking a worker costs a notification, a claim and a second process's turn at the CPU; the web process already
holds the rows it just wrote. So intake leases them to this process in the very transaction that writes them
(bot.service.delivery.lease_to_self: no worker claims them meanwhile, and none is woken) and hands them here once
it has committed; one thread sends them, in each candidate's order, on the process's send lanes.

The lease stays the only truth: rows this process could not send (it was killed, the database went away) are
taken over by a worker when their lease runs out, as unsure rows that ask the provider before going again, so a
greeting is neither lost nor sent twice. At a graceful exit the rows not started go back to the queue at once.
"""
from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
from queue import Empty, Queue

from bot.service.delivery import release, send_all
from bot.service.delivery_record import Prepared
from bot.service.deps import Services
from bot.service.sendrates import for_deployment

log = logging.getLogger("sokuresu.outbox")


class SendAfter:
    """The thread that sends what this process's requests wrote and leased to it (started on first use)."""

    def __init__(self, svc: Services):
        self.svc = svc
        self.limiter = for_deployment(svc)  # the deployment's [rate_limits], as the worker takes them
        self._queue: Queue = Queue()
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._busy = 0  # batches taken and not finished
        self._owner = (None, "")

    @property
    def owner(self) -> str:
        """This process's name on the rows it holds (worked out again after a fork)."""
        if self._owner[0] != os.getpid():
            self._owner = os.getpid(), f"{socket.gethostname()}:{os.getpid()}:web"
        return self._owner[1]

    def submit(self, ready: list[Prepared]) -> None:
        """Send these rows (leased to `owner` by a transaction that has committed) as soon as possible."""
        if not ready:
            return
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (threads do not survive a fork)
                self._pid = os.getpid()
                atexit.register(self.hand_back)
                threading.Thread(target=self._run, name="sokuresu-send-after", daemon=True).start()
        with self._idle:
            self._busy += 1
        self._queue.put(ready)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Whether everything submitted was sent within `timeout` seconds (tests, and a clean shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def hand_back(self) -> int:
        """At exit: give the rows not started yet back to the queue now, rather than when their leases run out."""
        ids = []
        while True:
            try:
                ids += [ready.row_id for ready in self._queue.get_nowait()]
            except Empty:
                break
        try:
            return release(self.svc, ids, self.owner) if ids else 0
        except Exception as exc:  # the database is away: the leases will do it
            log.warning("send-after: could not hand back %d rows (%s)", len(ids), type(exc).__name__)
            return 0

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:  # what arrived meanwhile goes out side by side, on the channels' lanes
                try:
                    batch.append(self._queue.get_nowait())
                except Empty:
                    break
            try:
                send_all(self.svc, [ready for ready in (r for b in batch for r in b)], self.owner, self.limiter)
            except Exception as exc:  # the rows keep their lease: a worker takes them over when it runs out
                log.error("send-after: %d rows left to the worker (%s)", sum(map(len, batch)), type(exc).__name__)
            finally:
                with self._idle:
                    self._busy -= len(batch)
                    self._idle.notify_all()
