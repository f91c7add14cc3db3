"""The worker's outbox rounds: claim what a free thread can send now, and never wait for a slow send."""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, wait

from bot.service.delivery import claim_rows, prepare_claimed, record_all, send_lane
from bot.service.delivery_record import Outcome
from bot.service.deps import Services
from bot.service.lanes import lanes
from bot.service.ratelimit import Limiter

log = logging.getLogger("sokuresu.worker")


class Batch:
    """The outcomes of one claimed batch's lanes, recorded in one transaction when the last lane has ended."""

    def __init__(self, svc: Services, owner: str, lanes_left: int):
        self.svc, self.owner, self.left = svc, owner, lanes_left
        self.outcomes: list[Outcome | str] = []
        self._lock = threading.Lock()

    def lane_done(self, outcomes: list[Outcome | str]) -> None:
        with self._lock:
            self.outcomes += outcomes
            self.left -= 1
            if self.left:
                return
        # Rows not recorded keep their lease: a worker takes them over when it runs out, as unsure rows.
        record_all(self.svc, self.outcomes, self.owner)


class Sender:
    """Prepares each claimed batch in one transaction, hands each candidate's rows to a thread of their channel
    (bot.service.lanes) and goes on claiming; the batch's sends are recorded together when its lanes are done.

    A provider call that hangs holds up its own candidate only: the next round claims the rows of other
    candidates (and none of a channel whose threads are all busy, which another worker may take meanwhile).
    """

    def __init__(self, svc: Services, owner: str, limiter: Limiter, stop: threading.Event):
        self.svc, self.owner, self.limiter, self.stop = svc, owner, limiter, stop
        self.in_hand: set[Future] = set()
        self.skipped = False  # the last claim left rows out for a busy thread: look again when one is free
        self._lock = threading.Lock()

    def round(self, limit: int) -> int:
        """Claim up to `limit` due rows and start sending them; return how many were claimed."""
        pools = self.svc.process.pools
        full, held = pools.full(), pools.held()
        self.skipped = bool(full or held)
        claimed = claim_rows(self.svc, self.owner, limit, skip_channels=full,
                             skip_applicants={who for who in held if isinstance(who, int)}, skip_unowned=None in held)
        if not claimed:
            return 0
        whose = {c.row_id: c.applicant_id for c in claimed}
        since = self.svc.clock()
        grouped = lanes(prepare_claimed(self.svc, sorted(whose), self.owner),
                        lambda p: p.message.channel, lambda p: whose[p.row_id])
        batch = Batch(self.svc, self.owner, len(grouped))
        for (channel, who), lane in grouped.items():
            future = pools.submit(channel, who, lambda lane=lane: self._send(batch, lane, since))
            with self._lock:
                self.in_hand.add(future)
            future.add_done_callback(self._done)
        return len(claimed)

    def _send(self, batch: Batch, lane: list, since) -> None:
        outcomes: list[Outcome | str] = []
        try:
            outcomes = send_lane(self.svc, lane, self.owner, self.limiter, self.stop, since)
        finally:
            batch.lane_done(outcomes)

    def _done(self, future: Future) -> None:
        with self._lock:
            self.in_hand.discard(future)
        if not future.cancelled() and (exc := future.exception()) is not None:
            # The lease keeps the rows: they are claimed again once it runs out.
            log.error("worker %s: sending failed (%s: %s); the rows are retried after their lease",
                      self.owner, type(exc).__name__, exc)
        if self.skipped:
            self.svc.process.wake.set()  # a thread is free: the rows left out can go now

    def close(self, timeout: float | None = None) -> None:
        """Wait for the sends in hand (after a stop, each lane finishes its message and hands back the rest)."""
        with self._lock:
            futures = set(self.in_hand)
        wait(futures, timeout)
