#!/usr/bin/env python3
"""Benchmark first-contact latency: applicant POSTed -> the provider receives the greeting.

This is a benchmark, not a test. By default it starts its own stack in a temporary directory
(fresh SQLite file, or a throwaway database on the PostgreSQL server of --database-url; `sokuresu db
upgrade`, gunicorn with the Procfile's web line, N `sokuresu worker` processes) wired to a fake Twilio
and a fake LINE API running in this process (tests/fakes: the real SDKs talk HTTP to them), offers
applications at a steady open-loop rate, half by SMS and half by LINE, and reports per channel

    first contact = the fake provider has read the greeting's request - the client started the POST

both on this process's monotonic clock. The outbox's own view (sent_at - POST) is printed too.

Examples (from the repository root):

    .venv/bin/python scripts/bench_first_contact.py                      # 20/s for 30 s, SQLite
    .venv/bin/python scripts/bench_first_contact.py --rate 40 --seconds 20
    .venv/bin/python scripts/bench_first_contact.py --rate 50 --seconds 15 --workers 2 --web-workers 2 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres   # throwaway database there
    .venv/bin/python scripts/bench_first_contact.py --url http://127.0.0.1:5000 \\
        --database-url sqlite:////path/to/sokuresu.sqlite3                # measure a running app

With --url nothing is started and no fake provider is used: latency is outbox.sent_at - POST, so the
client and the worker should share a clock (same host); INTAKE_API_KEY (or --api-key) must match the app.
Exit status: 0 when every request got a 201 and every greeting was sent, 1 otherwise, 2 on setup
failure, 130 on Ctrl+C.
"""
from __future__ import annotations

import argparse
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests
from bench_line_webhook import throwaway_database  # a PostgreSQL database made and dropped for one run

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
TERMINAL = ("sent", "failed", "cancelled")


# --- the stack under test ------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str:
    path = VENV_BIN / name
    return str(path) if path.exists() else (shutil.which(name) or name)


class Stack:
    """gunicorn + worker processes on a database, in a temp dir; stop() undoes everything."""

    def __init__(self, database_url: str | None, workers: int, web_workers: int, poll: float | None,
                 keep: bool, providers: dict[str, str]):
        self.tmp = Path(tempfile.mkdtemp(prefix="sokuresu-bench-"))
        self.keep = keep
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.logs: list[Path] = []
        self.drop = None
        if database_url and database_url.startswith("postgresql"):
            database_url, self.drop = throwaway_database(database_url)
        self.database_url = database_url or f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        self.api_key = secrets.token_urlsafe(24)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers, self.web_workers, self.poll = workers, web_workers, poll
        self.env = {**os.environ, "DATABASE_URL": self.database_url, "INTAKE_API_KEY": self.api_key,
                    "SECRET_KEY": secrets.token_urlsafe(32), "SOKURESU_INSTANCE": str(self.tmp / "instance"),
                    "PUBLIC_BASE_URL": self.url, "PYTHONUNBUFFERED": "1", **providers}

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = self.tmp / f"{name}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            # Own session: the terminal's Ctrl+C reaches only us, and we stop the whole group by its id.
            proc = subprocess.Popen(argv, cwd=self.tmp, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append((name, proc))

    def start(self) -> None:
        # cwd is the temp dir, so a developer's ./.env cannot leak into the run.
        done = subprocess.run([_bin("sokuresu"), "db", "upgrade"], cwd=self.tmp, env=self.env,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"sokuresu db upgrade failed:\n{done.stdout}{done.stderr}")
        self._spawn("web", [_bin("gunicorn"), "--workers", str(self.web_workers), "--bind",
                            f"127.0.0.1:{self.port}", "bot:create_app()"])
        for n in range(self.workers):
            argv = [_bin("sokuresu"), "worker"]
            if self.poll is not None:
                argv += ["--poll", str(self.poll)]
            self._spawn(f"worker{n + 1}", argv)
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode} during start-up:\n{self.tail(name)}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.url}/healthz did not answer 200 within {timeout:.0f} s:\n{self.tail('web')}")

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.tmp / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def log_findings(self) -> dict[str, dict[str, int]]:
        """Count the lines in each process log that matter for latency."""
        needles = {"database is locked": "database is locked", "Traceback": "tracebacks",
                   " ERROR ": "ERROR lines", "WARNING": "WARNING lines", "WORKER TIMEOUT": "gunicorn timeouts",
                   "batch failed": "worker batch failures"}
        found: dict[str, dict[str, int]] = {}
        for log in self.logs:
            text = log.read_text(errors="replace") if log.exists() else ""
            counts = {label: text.count(needle) for needle, label in needles.items() if needle in text}
            if counts:
                found[log.stem] = counts
        return found

    def stop(self) -> None:
        for _name, proc in self.procs:  # SIGTERM first: the worker finishes its batch, gunicorn its requests
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for _name, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        self.procs.clear()

    def cleanup(self) -> None:
        if self.drop is not None:
            self.drop()
        if self.keep:
            print(f"kept {self.tmp} (logs, database)")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# --- the fake providers ------------------------------------------------------------------------------

