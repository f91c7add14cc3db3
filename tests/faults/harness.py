"""What the delivery fault tests share: greetings to send, `sokuresu worker` processes, a database connection that
can be stopped, and the tally of what the fake providers received."""
from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bot.db.models import Applicant, Outbox

ROOT = Path(__file__).resolve().parents[2]
# Seconds instead of production's minutes (tests/faults/worker.py): lease, rest before asking about an unknown
# outcome, backoff, and the providers' read timeout.
KNOBS = {"FAULTS_LEASE": "3", "FAULTS_UNSURE_WAIT": "3", "FAULTS_BACKOFF": "1", "FAULTS_TIMEOUT": "1.5"}


def seed(engine, sms: int = 0, line: int = 0) -> dict[int, str]:
    """Greetings due now: `sms` by SMS and `line` by LINE, one candidate each; outbox row id -> address."""
    now, rows = datetime.now(timezone.utc), {}
    with Session(engine) as s:
        for n in range(sms + line):
            by_sms = n < sms
            address = f"+8190{n:08d}" if by_sms else "U" + secrets.token_hex(16)
            applicant = Applicant(name=f"候補 {n}", channel="sms" if by_sms else "line", job_id="bakery-staff",
                                  phone=address if by_sms else None, line_user_id=None if by_sms else address,
                                  created_at=now, updated_at=now)
            s.add(applicant)
            s.flush()
            text = f"候補 {n}さん、ご応募ありがとうございます。"
            row = Outbox(applicant_id=applicant.id, channel=applicant.channel, kind="greeting",
                         payload={"kind": "greeting", "text": text}, due_at=now, created_at=now)
            s.add(row)
            s.flush()
            rows[row.id] = address
        s.commit()
    return rows


def statuses(engine) -> Counter:
    with engine.connect() as conn:
        return Counter(dict(conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all()))


def wait_for(condition, timeout: float = 60.0, what: str = "") -> float:
    """Poll until `condition()` holds; the seconds it took."""
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < timeout, f"timed out waiting for {what or condition}"
        time.sleep(0.05)
    return time.monotonic() - began


def all_sent(engine, rows: dict[int, str]):
    return lambda: statuses(engine).get("sent", 0) == len(rows)


@dataclass(frozen=True)
class Tally:
    """What the candidates received: one message each is `sent`; more are `duplicated`; none is `lost`."""

    sent: int
    duplicated: int
    lost: int

    @classmethod
    def of(cls, rows: dict[int, str], received: Counter) -> "Tally":
        counts = [received.get(address, 0) for address in rows.values()]
        return cls(sum(1 for n in counts if n), sum(max(0, n - 1) for n in counts), sum(1 for n in counts if not n))

    def report(self, scenario: str) -> str:
        line = f"{scenario}: sent {self.sent} / duplicated {self.duplicated} / lost {self.lost}"
        print(line)
        return line


def received(twilio, line) -> Counter:
    """Messages each address got: SMS Twilio created, LINE messages LINE delivered."""
    with twilio.lock, line.lock:
        return Counter([c.to for c in twilio.created] + [user for user, _, _ in line.delivered])


class Worker:
    """One `sokuresu worker` process (tests/faults/worker.py) with its log kept, for a failing test to show."""

    def __init__(self, env: dict, cwd: Path):
        self.log: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.faults.worker"], cwd=cwd, env=env, text=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()
        started = re.compile(r"worker \S+ started")
        wait_for(lambda: any(started.search(line) for line in self.log) or self.proc.poll() is not None, 30,
                 "the worker to start")
        assert self.proc.poll() is None, "".join(self.log[-30:])

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)

    def owns(self) -> str:
        """The LIKE pattern of the lease owner names this process uses (host:pid:thread)."""
        return f"%:{self.proc.pid}:%"

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


def worker_env(database_url: str, twilio, line, instance: Path, **knobs) -> dict:
    """The worker's whole environment: the fakes as providers, no .env or settings of the machine."""
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8",
            "DATABASE_URL": database_url, "SECRET_KEY": "faults-secret-key-0123456789abcdef0123",
            "PUBLIC_BASE_URL": "https://jobs.example.com", "SOKURESU_INSTANCE": str(instance),
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "faults-twilio-token",
            "TWILIO_FROM_NUMBER": "+815012345678", "TWILIO_API_BASE_URL": twilio.origin,
            "LINE_CHANNEL_SECRET": "faults-line-secret", "LINE_CHANNEL_ACCESS_TOKEN": line.token,
            "LINE_API_BASE_URL": line.origin, **KNOBS, **{k: str(v) for k, v in knobs.items()}}


class Proxy:
    """A TCP proxy in front of PostgreSQL that a test can stop: paused, it holds every byte both ways (a database
    that stops answering); drop() closes every connection through it, as a restarted server does."""

    def __init__(self, database_url: str):
        url = make_url(database_url)
        self.upstream = (url.host or "127.0.0.1", url.port or 5432)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = url.set(host="127.0.0.1", port=self.listener.getsockname()[1]).render_as_string(
            hide_password=False)
        self.flowing, self.closed, self.sockets = threading.Event(), False, []
        self.flowing.set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client = self.listener.accept()[0]
                server = socket.create_connection(self.upstream)
            except OSError:
                continue
            self.sockets += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                break
            if not data:
                break
            self.flowing.wait()  # paused: what arrived waits here, unanswered
            try:
                dst.sendall(data)
            except OSError:
                break
        for sock in (src, dst):
            _close(sock)

    def pause(self) -> None:
        self.flowing.clear()

    def drop(self) -> None:
        """Close every connection now (those it held while paused included), then let new ones through."""
        sockets, self.sockets = self.sockets, []
        for sock in sockets:
            _close(sock)
        self.flowing.set()

    def close(self) -> None:
        self.closed = True
        self.listener.close()
        self.drop()


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
