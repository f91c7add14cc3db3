"""A fake LINE Messaging API on 127.0.0.1: records every request, answers like LINE, fails on request.

Also signs webhook bodies the way LINE does, and builds events in LINE's documented JSON format.
Run alone (`python -m tests.fakes.line_api --port 8099`) for the benchmark.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.fakes.server import QuietHTTPServer

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class Request:
    """One call as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def json(self):
        return json.loads(self.body or b"{}")


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", data[16:24])


def problems(messages: list) -> list[dict]:
    """LINE's documented limits on message objects, as LINE's 400 'details' would list them."""
    found = []
    if not 1 <= len(messages) <= 5:
        found.append({"message": "Size must be between 1 and 5", "property": "messages"})
    for i, m in enumerate(messages):
        if m.get("type") == "text" and not 1 <= len(m.get("text", "")) <= 5000:
            found.append({"message": "Length must be between 1 and 5000", "property": f"messages[{i}].text"})
        if m.get("type") == "flex" and not 1 <= len(m.get("altText", "")) <= 1500:
            found.append({"message": "Length must be between 1 and 1500", "property": f"messages[{i}].altText"})
        items = (m.get("quickReply") or {}).get("items", [])
        if len(items) > 13:
            found.append({"message": "Size must be between 0 and 13", "property": f"messages[{i}].quickReply.items"})
        for j, item in enumerate(items):
            action = item.get("action", {})
            if not 1 <= len(action.get("label", "")) <= 20:
                found.append({"message": "Length must be between 1 and 20",
                              "property": f"messages[{i}].quickReply.items[{j}].action.label"})
            if len(action.get("data", "")) > 300:
                found.append({"message": "Length must be between 0 and 300",
                              "property": f"messages[{i}].quickReply.items[{j}].action.data"})
    return found