class Providers:
    """A fake Twilio and a fake LINE API (tests/fakes) on loopback, and when each recipient's first message arrived."""

    def __init__(self):
        from tests.fakes.line_api import FakeLine
        from tests.fakes.twilio_api import FakeTwilio

        self.twilio, self.line = FakeTwilio().start(), FakeLine().start()
        self.env = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "bench-token",
                    "TWILIO_FROM_NUMBER": "+15005550006", "TWILIO_API_BASE_URL": self.twilio.origin,
                    "LINE_CHANNEL_SECRET": "bench-secret", "LINE_CHANNEL_ACCESS_TOKEN": self.line.token,
                    "LINE_API_BASE_URL": self.line.origin}

    def arrivals(self) -> dict[str, float]:
        """{recipient: monotonic time its first message was read by the fake} (SMS by the number's last 8 digits)."""
        seen: dict[str, float] = {}
        with self.twilio.lock:
            for at, to in self.twilio.attempts:
                seen.setdefault(to[-8:], at)
        with self.line.lock:
            for req in self.line.requests:
                if req.path == "/v2/bot/message/push":
                    seen.setdefault(req.json.get("to", ""), req.at)
        return seen

    def stop(self) -> None:
        self.twilio.stop()
        self.line.stop()


# --- the load ---------------------------------------------------------------------------------------

@dataclass
class Sent:
    index: int
    external_id: str
    channel: str
    recipient: str                    # what the fake provider sees: the number's last 8 digits, or the LINE user id
    scheduled: float                  # monotonic time the open-loop schedule asked for
    started: float = 0.0              # monotonic time the request actually started
    sent_at: datetime | None = None   # client wall clock (UTC) when the POST was sent
    done: float = 0.0
    status: int | None = None
    applicant_id: int | None = None
    error: str | None = None


def recipient(run: str, i: int, channel: str) -> str:
    """The address of application i: a mobile number's last 8 digits for SMS, a LINE user id for LINE."""
    return f"1{i % 10**7:07d}" if channel == "sms" else f"U{run}{i:024x}"


def application(run: str, i: int, job: str, channel: str) -> dict:
    """A valid body (as tests/conftest.py's application()), unique per request, its address unique too."""
    digits = recipient(run, i, "sms")
    body = {"name": f"Bench {run} {i:06d}", "email": f"bench-{run}-{i}@example.com",
            "phone": f"090-{digits[:4]}-{digits[4:]}", "channel": channel, "job": job, "locale": "ja",
            "source": "bench", "external_id": f"bench-{run}-{i:06d}",
            "contact_window": {"days": "weekdays", "from": "18:00", "to": "21:00"}}
    if channel == "line":
        body["line_user_id"] = recipient(run, i, "line")
    return body


