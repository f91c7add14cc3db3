"""The web process's inbox runner takes a lone event at once and, under load, collects a bigger batch first."""
from __future__ import annotations

import time

from bot.service import inbox
from bot.service.inbox_runner import InboxRunner


class Recording(InboxRunner):
    """Runs nothing: notes each batch the runner hands on (the work itself is tested with the inbox)."""

    def __init__(self, svc):
        super().__init__(svc)
        self.batches: list[list[int]] = []

    def _process(self, ids, owner):
        self.batches.append(sorted(ids))
        return dict.fromkeys(ids, inbox.DONE)


def wait_for_batches(runner: Recording, count: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while len(runner.batches) < count:
        assert time.monotonic() < deadline, f"only {runner.batches} after {seconds}s"
        time.sleep(0.005)


def test_a_lone_event_is_run_at_once_without_waiting_for_company(svc):
    runner = Recording(svc)
    runner.GATHER = 60  # were it collecting, this test would wait a minute
    runner.submit([(1, "U1")])
    wait_for_batches(runner, 1)
    assert runner.batches == [[1]]


def test_after_a_batch_of_several_the_next_events_are_collected_into_one(svc):
    runner = Recording(svc)
    runner.GATHER, runner.LOAD_GAP, runner.BATCH = 60, 60, 3  # collect until three are in hand
    runner.submit([(1, "U1"), (2, "U2")])
    wait_for_batches(runner, 1)
    assert runner.batches == [[1, 2]]
    runner.submit([(3, "U3")])  # alone, it would run at once; under load it waits for company
    time.sleep(0.05)
    assert len(runner.batches) == 1
    runner.submit([(4, "U4"), (5, "U5")])
    wait_for_batches(runner, 2)
    assert runner.batches == [[1, 2], [3, 4, 5]]
