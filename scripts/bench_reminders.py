"""Benchmark: 10,000 reminders due at once, sent by 1, 2 and 4 worker processes on PostgreSQL.

    .venv/bin/python scripts/bench_reminders.py [--db URL] [--rows 10000] [--workers 1,2,4]

Each run gets a fresh database (created next to --db, dropped afterwards), N bookings with a due
`reminder_soon` row each, and a recording fake provider on loopback without a rate limit. The
workers are the real `sokuresu worker` loop (run_until_signalled) in separate processes. Prints
messages/second, seconds until the last message reached the provider, and duplicates (must be 0).
tests/service/test_worker_scale.py drives the same pieces with fewer rows and a SIGKILL.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from datetime import time as clock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


class FakeProvider:
    """A provider on 127.0.0.1 that counts every request per outbox row; with keys it accepts each key once."""

    def __init__(self):
        self.hits, self.accepted, self.by_worker = Counter(), Counter(), Counter()
        self.last_at, self.lock = 0.0, threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Headers and body go out in two writes: without this, Nagle plus delayed ACKs add 40 ms each.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with provider.lock:
                    provider.hits[body["row"]] += 1
                    provider.by_worker[body["worker"]] += 1
                    repeat = bool(body.get("key")) and provider.accepted[body["key"]] > 0
                    if not repeat:
                        provider.accepted[body.get("key") or f"row-{body['row']}-{provider.hits[body['row']]}"] += 1
                        provider.last_at = time.monotonic()
                # Like LINE with X-Line-Retry-Key: a key seen before is answered 409 and not sent again.
                out = json.dumps({"id": f"m{body['row']}"}).encode()
                self.send_response(409 if repeat else 200)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def duplicates(self) -> int:
        """Messages the candidate would have received more than once."""
        return sum(self.accepted.values()) - len(self.hits)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HttpChannel:
    """The worker's side: one keep-alive connection to the fake provider per sending thread."""

    def __init__(self, url: str, send_keys: bool):
        self.host, self.port = url.removeprefix("http://").split(":")
        self.send_keys, self.local = send_keys, threading.local()

    def send(self, message) -> str | None:
        body = json.dumps({"row": message.meta["outbox_id"], "worker": os.getpid(),
                           "key": message.idempotency_key if self.send_keys else None})
        for attempt in (1, 2):
            try:
                conn = getattr(self.local, "conn", None) or http.client.HTTPConnection(self.host, int(self.port),
                                                                                       timeout=10)
                self.local.conn = conn
                conn.request("POST", "/send", body, {"Content-Type": "application/json"})
                res = conn.getresponse()
                res.read()
                return f"fake-{message.meta['outbox_id']}" if res.status in (200, 409) else None
            except (OSError, http.client.HTTPException):
                self.local.conn = None
                if attempt == 2:
                    raise


def worker_main(db: str, provider: str, lease: float, send_keys: bool) -> None:
    """One worker process: the real run loop with the fake provider as its only outside channel."""
    from bot.bootstrap import bootstrap
    from bot.channels.log import LogChannel
    from bot.config import Config
    from bot.core.settings import load_settings
    from bot.service import delivery as outbox
    from bot.worker import run_until_signalled

    outbox.LEASE = timedelta(seconds=lease)
    settings = load_settings()
    # No quiet hours: the benchmark must not depend on the hour in Tokyo when it runs.
    settings = replace(settings, policy=replace(settings.policy, quiet_start=clock(0), quiet_end=clock(0)))
    config = Config.from_env({"DATABASE_URL": db, "SECRET_KEY": "bench-secret-key-0123456789abcdef0",
                              "PUBLIC_BASE_URL": "http://localhost"})
    svc = bootstrap(config=config, settings=settings,
                    channels={"fake": HttpChannel(provider, send_keys), "recruiter": LogChannel("recruiter")})
    print("ready", flush=True)
    run_until_signalled(svc, poll=0.05)