@dataclass
class Load:
    url: str
    api_key: str
    rate: float
    seconds: float
    threads: int
    job: str
    channels: tuple[str, ...] = ("sms",)
    run: str = field(default_factory=lambda: secrets.token_hex(4))
    results: list[Sent] = field(default_factory=list)

    def __post_init__(self):
        self._local = threading.local()
        self._stop = threading.Event()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            self._local.session.headers["Authorization"] = f"Bearer {self.api_key}"
        return self._local.session

    def _post(self, item: Sent) -> None:
        if self._stop.is_set():
            item.error = "not sent (interrupted)"
            return
        body = application(self.run, item.index, self.job, item.channel)
        item.started = time.monotonic()
        item.sent_at = datetime.now(timezone.utc)
        try:
            res = self._session().post(f"{self.url}/api/applications", json=body, timeout=60)
            item.status = res.status_code
            if res.status_code == 201:
                item.applicant_id = res.json().get("id")
            else:
                item.error = f"HTTP {res.status_code}: {res.text[:200]}"
        except requests.RequestException as exc:
            item.error = f"{type(exc).__name__}: {exc}"[:300]
        item.done = time.monotonic()

    def run_load(self) -> None:
        """Open loop: request i is submitted at t0 + i/rate whatever the earlier ones are doing."""
        total = max(1, int(round(self.rate * self.seconds)))
        pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="bench")
        t0 = time.monotonic() + 0.1
        try:
            for i in range(total):
                due = t0 + i / self.rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                channel = self.channels[i % len(self.channels)]
                item = Sent(i, f"bench-{self.run}-{i:06d}", channel, recipient(self.run, i, channel), due)
                self.results.append(item)
                pool.submit(self._post, item)
        except BaseException:
            self._stop.set()  # Ctrl+C: queued requests are skipped, the ones in flight finish
            raise
        finally:
            pool.shutdown(wait=True)


# --- reading the outcome from the database ------------------------------------------------------

def read_greetings(database_url: str, run: str, drain_timeout: float) -> tuple[dict[str, dict], float]:
    """{external_id: greeting row} for this run, after waiting for the outbox to drain; and the wait."""
    from sqlalchemy import and_, create_engine, select

    from bot.db.models import Applicant, Outbox

    a, o = Applicant.__table__, Outbox.__table__
    query = (select(a.c.id, a.c.external_id, o.c.status, o.c.created_at, o.c.sent_at, o.c.attempts,
                    o.c.last_error)
             .select_from(a.outerjoin(o, and_(o.c.applicant_id == a.c.id, o.c.kind == "greeting")))
             .where(a.c.external_id.like(f"bench-{run}-%")))
    # A plain engine (not bot.db.engine's, whose every transaction is BEGIN IMMEDIATE on SQLite): reads only.
    engine = create_engine(database_url)
    started = time.monotonic()
    try:
        while True:
            with engine.connect() as conn:
                rows = {r.external_id: r._asdict() for r in conn.execute(query)}
            waiting = sum(1 for r in rows.values() if r["status"] not in TERMINAL)
            if waiting == 0 or time.monotonic() - started >= drain_timeout:
                return rows, time.monotonic() - started
            time.sleep(0.5)
    finally:
        engine.dispose()


# --- report ------------------------------------------------------------------------------------------

def pct(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(p / 100 * len(sorted_values)) - 1))]


def dist_row(label: str, values: list[float]) -> str:
    s = sorted(values)
    if not s:
        return f"  {label:<34} {'(none)':>8}"
    cells = [pct(s, 50), pct(s, 95), pct(s, 99), s[-1]]
    return f"  {label:<34} {len(s):>6} " + " ".join(f"{v:>8.3f}" for v in cells)


