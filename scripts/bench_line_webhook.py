#!/usr/bin/env python3
"""Benchmark POST /webhooks/line: Sokuresu against a bare echo bot, on the same machine, in one run.

Both apps run under gunicorn with the same worker count and answer through the same fake LINE API
(tests/fakes/line_api.py, its own process). The echo bot is built the way line-bot-sdk's
flask-echo example is: WebhookParser, then a reply per text event with a fresh ApiClient. Sokuresu
does its real work per event: signature check, the event kept (de-duplicated) in the inbox before
the 200; then, in the same web process, the turn (applicant lock, message log, state, free days
from the calendar for "other days"), the answer written to the outbox and sent with the reply
token, and the event marked done. A `sokuresu worker` process runs beside it, as in production. The
same signed text-message events (LINE's JSON format, from linked candidates) are sent to each by
the same closed-loop client.

    .venv/bin/python scripts/bench_line_webhook.py                  # 2 workers, 3000 events, 16 clients, 3 rounds
    .venv/bin/python scripts/bench_line_webhook.py --workers 4 --events 5000 --concurrency 32
    .venv/bin/python scripts/bench_line_webhook.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Each round measures the echo bot, then Sokuresu (both apps stay up, one idle while the other is
measured): events/second and p50/p99 latency of the webhook, and Sokuresu's rate end to end (until
its last answer left). Then the medians over the rounds and the median of the rounds' ratios
(goal, issue 16: Sokuresu end to end >= 0.6 x echo). It also prints the CPU each process used an
event in each run (from /proc), echo bot and Sokuresu side by side: the machine's speed drifts between
runs, the split between the processes does not.
Exit status 0 when every request got 200 and every Sokuresu reply was delivered, 1 otherwise.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET, TOKEN = "bench-channel-secret", "bench-access-token"
ECHO_APP = ('''
import os
from flask import Flask, abort, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, ReplyMessageRequest, TextMessage
from linebot.v3.webhooks import MessageEvent, TextMessageContent

app = Flask(__name__)
parser = WebhookParser(os.environ["LINE_CHANNEL_SECRET"])
configuration = Configuration(host=os.environ["LINE_API_BASE_URL"], '''
            '''access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"])


@app.post("/webhooks/line")
def callback():
    body = request.get_data(as_text=True)
    try:
        events = parser.parse(body, request.headers.get("X-Line-Signature", ""))
    except InvalidSignatureError:
        abort(400)
    for event in events:
        if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            with ApiClient(configuration) as api_client:
                MessagingApi(api_client).reply_message_with_http_info(ReplyMessageRequest(
                    reply_token=event.reply_token, messages=[TextMessage(text=event.message.text)]))
    return "OK"
''')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port} after {seconds}s")


def start(cmd: list[str], env: dict, cwd: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def signed_event(user: str, text: str) -> tuple[bytes, str]:
    event = {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
             "source": {"type": "user", "userId": user}, "replyToken": secrets.token_hex(16),
             "webhookEventId": "01" + secrets.token_hex(12).upper(), "deliveryContext": {"isRedelivery": False},
             "message": {"id": str(secrets.randbelow(10**17)), "type": "text", "quoteToken": "q", "text": text}}
    body = json.dumps({"destination": "U" + "0" * 32, "events": [event]}, ensure_ascii=False).encode()
    return body, base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def post(conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict) -> int:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    response.read()
    if response.getheader("Connection", "").lower() == "close":
        conn.close()  # gunicorn's sync workers close after each request; reconnect next time
    return response.status


def load(port: int, bodies: list[tuple[bytes, str]], concurrency: int) -> tuple[float, list[float], int]:
    """Send every body from `concurrency` closed-loop clients; (seconds, latencies in ms, non-200 count)."""
    latencies, errors, lock, index = [], [0], threading.Lock(), iter(range(len(bodies)))

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(index, None)
            if i is None:
                return
            body, signature = bodies[i]
            begin = time.perf_counter()
            try:
                status = post(conn, "/webhooks/line", body, {"X-Line-Signature": signature})
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            elapsed = (time.perf_counter() - begin) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += status != 200
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    begin = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - begin, latencies, errors[0]


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by each process on the machine (Linux /proc), by pid: (name, parent, seconds)."""
    tick, found = os.sysconf("SC_CLK_TCK"), {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        found[int(entry)] = (name, int(rest[1]), (int(rest[11]) + int(rest[12])) / tick)
    return found


def cpu_by_group(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far per group: each root process with its descendants, PostgreSQL's processes, and this one."""
    procs, totals = cpu_seconds(), {}
    for group, root in roots.items():
        members, grew = {root}, True
        while grew:
            more = {pid for pid, (_, parent, _) in procs.items() if parent in members} - members
            members |= more
            grew = bool(more)
        totals[group] = sum(procs[pid][2] for pid in members if pid in procs)
    totals["postgres"] = sum(seconds for name, _, seconds in procs.values() if name.startswith("postgres"))
    totals["benchmark client"] = sum(os.times()[:2])
    return totals


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {group: after[group] - before.get(group, 0.0) for group in after}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(name: str, port: int, users: list[str], events: int, concurrency: int) -> dict:
    texts = ("ヘルプ", "他の日")  # help, and "other days" (which asks the calendar for free days)
    warm = [signed_event(users[i % len(users)], texts[i % 2]) for i in range(min(200, events // 5))]
    load(port, warm, concurrency)
    bodies = [signed_event(users[i % len(users)], texts[i % 2]) for i in range(events)]
    seconds, latencies, errors = load(port, bodies, concurrency)
    result = {"name": name, "rate": events / seconds, "p50": pct(latencies, 50), "p99": pct(latencies, 99),
              "errors": errors, "seconds": seconds}
    print(f"  {name}: {result['rate']:.0f} events/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, "
          f"{errors} non-200", flush=True)
    return result


def seed(port: int, users: list[str]) -> None:
    """Link each benchmark user to an application through the intake API (as a job board would)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i, user in enumerate(users):
        body = json.dumps({"name": f"候補者 {i}", "channel": "line", "line_user_id": user, "job": "bakery-staff",
                           "external_id": f"bench-{user}"}).encode()
        status = post(conn, "/api/applications", body, {"Authorization": "Bearer bench-intake"})
        if status != 201:
            raise SystemExit(f"intake answered {status}")


def drained(url: str, seconds: float = 120) -> tuple[int, int, int]:
    """Wait for the worker to empty the outbox; (sent as reply, sent as push, not sent)."""
    from sqlalchemy import create_engine, text

    engine, deadline = create_engine(url), time.monotonic() + seconds
    # Rows due by now (follow-up nudges wait for hours); answers only (the greetings went out before).
    # The events still in the inbox count as waiting too: their answers are not written yet.
    query = text("select case when status = 'sent' and provider_message_id like 'reply:%' then 'reply'"
                 " when status = 'sent' then 'push' else status end, count(*) from outbox"
                 " where channel = 'line' and kind <> 'greeting' and due_at <= :now group by 1"
                 " union all select 'event_' || status, count(*) from inbox_item where status <> 'done' group by 1")
    try:
        while True:
            with engine.connect() as conn:
                now = datetime.now(timezone.utc).replace(tzinfo=None)  # stored as naive UTC
                rows = dict(conn.execute(query, {"now": now}).all())
            waiting = sum(rows.get(status, 0) for status in ("pending", "sending", "event_pending", "event_processing"))
            if waiting == 0 or time.monotonic() > deadline:
                return rows.get("reply", 0), rows.get("push", 0), waiting + rows.get("failed", 0) + rows.get(
                    "event_failed", 0)
            time.sleep(0.2)
    finally:
        engine.dispose()


def throwaway_database(server: str) -> tuple[str, callable]:
    """A fresh PostgreSQL database on the server named by --database-url, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name, admin = f"sokuresu_bench_{secrets.token_hex(4)}", create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers, the same for both apps")
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3, help="echo then Sokuresu, this many times (medians reported)")
    ap.add_argument("--sokuresu-workers", type=int, default=1, help="`sokuresu worker` processes (default 1)")
    ap.add_argument("--database-url", help="a PostgreSQL server URL: run Sokuresu on a throwaway database there "
                                           "(default: a SQLite file)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-line-"))
    log = tmp / "bench.log"
    fake_port, echo_port, app_port = free_port(), free_port(), free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DATABASE_URL"))}
    env = {**base, "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
           "LINE_API_BASE_URL": f"http://127.0.0.1:{fake_port}", "PYTHONPATH": str(ROOT),
           "DATABASE_URL": f"sqlite:///{tmp / 'sokuresu.sqlite3'}", "SECRET_KEY": "bench-secret-key-0123456789abcdef0",
           "INTAKE_API_KEY": "bench-intake",
           "SOKURESU_INSTANCE": str(tmp)}
    drop = None
    if args.database_url:
        env["DATABASE_URL"], drop = throwaway_database(args.database_url)
    (tmp / "echo_app.py").write_text(ECHO_APP)
    gunicorn = [str(BIN / "gunicorn"), "-w", str(args.workers), "--worker-class", "sync", "--log-level", "warning"]
    procs = [start([sys.executable, "-m", "tests.fakes.line_api", "--port", str(fake_port), "--token", TOKEN],
                   env, ROOT, log)]
    users = ["U" + secrets.token_hex(16) for _ in range(args.users)]
    print(f"{os.cpu_count()} CPUs, {args.workers} gunicorn workers each, {args.events} events a run, "
          f"{args.concurrency} concurrent clients, {args.users} LINE users, {args.rounds} rounds (log: {log})",
          flush=True)
    rounds, replies, pushes, left, errors = [], 0, 0, 0, 0
    try:
        wait_port(fake_port)
        subprocess.run([str(BIN / "sokuresu"), "db", "upgrade"], env=env, cwd=tmp, check=True, capture_output=True)
        procs.append(start(gunicorn + ["-b", f"127.0.0.1:{echo_port}", "--chdir", str(tmp), "echo_app:app"],
                           env, tmp, log))
        procs.append(start(gunicorn + ["-b", f"127.0.0.1:{app_port}", "bot:create_app()"], env, tmp, log))
        # As in production on one machine: each web process answers LINE, then runs the turns it took and
        # sends the answers; the worker process runs beside them (reminders, retries, rows left over).
        procs += [start([str(BIN / "sokuresu"), "worker", "--poll", "0.5"], env, tmp, log)
                  for _ in range(args.sokuresu_workers)]
        groups = {"fake LINE": procs[0].pid, "echo gunicorn": procs[1].pid, "Sokuresu gunicorn": procs[2].pid,
                  **{f"sokuresu worker {i + 1}": proc.pid for i, proc in enumerate(procs[3:])}}
        wait_port(echo_port)
        wait_port(app_port)
        seed(app_port, users)
        drained(env["DATABASE_URL"])
        # Rounds side by side: the load of a shared machine drifts, so each round measures both, and the
        # medians (and the median of the rounds' ratios) are what count.
        for n in range(1, args.rounds + 1):
            print(f"round {n}", flush=True)
            before = cpu_by_group(groups)
            echo = measure("echo bot (flask-echo shape)", echo_port, users, args.events, args.concurrency)
            middle = cpu_by_group(groups)
            begin = time.perf_counter()
            ours = measure("Sokuresu (webhook)", app_port, users, args.events, args.concurrency)
            replies, pushes, left = drained(env["DATABASE_URL"], 600)  # counted over all rounds so far
            end_to_end = (args.events + min(200, args.events // 5)) / (time.perf_counter() - begin)
            print(f"  Sokuresu end to end: {end_to_end:.0f} events/s (webhook -> turn -> answer sent, until the last)",
                  flush=True)
            sent = args.events + min(200, args.events // 5)  # with the warm-up
            for name, used in (("echo bot", cpu_delta(before, middle)), ("Sokuresu", cpu_delta(middle,
                                                                                              cpu_by_group(groups)))):
                print(f"  CPU ms an event, {name} run: " + ", ".join(
                    f"{group} {seconds * 1000 / sent:.2f}" for group, seconds in used.items())
                      + f"; all {sum(used.values()) * 1000 / sent:.2f}", flush=True)
            rounds.append((echo, ours, end_to_end))
            errors += echo["errors"] + ours["errors"]
    finally:
        for proc in reversed(procs):
            stop(proc)
        if drop:
            drop()
    if not rounds:
        return 1
    med = statistics.median
    echo_rate, web_rate = med(r[0]["rate"] for r in rounds), med(r[1]["rate"] for r in rounds)
    e2e_rate = med(r[2] for r in rounds)
    print(f"\nmedians of {len(rounds)} rounds{'':6}"
          f"{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}   (rounds' ratios)")
    rows = (("echo bot (flask-echo shape)", echo_rate, [r[0] for r in rounds], None),
            ("Sokuresu (webhook)", web_rate, [r[1] for r in rounds], [r[1]["rate"] / r[0]["rate"] for r in rounds]),
            ("Sokuresu end to end", e2e_rate, None, [r[2] / r[0]["rate"] for r in rounds]))
    for name, rate, runs, ratios in rows:
        latency = f"{med(x['p50'] for x in runs):>9.1f}{med(x['p99'] for x in runs):>9.1f}" if runs else " " * 18
        each = "   (" + ", ".join(f"{x:.2f}" for x in ratios) + ")" if ratios else ""
        print(f"{name:36}{rate:>10.0f}{latency}{med(ratios) if ratios else 1:>8.2f}{each}")
    print(f"goal: Sokuresu end to end >= 0.60 x echo (median of the rounds' ratios). Answers in all: {replies} as "
          f"replies, "
          f"{pushes} as pushes (reply token older than 50 s), {left} not sent; database "
          f"{'PostgreSQL' if drop else 'SQLite'}, {args.sokuresu_workers} sokuresu worker(s)")
    return 0 if errors == 0 and left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
