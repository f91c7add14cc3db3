"""A fake Twilio REST API on 127.0.0.1: records message creates, lists them, answers like Twilio, fails on request."""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from tests.fakes.server import QuietHTTPServer


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Created:
    """One message-create call as the fake received it (and kept it)."""

    path: str
    account: str
    form: dict[str, str]
    sid: str = ""
    at: datetime | None = None  # date_created, by the fake's clock

    @property
    def to(self) -> str:
        return self.form.get("To", "")

    @property
    def body(self) -> str:
        return self.form.get("Body", "")

    def resource(self) -> dict:
        """The Message resource as Twilio answers it (dates in RFC 2822, as Twilio writes them)."""
        form, stamp = self.form, format_datetime(self.at or _now(), usegmt=True)
        return {"sid": self.sid, "account_sid": self.account, "to": form.get("To"), "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"), "body": form.get("Body"),
                "status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
                "date_created": stamp, "date_updated": stamp, "date_sent": None,
                "uri": f"{self.path[:-5]}/{self.sid}.json"}


@dataclass
class FakeTwilio:
    """Start with .start(). Scripted failures, one per create, in order:
    - (status, code, message[, headers]): answered so, nothing created;
    - ("sleep", seconds): hangs that long, then creates the message (a client that gave up meanwhile never knows);
    - ("created", status): creates the message, then answers `status` (Twilio's answer lost on the way back).
    `delay` seconds are spent on every create; `clock` stamps date_created (a test's fake clock)."""

    created: list[Created] = field(default_factory=list)
    failures: list[tuple] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)  # numbers that replied STOP: 21610
    origin: str = ""
    delay: float = 0.0
    clock: Callable[[], datetime] = _now
    attempts: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, To) of every create call
    lists: int = 0  # message-list calls
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "FakeTwilio":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API serves it (and the SDK's session reuses)
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args):  # keep test output quiet
                pass

            def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _account(self) -> str:
                user = base64.b64decode(self.headers.get("Authorization", "Basic Og==").split()[-1]).decode()
                return user.split(":")[0]

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                status, body, *extra = fake.answer(self.path, self._account(), form)
                self._answer(status, body, extra[0] if extra else None)

            def do_GET(self):
                url = urlsplit(self.path)
                self._answer(*fake.listing(url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}))

        self.server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def to(self, number: str) -> list[Created]:
        """The messages created for this number, oldest first."""
        with self.lock:
            return [c for c in self.created if c.to == number]

    def answer(self, path: str, account: str, form: dict) -> tuple:
        if not path.endswith("/Messages.json"):
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        with self.lock:
            self.attempts.append((time.monotonic(), form.get("To", "")))
            failure = self.failures.pop(0) if self.failures else None
        if self.delay:
            time.sleep(self.delay)
        if failure is not None and failure[0] == "sleep":
            time.sleep(failure[1])
        elif failure is not None and failure[0] == "created":
            self._create(path, account, form)
            return failure[1], {"code": 20500, "message": "Internal Server Error", "status": failure[1]}
        elif failure is not None:
            status, code, message, *headers = failure
            return status, {"code": code, "message": message, "status": status}, (headers or [{}])[0]
        if form.get("To") in self.blocked:
            return 400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}
        return 201, self._create(path, account, form).resource()

    def _create(self, path: str, account: str, form: dict) -> Created:
        made = Created(path, account, form, "SM" + secrets.token_hex(16), self.clock())
        with self.lock:
            self.created.append(made)
        return made

    def listing(self, path: str, query: dict) -> tuple[int, dict]:
        """GET …/Messages.json: the messages created, newest first, filtered by To and From, one page."""
        if not path.endswith("/Messages.json"):
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        size = min(int(query.get("PageSize", "50")), 1000)
        with self.lock:
            self.lists += 1
            found = [c for c in reversed(self.created)
                     if query.get("To") in (None, c.to) and query.get("From") in (None, c.form.get("From"))]
        return 200, {"messages": [c.resource() for c in found[:size]], "first_page_uri": path, "next_page_uri": None,
                     "previous_page_uri": None, "page": 0, "page_size": size, "start": 0, "end": len(found[:size]),
                     "uri": path}