def code_revision() -> str:
    """HEAD of the checkout the stack runs from, flagged when the working tree has changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}{' + uncommitted changes' if dirty else ''}"


def at_provider(load: Load, arrivals: dict[str, float]) -> dict[str, list[float]]:
    """{channel: [seconds from the POST's start until the fake provider had the greeting]}."""
    found: dict[str, list[float]] = {channel: [] for channel in load.channels}
    for r in load.results:
        if r.status == 201 and r.recipient in arrivals:
            found[r.channel].append(arrivals[r.recipient] - r.started)
    return found


def report(args, load: Load, rows: dict[str, dict], drained_in: float, findings: dict | None,
           arrivals: dict[str, float] | None) -> int:
    results = load.results
    offered = len(results)
    accepted = [r for r in results if r.status == 201]
    failed = [r for r in results if r.status != 201]
    first = min((r.started for r in results if r.started), default=0.0)
    last = max((r.done for r in results if r.done), default=first)
    # The offer window (n/rate), or longer when responses ran past it: accepted can never beat offered.
    duration = max(last - first, offered / args.rate, 1e-9)
    late = [r.started - r.scheduled for r in results if r.started]

    first_contact, intake, queued, http = [], [], [], []
    not_sent, statuses = [], {}
    for r in results:
        if r.done and r.status is not None:
            http.append(r.done - r.started)
        row = rows.get(r.external_id)
        if row is None:
            if r.status == 201:  # accepted but no applicant row: should never happen
                not_sent.append((r.external_id, "no applicant row"))
            continue
        statuses[row["status"] or "no greeting row"] = statuses.get(row["status"] or "no greeting row", 0) + 1
        if row["status"] != "sent" or row["sent_at"] is None:
            not_sent.append((r.external_id, f"status={row['status']} attempts={row['attempts']} "
                                            f"error={row['last_error']}"))
            continue
        if r.sent_at is None:
            continue
        first_contact.append((row["sent_at"] - r.sent_at).total_seconds())
        if row["created_at"] is not None:
            intake.append((row["created_at"] - r.sent_at).total_seconds())
            queued.append((row["sent_at"] - row["created_at"]).total_seconds())

    errors: dict[str, int] = {}
    for r in failed:
        key = (r.error or f"HTTP {r.status}").split(":")[0]
        errors[key] = errors.get(key, 0) + 1

    target = "own stack" if not args.url else args.url
    db = args.database_url or "fresh SQLite file"
    print()
    print(f"first-contact benchmark  run={load.run}  target={target}  database={db}")
    print(f"  web workers={args.web_workers if not args.url else '?'}  outbox workers="
          f"{args.workers if not args.url else '?'}  worker poll="
          f"{args.poll if args.poll is not None else 'default (0.5 s)'}  client threads={args.threads}")
    if not args.url:
        print(f"  code: {code_revision()}")
    print(f"  load average at the end (1/5/15 min, {os.cpu_count()} CPUs): "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()) + "  (other work on the machine skews the figures)")
    print()
    print(f"  {'offered rate':<34} {args.rate:>8.1f} /s  ({offered} requests over {args.seconds:g} s)")
    print(f"  {'accepted (201) rate':<34} {len(accepted) / duration:>8.1f} /s  "
          f"({len(accepted)} in {duration:.2f} s: the offer window or first send to last response)")
    print(f"  {'HTTP errors':<34} {len(failed):>8}" + (f"  {errors}" if errors else ""))
    print(f"  {'greetings not sent':<34} {len(not_sent):>8}  (outbox drained in {drained_in:.1f} s; "
          f"greeting status: {statuses})")
    lag = sorted(late)
    if lag and pct(lag, 99) > 0.05:
        print(f"  WARNING: the client fell behind its schedule (start lag p99 {pct(lag, 99):.3f} s, "
              f"max {lag[-1]:.3f} s): raise --threads")
    print()
    print(f"  {'seconds':<34} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    if arrivals is not None:
        for channel, values in at_provider(load, arrivals).items():
            print(dist_row(f"first contact at the provider, {channel}", values))
    print(dist_row("outbox sent_at - POST", first_contact))
    print(dist_row("  POST -> greeting enqueued", intake))
    print(dist_row("  enqueued -> sent", queued))
    print(dist_row("HTTP response time", http))
    print(dist_row("client start lag vs schedule", late))
    if findings is not None:
        print()
        if findings:
            for name, counts in findings.items():
                print(f"  log {name}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        else:
            print("  process logs: no errors, warnings or 'database is locked'")
    for r in failed[:5]:
        print(f"  failed {r.external_id}: {r.error}")
    for ext, why in not_sent[:5]:
        print(f"  not sent {ext}: {why}")
    print()
    return 0 if not failed and not not_sent and offered else 1


# --- main -------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=20.0, help="applications offered per second (default 20)")
    p.add_argument("--seconds", type=float, default=30.0, help="how long to offer them (default 30)")
    p.add_argument("--workers", type=int, default=1, help="`sokuresu worker` processes to start (default 1)")
    p.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (default 2, as the Procfile)")
    p.add_argument("--poll", type=float, default=None,
                   help="pass --poll to the workers (default: the worker's own default, 0.5 s)")
    p.add_argument("--threads", type=int, default=16, help="client thread pool size (default 16)")
    p.add_argument("--url", help="measure the app already running here (starts nothing; needs --database-url)")
    p.add_argument("--database-url", help="database of the app under test; without --url, the own stack "
                   "runs on it (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench) instead of a temp SQLite")
    p.add_argument("--api-key", default=os.environ.get("INTAKE_API_KEY"),
                   help="with --url: the app's INTAKE_API_KEY (default: $INTAKE_API_KEY)")
    p.add_argument("--channels", default="sms,line", help="channels the applications take in turn (default sms,line)")
    p.add_argument("--job", default="bakery-staff", help="job id to apply for (default bakery-staff)")
    p.add_argument("--drain-timeout", type=float, default=30.0, help="seconds to wait for the outbox (default 30)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, SQLite file) for inspection")
    args = p.parse_args(argv)
    if args.url and not args.database_url:
        p.error("--url needs --database-url (the greetings are read from the database)")
    if args.url and not args.api_key:
        p.error("--url needs --api-key or INTAKE_API_KEY")
    if args.rate <= 0 or args.seconds <= 0 or args.workers < 1 or args.threads < 1:
        p.error("--rate, --seconds, --workers and --threads must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))  # bot.db.models for the read-back, also when not installed

    def _terminate(signum, _frame):  # SIGTERM/SIGHUP: clean up like Ctrl+C
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (`&`)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    stack = providers = None
    try:
        if args.url:
            url, api_key, database_url = args.url.rstrip("/"), args.api_key, args.database_url
        else:
            providers = Providers()
            stack = Stack(args.database_url, args.workers, args.web_workers, args.poll, args.keep, providers.env)
            print(f"starting gunicorn ({args.web_workers} workers) and {args.workers} outbox worker(s) "
                  f"in {stack.tmp} ...", flush=True)
            try:
                stack.start()
            except RuntimeError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            url, api_key, database_url = stack.url, stack.api_key, stack.database_url
        load = Load(url, api_key, args.rate, args.seconds, args.threads, args.job, tuple(args.channels.split(",")))
        print(f"offering {args.rate:g}/s for {args.seconds:g} s to {url} ...", flush=True)
        load.run_load()
        print("load done; waiting for the outbox to drain ...", flush=True)
        rows, drained_in = read_greetings(database_url, load.run, args.drain_timeout)
        findings = None
        if stack is not None:
            stack.stop()  # flushes the logs before they are read
            findings = stack.log_findings()
        arrivals = providers.arrivals() if providers is not None else None
        return report(args, load, rows, drained_in, findings, arrivals)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping what was started", file=sys.stderr)
        return 130
    finally:
        if stack is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not skip the clean-up
            stack.stop()
            stack.cleanup()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        if providers is not None:
            providers.stop()


if __name__ == "__main__":
    sys.exit(main())
