"""The worker process: sends the outbox until told to stop (SIGTERM finishes the batch in hand)."""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading

from bot.bootstrap import Services
from bot.outbox import run_once

log = logging.getLogger("sokuresu.worker")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def run(svc: Services, stop: threading.Event, poll: float = 0.5, batch: int = 50) -> None:
    """Deliver due rows until `stop` is set; wake early when this process enqueues something."""
    owner = worker_id()
    log.info("worker %s started", owner)
    while not stop.is_set():
        try:
            handled = run_once(svc, owner, batch)
        except Exception:  # a database hiccup must not kill the worker; the lease protects the rows
            log.exception("worker %s: batch failed, retrying shortly", owner)
            handled = 0
        if handled < batch:
            svc.wake.wait(poll)
            svc.wake.clear()
    log.info("worker %s stopped", owner)


def run_until_signalled(svc: Services, poll: float = 0.5) -> None:
    """Run in the foreground; SIGTERM/SIGINT stop it after the current batch."""
    stop = threading.Event()

    def _stop(signum, _frame):
        log.info("signal %s: finishing the current batch", signum)
        stop.set()
        svc.wake.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run(svc, stop, poll)


def start_thread(svc: Services, poll: float = 0.25) -> tuple[threading.Thread, threading.Event]:
    """Run the worker beside the web app in this process (the demo)."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(svc, stop, poll), name="sokuresu-worker", daemon=True)
    thread.start()
    return thread, stop
