"""Wake the workers of every process when a transaction that queued outbox rows commits, not at their next poll.

A hint, never the truth: the outbox row with its lease stays the only record of what is to be
sent, and each worker still polls, so a wake-up that is lost (a worker restarting, a full socket buffer) only costs
the poll's delay.

- PostgreSQL: the transaction runs `pg_notify` just before its COMMIT, so the notification is delivered when (and
  only if) the rows are visible; each worker LISTENs on a connection of its own.
- SQLite: each worker binds a UNIX datagram socket under instance/wake/, and a process that committed sends a byte
  to every socket there. The byte may arrive a moment before the COMMIT ends, but every transaction here begins
  IMMEDIATE (bot.db.engine): the worker's claim waits for the write lock, so it sees the rows.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("sokuresu.wakeup")
CHANNEL = "sokuresu_wake"
# Inbox items are not announced: a web process leases those it writes to its own runner (bot.service.inbox_runner).
_QUEUES_WORK = "INSERT INTO outbox "
_FLAG = "sokuresu_wake"
LISTEN_TIMEOUT_S = 5.0  # how often the listener looks at its stop event
RECONNECT_S = 1.0


def socket_dir(instance: str | Path) -> Path:
    return Path(instance) / "wake"


def announce(engine: Engine, instance: str | Path) -> None:
    """Make every commit on `engine` that inserted outbox rows wake the workers (of any process)."""
    sqlite = engine.dialect.name == "sqlite"
    where = socket_dir(instance)

    @event.listens_for(engine, "after_cursor_execute")
    def _seen(conn, _cursor, statement, _params, _context, _many):
        if statement.startswith(_QUEUES_WORK):
            conn.info[_FLAG] = True

    @event.listens_for(engine, "commit")
    def _commit(conn):  # runs just before the COMMIT, inside the transaction
        if not conn.info.pop(_FLAG, False):
            return
        if sqlite:
            ring(where)
        else:
            with conn.connection.cursor() as cur:  # the DBAPI cursor: no SQLAlchemy events, no recursion
                cur.execute("SELECT pg_notify(%s, '')", (CHANNEL,))

    @event.listens_for(engine, "rollback")
    def _rollback(conn):
        if not conn.invalidated:  # a dropped connection is discarded with its info (and may not be touched)
            conn.info.pop(_FLAG, None)


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