@dataclass
class FakeLine:
    """Start with .start(); script failures with .fail(path_part, status, message, times, accept=False)."""

    token: str = "test-access-token"
    requests: list[Request] = field(default_factory=list)
    delivered: list[tuple[str, str, list]] = field(default_factory=list)  # (user, 'reply'|'push', messages)
    reply_tokens: dict[str, str] = field(default_factory=dict)  # token -> user it was issued for
    used_tokens: set[str] = field(default_factory=set)
    retry_keys: dict[str, str] = field(default_factory=dict)   # accepted X-Line-Retry-Key -> request id
    failures: list[dict] = field(default_factory=list)
    rich_menus: dict[str, dict] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)
    default_menu: str | None = None
    origin: str = ""
    delay: float = 0.0  # seconds every call takes (a slow LINE; other calls go on meanwhile)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, path: str, status: int, message: str = "error", times: int = 1, accept: bool = False,
             sleep: float = 0, headers: dict | None = None) -> None:
        """The next `times` calls whose path contains `path` get `status` (with `headers`, e.g. Retry-After);
        accept=True sends the message anyway."""
        self.failures.append({"path": path, "status": status, "message": message, "times": times,
                              "accept": accept, "sleep": sleep, "headers": headers or {}})

    def issue_token(self, user_id: str) -> str:
        """A reply token as LINE puts in a webhook event for this user."""
        token = secrets.token_hex(16)
        self.reply_tokens[token] = user_id
        return token

    def seen_by(self, user_id: str) -> list[list]:
        """Every batch of messages that reached this user, in order."""
        return [messages for user, _, messages in self.delivered if user == user_id]

    def calls(self, path_part: str) -> list[Request]:
        return [r for r in self.requests if path_part in r.path]

    def _failure(self, path: str) -> dict | None:
        for f in self.failures:
            if f["path"] in path and f["times"] > 0:
                f["times"] -= 1
                return f
        return None

    def authorised(self, req: Request) -> bool:
        return req.headers.get("authorization") == f"Bearer {self.token}"

    def handle(self, req: Request, failure: dict | None = None) -> tuple[int, dict, dict]:
        """Answer one call; `failure` is the scripted failure it drew (its sleep already slept)."""
        if not self.authorised(req):
            return 401, {"message": "Authentication failed. "
                                    "Confirm that the access token in the authorization header is valid."}, {}
        if failure and not failure["accept"]:
            return failure["status"], {"message": failure["message"]}, failure["headers"]
        status, body, headers = self.route(req)
        if failure:  # LINE took the message but the answer was lost on the way back
            return failure["status"], {"message": failure["message"]}, {}
        return status, body, headers

    def route(self, req: Request) -> tuple[int, dict, dict]:
        path, data = req.path, req.body
        if path == "/v2/bot/message/reply":
            body = json.loads(data)
            token = body.get("replyToken", "")
            if token not in self.reply_tokens or token in self.used_tokens:
                return 400, {"message": "Invalid reply token"}, {}
            if found := problems(body.get("messages", [])):
                return 400, {"message": "The request body has 1 error(s)", "details": found}, {}
            self.used_tokens.add(token)
            self.delivered.append((self.reply_tokens[token], "reply", body["messages"]))
            return 200, {"sentMessages": [{"id": str(secrets.randbelow(10**18)), "quoteToken": "q"}]}, {}
        if path == "/v2/bot/message/push":
            key = req.headers.get("x-line-retry-key")
            if key is not None and not UUID.match(key):
                return 400, {"message": "The value for the 'X-Line-Retry-Key' header is invalid"}, {}
            if key in self.retry_keys:
                return 409, {"message": "The retry key is already accepted",
                             "sentMessages": []}, {"x-line-accepted-request-id": self.retry_keys[key]}
            body = json.loads(data)
            if not re.match(r"^U[0-9a-f]{32}$", body.get("to", "")):
                return 400, {"message": "The property, 'to', in the request body is invalid"}, {}
            if found := problems(body.get("messages", [])):
                return 400, {"message": "The request body has 1 error(s)", "details": found}, {}
            request_id = secrets.token_hex(8)
            if key:
                self.retry_keys[key] = request_id
            self.delivered.append((body["to"], "push", body["messages"]))
            return (200, {"sentMessages": [{"id": str(secrets.randbelow(10**18)), "quoteToken": "q"}]},
                    {"x-line-request-id": request_id})
        if path == "/v2/bot/richmenu":
            menu_id = f"richmenu-{secrets.token_hex(16)}"
            self.rich_menus[menu_id] = json.loads(data)
            return 200, {"richMenuId": menu_id}, {}
        if m := re.fullmatch(r"/v2/bot/richmenu/(richmenu-[0-9a-f]+)/content", path):
            menu = self.rich_menus.get(m.group(1))
            size = _png_size(data) if req.headers.get("content-type") == "image/png" else None
            if menu is None:
                return 404, {"message": "Not found"}, {}
            if size != (menu["size"]["width"], menu["size"]["height"]) or len(data) > 1024 * 1024:
                return 400, {"message": "Invalid image: size or format does not match the rich menu"}, {}
            self.images[m.group(1)] = data
            return 200, {}, {}
        if m := re.fullmatch(r"/v2/bot/user/all/richmenu/(richmenu-[0-9a-f]+)", path):
            if m.group(1) not in self.images:
                return 400, {"message": "An image has not been uploaded to the rich menu"}, {}
            self.default_menu = m.group(1)
            return 200, {}, {}
        if path == "/v2/bot/user/all/richmenu" and req.method == "GET":
            return ((200, {"richMenuId": self.default_menu}, {}) if self.default_menu
                    else (404, {"message": "no default rich menu"}, {}))
        if m := re.fullmatch(r"/v2/bot/richmenu/(richmenu-[0-9a-f]+)", path):
            if m.group(1) not in self.rich_menus:
                return 404, {"message": "Not found"}, {}
            if req.method == "DELETE":
                del self.rich_menus[m.group(1)]
                return 200, {}, {}
            return 200, {"richMenuId": m.group(1), **self.rich_menus[m.group(1)]}, {}
        return 404, {"message": "Not found"}, {}

    def start(self, port: int = 0) -> "FakeLine":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as LINE's API front serves it
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args):
                pass

            def _serve(self):
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, data)
                with fake.lock:
                    fake.requests.append(req)
                    failure = fake._failure(req.path) if fake.authorised(req) else None
                pause = fake.delay + (failure["sleep"] if failure else 0)
                if pause:  # slept outside the lock: a slow call holds up no other
                    time.sleep(pause)
                with fake.lock:
                    status, body, headers = fake.handle(req, failure)
                    req.status = status
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_DELETE = _serve

        self.server = QuietHTTPServer(("127.0.0.1", port), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- webhook bodies in LINE's format, signed like LINE signs them ---------------------------------

def sign(secret: str, body: str | bytes) -> str:
    """X-Line-Signature: base64 of HMAC-SHA256 of the raw body with the channel secret."""
    raw = body.encode() if isinstance(body, str) else body
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def event(kind: str, user_id: str | None, at_ms: int, reply_token: str | None = None, redelivery: bool = False,
          source: dict | None = None, event_id: str | None = None, **extra) -> dict:
    """One webhook event object as LINE documents it."""
    body = {"type": kind, "mode": "active", "timestamp": at_ms,
            "source": source or {"type": "user", "userId": user_id},
            "webhookEventId": event_id or "01" + secrets.token_hex(12).upper(),
            "deliveryContext": {"isRedelivery": redelivery}, **extra}
    if reply_token:
        body["replyToken"] = reply_token
    return body


def text_message(text: str) -> dict:
    return {"message": {"id": str(secrets.randbelow(10**17)), "type": "text", "quoteToken": "q", "text": text}}


def sticker_message() -> dict:
    return {"message": {"id": "1", "type": "sticker", "quoteToken": "q", "packageId": "446", "stickerId": "1988",
                        "stickerResourceType": "STATIC", "keywords": ["happy"]}}


def image_message() -> dict:
    return {"message": {"id": "2", "type": "image", "quoteToken": "q",
                        "contentProvider": {"type": "line"}}}


def postback(data: str, params: dict | None = None) -> dict:
    body = {"data": data}
    if params:
        body["params"] = params
    return {"postback": body}


def webhook_body(*events: dict, destination: str = "U" + "0" * 32) -> str:
    return json.dumps({"destination": destination, "events": list(events)}, ensure_ascii=False)


class _AnyToken(dict):
    """Every reply token belongs to some user (benchmark: tokens are made up by the load generator)."""

    def __contains__(self, key) -> bool:
        return True

    def __getitem__(self, key) -> str:
        return "U" + "f" * 32


if __name__ == "__main__":  # pragma: no cover - the benchmark runs the fake as its own process
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--token", default="bench-access-token")
    args = parser.parse_args()
    fake = FakeLine(token=args.token).start(args.port)
    fake.reply_tokens = _AnyToken()  # every token is fresh: the benchmark makes its own
    print(fake.origin, flush=True)
    threading.Event().wait()
