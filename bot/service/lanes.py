"""Threads to send on: a few per channel, and one recipient's messages in order on one of them (their lane).

A provider call that hangs until its timeout then holds up only its own lane: the channel's other threads go on
with other recipients' messages, and other channels have threads of their own. One recipient's messages never
overtake each other, and never go out on two threads at once. A recipient is a candidate (the worker's claims)
or an address (the answers a turn prepared, bot.service.delivery.send_all).
"""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Callable, Hashable, Iterable, TypeVar

T = TypeVar("T")
THREADS = 4  # per channel and process: at most this many provider calls of one channel at once


def lanes(items: Iterable[T], channel: Callable[[T], str], recipient: Callable[[T], Hashable | None]
          ) -> dict[tuple[str, Hashable], list[T]]:
    """Group items by channel and recipient, keeping their order. Items of no known recipient (a LINE friend who
    has not applied, whose address is only in the payload) share one lane per channel, so they keep their order too."""
    grouped: dict[tuple[str, Hashable], list[T]] = {}
    for item in items:
        grouped.setdefault((channel(item), recipient(item)), []).append(item)
    return grouped


class Pools:
    """One small thread pool per channel, made on first use, and the lanes each has in hand."""

    def __init__(self, threads: int = THREADS):
        self.threads = threads
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._busy: Counter[str] = Counter()  # channel -> lanes submitted and not finished
        self._held: Counter[Hashable] = Counter()  # recipient -> lanes in hand
        self._lock = threading.Lock()

    def submit(self, channel: str, recipient: Hashable, work: Callable[[], object]) -> Future:
        """Run `work` on one of the channel's threads (queued while they are all busy)."""
        with self._lock:
            pool = self._pools.get(channel)
            if pool is None:
                pool = self._pools[channel] = ThreadPoolExecutor(self.threads, thread_name_prefix=f"send-{channel}")
            self._busy[channel] += 1
            self._held[recipient] += 1
        future = pool.submit(work)
        future.add_done_callback(lambda _: self._done(channel, recipient))
        return future

    def _done(self, channel: str, recipient: Hashable) -> None:
        with self._lock:
            self._busy[channel] -= 1
            self._held[recipient] -= 1
            if not self._held[recipient]:
                del self._held[recipient]

    def full(self) -> set[str]:
        """Channels whose every thread has a lane: a claim leaves their rows to other workers for now."""
        with self._lock:
            return {channel for channel, n in self._busy.items() if n >= self.threads}

    def held(self) -> set[Hashable]:
        """Recipients with a lane in hand: their next message waits until it is done, to keep their order."""
        with self._lock:
            return set(self._held)

    def run(self, grouped: dict[tuple[str, Hashable], list[T]], work: Callable[[list[T]], object],
            on_caller: bool = True) -> list:
        """Run `work` on every lane, side by side; wait for them all; their results in lane order.

        The first lane runs on the calling thread, the others on their channels' threads (so the caller goes on
        even while those are all busy); the first failure is raised once every lane has ended. `on_caller=False`:
        every lane on its channel's threads, so each counts as in hand (a caller that is no channel's thread).
        """
        if not grouped:
            return []
        items = list(grouped.items())
        first = items[0][1] if on_caller else None
        futures = [self.submit(channel, who, lambda lane=lane: work(lane))
                   for (channel, who), lane in (items[1:] if on_caller else items)]
        try:
            results = [work(first)] if on_caller else []
        finally:
            wait(futures)
        return results + [future.result() for future in futures]
