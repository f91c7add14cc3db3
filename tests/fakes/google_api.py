"""A fake Google Calendar API and OAuth token endpoint on 127.0.0.1, for the real client library."""
from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, unquote, urlparse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

UTC = timezone.utc


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _when(value: dict) -> datetime:
    if "dateTime" in value:
        return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00")).astimezone(UTC)
    return datetime.fromisoformat(value["date"]).replace(tzinfo=UTC)


@dataclass
class FakeGoogle:
    """The server's state: calendars, events, issued tokens, injected failures, and every request seen."""

    public_keys: dict = field(default_factory=dict)      # service-account e-mail -> RSA public key
    refresh_tokens: set = field(default_factory=set)     # accepted OAuth refresh tokens
    calendars: dict = field(default_factory=dict)        # calendar id -> {"writable": bool, "readable": bool}
    events: dict = field(default_factory=dict)           # (calendar id, event id) -> event
    tokens: dict = field(default_factory=dict)           # access token -> subject
    grants: list = field(default_factory=list)           # JWT claims of every grant
    requests: list = field(default_factory=list)         # (method, path, query, body)
    failures: list = field(default_factory=list)         # [status, reason, path fragment, remaining]
    expired_sync: bool = False
    meet_pending: bool = False  # True: insert answers before the Meet link exists (it appears on the next get)
    freebusy_counts_declined: bool = False  # True: free/busy reports declined events too (we must not trust it)
    observer: Callable[[str, str], None] | None = None  # called with (method, path) as each request arrives
    seq: itertools.count = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    origin: str = ""

    def add_calendar(self, cal_id: str, writable: bool = True, readable: bool = True, details: bool = True) -> None:
        """details=False: shared as "free/busy only", so listing events is refused."""
        self.calendars[cal_id] = {"writable": writable, "readable": readable, "details": details}

    def fail(self, status: int, reason: str = "", path: str = "", times: int = 1) -> None:
        """Answer the next `times` requests whose path contains `path` with this error."""
        self.failures.append([status, reason, path, times])

    def put(self, cal_id: str, start: datetime, end: datetime, **extra) -> dict:
        """Add an event as a person would in Google Calendar (timed, or all-day with all_day=True)."""
        if extra.pop("all_day", False):
            when = {"start": {"date": start.date().isoformat()}, "end": {"date": end.date().isoformat()}}
        else:
            when = {"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}}
        return self._store(cal_id, {"summary": "busy", "status": "confirmed", **when, **extra})

    def move(self, cal_id: str, event_id: str, start: datetime, end: datetime) -> None:
        """The recruiter drags the event to another time."""
        event = self.events[(cal_id, event_id)]
        event.update(start={"dateTime": start.isoformat()}, end={"dateTime": end.isoformat()})
        self._touch(event)

    def remove(self, cal_id: str, event_id: str) -> None:
        """The recruiter deletes the event."""
        self.events[(cal_id, event_id)]["status"] = "cancelled"
        self._touch(self.events[(cal_id, event_id)])

    def live(self, cal_id: str | None = None) -> list[dict]:
        return [e for (c, _), e in self.events.items()
                if e["status"] != "cancelled" and (cal_id is None or c == cal_id)]

    def _touch(self, event: dict) -> None:
        event["_seq"] = next(self.seq)
        event["updated"] = datetime.now(UTC).isoformat()

    def _store(self, cal_id: str, body: dict, event_id: str | None = None) -> dict:
        event_id = event_id or body.get("id") or f"ev{next(self.seq):06d}"
        event = {**body, "id": event_id, "status": body.get("status", "confirmed"), "_cal": cal_id}
        self.events[(cal_id, event_id)] = event
        self._touch(event)
        return event

    def busy(self, cal_id: str, start: datetime, end: datetime) -> list[dict]:
        spans = []
        for e in self.live(cal_id):
            if e.get("transparency") == "transparent" or not self.freebusy_counts_declined and any(
                    a.get("self") and a.get("responseStatus") == "declined" for a in e.get("attendees", ())):
                continue
            s, t = _when(e["start"]), _when(e["end"])
            if s < end and t > start:
                spans.append({"start": s.isoformat().replace("+00:00", "Z"),
                              "end": t.isoformat().replace("+00:00", "Z")})
        return sorted(spans, key=lambda b: b["start"])


def public(event: dict) -> dict:
    return {k: v for k, v in event.items() if not k.startswith("_")}


class Handler(BaseHTTPRequestHandler):
    fake: FakeGoogle

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _reply(self, status: int, body: dict | None = None) -> None:
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, reason: str, message: str = "") -> None:
        self._reply(status, {"error": {"code": status, "message": message or reason,
                                       "errors": [{"domain": "global", "reason": reason,
                                                   "message": message or reason}]}})

    def _handle(self, method: str) -> None:
        from tests.fakes.google_routes import route  # the routes need FakeGoogle, defined above

        fake, url = self.fake, urlparse(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if fake.observer is not None:  # outside the lock: it may look at the caller's database meanwhile
            fake.observer(method, url.path)
        with fake.lock:
            fake.requests.append((method, url.path, query, raw.decode()))
            for failure in fake.failures:
                if failure[3] > 0 and failure[2] in url.path:
                    failure[3] -= 1
                    return self._error(failure[0], failure[1] or "backendError")
            if url.path == "/token":
                return self._token(parse_qs(raw.decode()))
            subject = fake.tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer "))
            if subject is None:
                return self._error(401, "authError", "Invalid Credentials")
            body = json.loads(raw) if raw else {}
            status, answer = route(fake, method, unquote(url.path), query, body)
            if status >= 400:
                return self._error(status, answer.get("reason", "error"))
            return self._reply(status, answer)

    def _token(self, form: dict) -> None:
        fake = self.fake
        grant = form.get("grant_type", [""])[0]
        if grant == "authorization_code":  # the installed-app flow trading its code
            refresh = f"refresh-{next(fake.seq)}"
            fake.refresh_tokens.add(refresh)
            token = f"fake-access-{next(fake.seq)}"
            fake.tokens[token] = "oauth-user"
            return self._reply(200, {"access_token": token, "refresh_token": refresh, "expires_in": 3600,
                                     "token_type": "Bearer", "scope": "https://www.googleapis.com/auth/calendar"})
        if grant == "refresh_token":
            if form.get("refresh_token", [""])[0] not in fake.refresh_tokens:
                return self._reply(400, {"error": "invalid_grant", "error_description": "Token has been revoked."})
            subject = "oauth-user"
        else:
            head, claims, sig = form.get("assertion", ["..."])[0].split(".")
            payload = json.loads(_b64(claims))
            key = fake.public_keys.get(payload.get("iss"))
            try:
                key.verify(_b64(sig), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
            except Exception:
                return self._reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
            fake.grants.append(payload)
            subject = payload.get("sub") or payload["iss"]
        token = f"fake-access-{next(fake.seq)}"
        fake.tokens[token] = subject
        self._reply(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")


class FakeGoogleServer:
    """Run FakeGoogle on a free loopback port in a thread; use as a context manager."""

    def __init__(self):
        self.fake = FakeGoogle()
        handler = type("BoundHandler", (Handler,), {"fake": self.fake})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.fake.origin = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeGoogle:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