def seed(db: str, rows: int) -> None:
    """Write `rows` live bookings, each with a reminder row due now, in one transaction."""
    from sqlalchemy import insert, select

    from bot.db.engine import make_engine
    from bot.db.models import Applicant, Booking, Outbox

    engine = make_engine(db)
    now = datetime.now(timezone.utc)
    start = now + timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(insert(Applicant), [{"name": f"bench {i}", "channel": "sms", "job_id": "bakery-staff",
                                          "token": secrets.token_hex(8), "state": "booked", "offered": [],
                                          "locale": "ja", "opted_out": False, "blocked": False,
                                          "unreachable": False, "created_at": now, "updated_at": now}
                                         for i in range(rows)])
        ids = conn.execute(select(Applicant.id).order_by(Applicant.id)).scalars().all()
        conn.execute(insert(Booking), [{"applicant_id": a, "interviewer": "sato", "start_at": start,
                                        "end_at": start + timedelta(minutes=30), "status": "booked",
                                        "token": secrets.token_hex(8), "created_at": now} for a in ids])
        bookings = conn.execute(select(Booking.id, Booking.applicant_id)).all()
        conn.execute(insert(Outbox), [{"applicant_id": a, "booking_id": b, "channel": "fake", "kind": "reminder_soon",
                                       "payload": {"kind": "reminder_soon", "text": "まもなく面接です"},
                                       "due_at": now, "status": "pending", "attempts": 0,
                                       "idempotency_key": secrets.token_hex(16), "created_at": now}
                                      for b, a in bookings])
    engine.dispose()


def start_workers(db: str, provider: str, count: int, lease: float = 60, send_keys: bool = False) -> list:
    """Start worker processes and wait until each has its services built."""
    cmd = [sys.executable, os.path.abspath(__file__), "worker", db, provider, str(lease), "1" if send_keys else "0"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(count)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", "a worker failed to start"
    return procs


def unsent(db: str) -> int:
    from sqlalchemy import func, select

    from bot.db.engine import make_engine
    from bot.db.models import Outbox

    engine = make_engine(db)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(Outbox).where(Outbox.status != "sent")).scalar()
    engine.dispose()
    return n


def stop_workers(procs: list, timeout: float = 10) -> list[int]:
    """SIGTERM every worker; return their exit codes (0 = a clean, graceful stop)."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    return [proc.wait(timeout=timeout) for proc in procs]


def run(server_url: str, rows: int, workers: int) -> dict:
    """One benchmark round on a throwaway database."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.db.migrate import upgrade

    server = make_url(server_url)
    name = f"sokuresu_bench_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = server.set(database=name).render_as_string(hide_password=False)
    provider = FakeProvider()
    try:
        upgrade(db)
        procs = start_workers(db, provider.url, workers)
        t0 = time.monotonic()
        seed(db, rows)
        due = time.monotonic()  # the moment all rows became visible (committed) and due
        while len(provider.hits) < rows and time.monotonic() - due < 600:
            time.sleep(0.02)
        last = provider.last_at - due
        while unsent(db) and time.monotonic() - due < 600:
            time.sleep(0.1)
        codes = stop_workers(procs)
        return {"workers": workers, "rows": rows, "seed_s": round(due - t0, 2), "last_sent_s": round(last, 2),
                "per_s": round(rows / last), "duplicates": provider.duplicates(), "exit": codes}
    finally:
        provider.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        db, provider, lease, keys = sys.argv[2:6]
        worker_main(db, provider, float(lease), keys == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("TEST_DATABASE_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    print(f"{'workers':>7} {'rows':>6} {'msg/s':>7} {'last sent (s)':>13} {'duplicates':>10}")
    for count in (int(n) for n in args.workers.split(",")):
        r = run(args.db, args.rows, count)
        print(f"{r['workers']:>7} {r['rows']:>6} {r['per_s']:>7} {r['last_sent_s']:>13} {r['duplicates']:>10}"
              f"   (seeding took {r['seed_s']} s; worker exit codes {r['exit']})", flush=True)


if __name__ == "__main__":
    main()
