"""The web process's runner of the inbox items it received: their work right after the webhook's answer."""
from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import time
from queue import Empty, Queue

from bot.db.engine import retry_on_disconnect
from bot.service import inbox
from bot.service.delivery import send_all
from bot.service.deps import Services
from bot.service.sendrates import for_deployment

log = logging.getLogger("sokuresu.inbox")


class InboxRunner:
    """Runs the inbox items this web process received, right after its answer: the work, then the answers.

    Its thread starts on first use (after gunicorn forks). Under load it takes the items waiting for it
    in batches: one transaction for the work, one for recording the answers, whatever the batch size.
    Items it cannot finish stay leased to it until the lease runs out, then the worker takes them over,
    so a crash loses nothing.
    """

    BATCH = 64          # items per transaction at most
    RETRY_WAIT = 0.02   # seconds before trying again an item whose sender has an earlier one in hand elsewhere
    MAX_WAITS = 250     # then leave it to the worker (about five seconds)
    # Under load (the last batch held several items and ended moments ago) the runner collects for this long
    # before it starts: a transaction's cost is mostly per batch (measured in one process: 6.6 ms of CPU an
    # event at 11 a batch, 4.3 ms at 32; docs/performance.md, "LINE webhook"). A lone event never waits.
    GATHER = 0.1
    LOAD_GAP = 0.5      # seconds after a batch of several within which the next one is collected too

    def __init__(self, svc: Services):
        self.svc = svc
        self.limiter = for_deployment(svc)  # the worker's places too: [rate_limits] is the deployment's
        # One thread per process: a turn is mostly Python, and more threads only take the GIL from the
        # requests (measured: 4 threads on PostgreSQL ran 20% fewer events end to end than one).
        self._queue: Queue = Queue()
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._owner = (None, "")

    @property
    def owner(self) -> str:
        """This process's name on the items it holds (worked out again after a fork)."""
        if self._owner[0] != os.getpid():
            self._owner = os.getpid(), f"{socket.gethostname()}:{os.getpid()}:inbox"
        return self._owner[1]

    def submit(self, items: list[tuple[int, str]]) -> None:
        """Take (item id, sender) pairs that inbox.receive() leased to this process."""
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (threads do not survive a fork)
                self._pid = os.getpid()
                atexit.register(self.hand_back)
                threading.Thread(target=self._run, name="sokuresu-inbox", daemon=True).start()
        for item_id, sender in items:
            self._queue.put((item_id, sender, 0))

    def hand_back(self) -> int:
        """At exit (gunicorn stopping this process): give the items not started yet to the worker now,
        rather than when their leases run out, so their answers can still use the reply tokens."""
        ids = []
        while True:
            try:
                ids.append(self._queue.get_nowait()[0])
            except Empty:
                break
        try:
            return inbox.release(self.svc, ids, self.owner) if ids else 0
        except Exception as exc:  # the database is away: the leases will do it
            log.warning("inbox runner: could not hand back %d items (%s)", len(ids), type(exc).__name__)
            return 0

    def _run(self) -> None:
        owner, later = self.owner, []  # later: (when, item id, sender, waits so far)
        busy_until = 0.0  # under load until then: the last batch held several items
        while True:
            batch = []
            try:
                batch.append(self._queue.get(timeout=self.RETRY_WAIT if later else None))
                if (now := time.monotonic()) < busy_until:
                    deadline = now + self.GATHER
                    while len(batch) < self.BATCH and (left := deadline - time.monotonic()) > 0:
                        batch.append(self._queue.get(timeout=left))
                while len(batch) < self.BATCH:
                    batch.append(self._queue.get_nowait())
            except Empty:
                pass
            now = time.monotonic()
            for item in [item for item in later if item[0] <= now][: self.BATCH]:
                later.remove(item)
                batch.append(item[1:])
            if batch:
                self._run_batch(owner, batch, later)
                busy_until = time.monotonic() + self.LOAD_GAP if len(batch) > 1 else 0.0

    def _run_batch(self, owner: str, batch: list[tuple[int, str, int]], later: list) -> None:
        # Ordered by sender, then by arrival: every runner locks in the same order (no deadlock between
        # two web processes), and one sender's items keep their order.
        batch.sort(key=lambda item: (item[1], item[0]))
        try:
            statuses = retry_on_disconnect(lambda: self._process([item_id for item_id, _, _ in batch], owner))
        except Exception as exc:  # the database is away: the leases bring the items to the worker later
            log.warning("inbox runner: %d items left to the worker (%s)", len(batch), type(exc).__name__)
            return
        for item_id, sender, waits in batch:
            if statuses.get(item_id) != inbox.WAITING:
                continue
            if waits < self.MAX_WAITS:
                later.append((time.monotonic() + self.RETRY_WAIT, item_id, sender, waits + 1))
            else:
                inbox.release(self.svc, [item_id], owner, self.svc.clock())

    def _process(self, ids: list[int], owner: str) -> dict[int, str]:
        statuses, answers = inbox.process(self.svc, ids, owner)
        send_all(self.svc, answers, owner, self.limiter)
        return statuses
