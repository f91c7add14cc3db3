"""Wake the workers of every process when a transaction that queued outbox rows for now commits, not at their poll.

A hint, never the truth: the outbox row with its lease stays the only record of what is to be
sent, and each worker still polls, so a wake-up that is lost (a worker restarting, a full socket buffer) only costs
the poll's delay.

- PostgreSQL: the session runs `pg_notify` just before its COMMIT, so the notification is delivered when (and only
  if) the rows are visible; each worker LISTENs on a connection of its own.
- SQLite: each worker binds a UNIX datagram socket under instance/wake/, and a process sends a byte to every socket
  there after its commit.

Only ORM sessions are watched (every outbox row is written through one).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import weakref
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core.vocab import OutboxStatus
from bot.db.models import Outbox

log = logging.getLogger("sokuresu.wakeup")
CHANNEL = "sokuresu_wake"
_NEW, _RING = "sokuresu_new_outbox", "sokuresu_ring"
# engine -> (socket dir, the deployment's clock: "due now" is the clock's now, as the workers' claims read it)
_announced: "weakref.WeakKeyDictionary[Engine, tuple[Path, Callable[[], datetime]]]" = weakref.WeakKeyDictionary()
LISTEN_TIMEOUT_S = 5.0  # how often the listener looks at its stop event
RECONNECT_S = 1.0
SOON = timedelta(seconds=1)  # a row due later than this is the poll's: waking now would find nothing to claim


def socket_dir(instance: str | Path) -> Path:
    return Path(instance) / "wake"


def announce(engine: Engine, instance: str | Path, clock: Callable[[], datetime]) -> None:
    """Make every commit on `engine` that wrote an outbox row a worker may claim now wake the workers (of any
    process). Rows the committer leased to itself (the web's inbox runner sends its answers) and rows due later
    (by `clock`, the one the rows' times come from) wake no one."""
    _announced[engine] = socket_dir(instance), clock
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_flush", _collect)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _forget)


def claimable(row: Outbox, now: datetime) -> bool:
    """Whether a worker could claim this row at once (what is not loaded counts as yes: nothing is read here)."""
    known = inspect(row).dict
    due = known.get("due_at")
    if due is not None and due.tzinfo is None:
        due = due.replace(tzinfo=timezone.utc)
    return (known.get("status", OutboxStatus.PENDING) == OutboxStatus.PENDING and known.get("lease_owner") is None
            and (due is None or due <= now + SOON))


def _collect(session: Session, _context, _instances) -> None:
    if session.bind in _announced:
        session.info.setdefault(_NEW, []).extend(o for o in session.new if isinstance(o, Outbox))


def _before_commit(session: Session) -> None:  # inside the transaction, before its COMMIT
    announced = _announced.get(session.bind)
    rows = session.info.pop(_NEW, []) + [o for o in session.new if isinstance(o, Outbox)]
    if announced is None or not rows:
        return
    where, clock = announced
    now = clock()
    if not any(claimable(row, now) for row in rows):
        return
    if session.bind.dialect.name == "sqlite":
        session.info[_RING] = where
    else:  # delivered when, and only if, this transaction commits
        session.connection().exec_driver_sql(f"SELECT pg_notify('{CHANNEL}', '')")


def _after_commit(session: Session) -> None:
    if (where := session.info.pop(_RING, None)) is not None:
        ring(where)


def _forget(session: Session, _transaction) -> None:
    session.info.pop(_NEW, None)
    session.info.pop(_RING, None)


def ring(where: Path) -> None:
    """Send a byte to every worker's socket under `where` (best effort: the poll is the safety net)."""
    try:
        names = os.listdir(where)
    except FileNotFoundError:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for name in names:
            try:
                sock.sendto(b"!", str(where / name))
            except ConnectionRefusedError:  # a worker that died without removing its socket
                _unlink(where / name)
            except OSError:  # its buffer is full: it has a wake-up pending anyway
                pass


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def listen(engine: Engine, instance: str | Path, wake: threading.Event, stop: threading.Event) -> threading.Thread:
    """Set `wake` whenever another transaction's work commits, until `stop` is set (a daemon thread)."""
    target = _listen_sqlite if engine.dialect.name == "sqlite" else _listen_postgres
    thread = threading.Thread(target=target, args=(engine, instance, wake, stop), name="wakeup", daemon=True)
    thread.start()
    return thread


def _listen_postgres(engine: Engine, _instance, wake: threading.Event, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            raw = engine.raw_connection()
            conn = raw.driver_connection
            raw.detach()  # a connection of its own, outside the pool, for as long as the worker runs
            conn.autocommit = True
            try:
                conn.execute(f"LISTEN {CHANNEL}")
                wake.set()  # anything committed while no one listened is looked at now
                while not stop.is_set():
                    for _ in conn.notifies(timeout=LISTEN_TIMEOUT_S):
                        wake.set()
            finally:
                conn.close()
        except Exception as exc:  # the database restarted: the poll goes on meanwhile
            log.warning("wake-up listener: %s: %s; listening again in %.0f s", type(exc).__name__, exc, RECONNECT_S)
            stop.wait(RECONNECT_S)


def _listen_sqlite(_engine, instance, wake: threading.Event, stop: threading.Event) -> None:
    where = socket_dir(instance)
    path = where / f"{os.getpid()}-{threading.get_ident()}"
    try:
        where.mkdir(parents=True, exist_ok=True)
        _unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
    except OSError as exc:  # e.g. a path longer than a UNIX socket's 107 bytes
        log.warning("wake-up socket %s: %s; the worker polls only", path, exc)
        return
    sock.settimeout(LISTEN_TIMEOUT_S)
    wake.set()  # anything committed before the socket was there is looked at now
    try:
        while not stop.is_set():
            try:
                sock.recv(64)
            except TimeoutError:
                continue
            wake.set()
    finally:
        sock.close()
        _unlink(path)
