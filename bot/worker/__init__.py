"""The worker process: runs the inbox and sends the outbox until told to stop (SIGTERM finishes the batch in hand)."""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

from bot.db import wakeup
from bot.service import inbox, retention
from bot.service.calendar_sync import poll as calendar_poll
from bot.service.deps import Services
from bot.service.followups import backfill
from bot.service.sendrates import for_deployment
from bot.worker.sender import Sender

log = logging.getLogger("sokuresu.worker")
CHECK_EVERY = 60.0  # seconds between the time-driven checks (reminders for bookings made elsewhere)


def periodic(svc: Services) -> None:
    """Run the time-driven checks; a failure is logged and retried next round."""
    try:
        backfill(svc)
    except Exception:
        log.exception("periodic checks failed; retrying next round")
    try:
        retention.sweep(svc)  # [privacy] retention_days: people quiet for that long are deleted
    except Exception:
        log.exception("retention sweep failed; retrying next round")
    try:
        calendar_poll(svc)  # recruiter-side moves and deletes in Google Calendar
    except Exception:
        log.exception("calendar poll failed; retrying next round")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def run(svc: Services, stop: threading.Event, poll: float = 0.5, batch: int = 50) -> None:
    """Run inbox items and deliver due rows until `stop` is set; wake early when this process enqueues something
    or a send ends that rows were waiting for."""
    owner = worker_id()
    log.info("worker %s started", owner)
    limiter, next_check = for_deployment(svc), 0.0  # [rate_limits] shared with every other process
    outbox = Sender(svc, owner, limiter, stop)
    while not stop.is_set():
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + CHECK_EVERY
            periodic(svc)
        try:
            # Inbound events first: what they answer goes out in the same round.
            busy = inbox.run_once(svc, owner, inbox.BATCH, limiter, stop) == inbox.BATCH
            busy = outbox.round(batch) == batch or busy
        except Exception:  # a database hiccup must not kill the worker; the lease protects the rows
            log.exception("worker %s: batch failed, retrying shortly", owner)
            busy = False
        if not busy:
            svc.process.wake.wait(poll)
            svc.process.wake.clear()
    outbox.close()  # each send in hand ends (the provider's timeout bounds it); the rows not started go back
    log.info("worker %s stopped", owner)


def run_until_signalled(svc: Services, poll: float = 0.5) -> None:
    """Run in the foreground; SIGTERM/SIGINT stop it after the messages in hand, handing back the rest."""
    stop = threading.Event()

    def _stop(signum, _frame):
        log.info("signal %s: finishing the current batch", signum)
        stop.set()
        svc.process.wake.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    wakeup.listen(svc.engine, svc.config.instance_path, svc.process.wake, stop)  # other processes' commits wake it
    run(svc, stop, poll)


def start_thread(svc: Services, poll: float = 0.25) -> tuple[threading.Thread, threading.Event]:
    """Run the worker beside the web app in this process (the demo)."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(svc, stop, poll), name="sokuresu-worker", daemon=True)
    thread.start()
    return thread, stop
