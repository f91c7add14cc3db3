"""A fake Twilio REST API on 127.0.0.1: records message creates, answers like Twilio, fails on request."""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Created:
    """One message-create call as the fake received it."""

    path: str
    account: str
    form: dict[str, str]
    sid: str = ""

    @property
    def to(self) -> str:
        return self.form.get("To", "")

    @property
    def body(self) -> str:
        return self.form.get("Body", "")


@dataclass
class FakeTwilio:
    """Start with .start(); scripted failures are (status, code, message[, headers]) or ('sleep', seconds)."""

    created: list[Created] = field(default_factory=list)
    failures: list[tuple] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)  # numbers that replied STOP: 21610
    origin: str = ""

    def start(self) -> "FakeTwilio":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                user = base64.b64decode(self.headers.get("Authorization", "Basic Og==").split()[-1]).decode()
                status, body, *extra = fake.answer(self.path, user.split(":")[0], form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, account: str, form: dict) -> tuple[int, dict]:
        if not path.endswith("/Messages.json"):
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        if self.failures:
            failure = self.failures.pop(0)
            if failure[0] == "sleep":
                time.sleep(failure[1])
            else:
                status, code, message, *headers = failure
                return status, {"code": code, "message": message, "status": status}, (headers or [{}])[0]
        if form.get("To") in self.blocked:
            return 400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}
        sid = "SM" + secrets.token_hex(16)
        self.created.append(Created(path, account, form, sid))
        return 201, {"sid": sid, "account_sid": account, "to": form.get("To"), "from": form.get("From"),
                     "messaging_service_sid": form.get("MessagingServiceSid"), "body": form.get("Body"),
                     "status": "queued", "num_segments": "1", "direction": "outbound-api",
                     "api_version": "2010-04-01", "uri": f"{path[:-5]}/{sid}.json"}
