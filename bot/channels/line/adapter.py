"""LINE Messaging API through line-bot-sdk v3: the only module that imports it."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Callable

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuRequest,
)
from linebot.v3.webhook import SignatureValidator

from bot.channels.line.events import LineEvent
from bot.channels.line.format import to_line
from bot.config import Config
from bot.core.transport import Outgoing, PermanentError, TemporaryError, retry_after_seconds
from calendars.base import utcnow

# LINE documents a reply token as usable within one minute of the webhook; keep a margin for the worker.
REPLY_WINDOW = timedelta(seconds=50)
# Connect, read (seconds): the most one send holds its thread. A push that timed out is sent again with the same
# X-Line-Retry-Key, which LINE answers 409 if the first one went through.
TIMEOUT = (3.05, 10.0)


class _AsBuilt:
    """A request body sent as bot.channels.line.format built it: LINE's JSON already. Building the SDK's models
    of the messages and turning them back into the same JSON (Message.from_dict, then to_dict) took a fifth of a
    send's CPU under load; tests/channels/line/test_line_delivery.py checks that every kind of message we send
    comes out exactly as the SDK's own models and serialiser would send it."""

    def to_dict(self) -> dict:
        return {self.__fields__[name].alias: value for name, value in self.__dict__.items() if value is not None}


class _Reply(_AsBuilt, ReplyMessageRequest):
    pass


class _Push(_AsBuilt, PushMessageRequest):
    pass


class BadWebhook(Exception):
    """A missing or wrong X-Line-Signature, or a body that is not a LINE webhook."""


@lru_cache(maxsize=4)
def _validator(secret: str) -> SignatureValidator:
    return SignatureValidator(secret)


def parse_webhook(secret: str, body: str, signature: str | None) -> list[LineEvent]:
    """Check the signature of the raw body and return its events; BadWebhook when it fails.

    The signature is the SDK's check. The events are read from the JSON itself: what we keep of one is a few
    strings, and the SDK's pydantic models of the same event (its WebhookParser) took a fifth of the webhook's
    CPU under load, for values we then read from the JSON anyway (docs/performance.md, "LINE webhook")."""
    if not signature:
        raise BadWebhook("missing X-Line-Signature")
    if not _validator(secret).validate(body, signature):
        raise BadWebhook("invalid X-Line-Signature")
    # The signature held: one malformed event must not cost the others; only a body that is no webhook at
    # all is refused.
    return [_normalise(item) for item in _raw_events(body)]


def _raw_events(body: str) -> list[dict]:
    try:
        raw = json.loads(body)["events"]
    except (ValueError, KeyError, TypeError):
        raise BadWebhook("the body is not a LINE webhook") from None
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise BadWebhook("the body is not a LINE webhook")
    return raw


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _object(value) -> dict:
    return value if isinstance(value, dict) else {}


def _issued_at(timestamp) -> datetime | None:
    """When LINE issued the event (milliseconds since 1970); None for a value no clock can hold, so one odd
    event loses only its reply token (we push instead) rather than failing the whole webhook."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(timestamp / 1000, timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def _normalise(raw: dict) -> LineEvent:
    """One event of LINE's webhook JSON as we keep it; a type we do not act on keeps its name (LINE adds new
    ones), so it is answered politely or left alone."""
    source = _object(raw.get("source"))
    common = dict(event_id=_text(raw.get("webhookEventId")), source=_text(source.get("type")) or "user",
                  user_id=_text(source.get("userId")), reply_token=_text(raw.get("replyToken")),
                  at=_issued_at(raw.get("timestamp")),
                  redelivery=_object(raw.get("deliveryContext")).get("isRedelivery") is True)
    kind = _text(raw.get("type")) or "unknown"
    if kind == "message":
        message = _object(raw.get("message"))
        return LineEvent("message", message_type=_text(message.get("type")), text=_text(message.get("text")),
                         **common)
    if kind == "postback":
        postback = _object(raw.get("postback"))
        data, picked = _text(postback.get("data")) or "", _text(_object(postback.get("params")).get("date"))
        return LineEvent("postback", data=f"date:{picked}" if picked else data, **common)
    return LineEvent(kind, **common)


def retry_key(idempotency_key: str) -> str:
    """The outbox key as the UUID LINE expects in X-Line-Retry-Key (the same key on every attempt)."""
    try:
        return str(uuid.UUID(hex=idempotency_key))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sokuresu:{idempotency_key}"))


def _problem(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        body = {}
    details = "; ".join(f"{d.get('property', '')}: {d.get('message', '')}" for d in body.get("details") or [])
    return f"LINE {exc.status}: {body.get('message') or exc.reason}" + (f" ({details})" if details else "")


def classify(exc: ApiException) -> Exception:
    """429/5xx may pass later; other 4xx never will (LINE's own words kept for the recruiter page)."""
    problem = _problem(exc)
    if exc.status == 429 and "monthly limit" in problem.lower():
        return PermanentError(problem)  # the plan's push quota is used up: retrying this month will not help
    if not exc.status or exc.status == 429 or exc.status >= 500:  # 0: the SDK's TLS failure
        wait = retry_after_seconds((exc.headers or {}).get("Retry-After")) if exc.status == 429 else None
        return TemporaryError(problem, retry_after=wait, status=exc.status or None)
    return PermanentError(problem)


def _sent_id(response) -> str:
    sent = getattr(response.data, "sent_messages", None) or []
    return sent[0].id if sent else ""


class LineChannel:
    """Send outbox payloads: a free reply while the candidate's reply token is fresh, else a push."""

    def __init__(self, config: Config, clock: Callable[[], datetime] | None = None, timeout=None):
        host = config.line_api_base_url.rstrip("/") if config.line_api_base_url else None
        self.configuration = Configuration(host=host, access_token=config.line_channel_access_token)
        self.clock = clock or utcnow
        self.timeout = timeout or TIMEOUT
        self._client: ApiClient | None = None  # built on first use: nothing touches the network at start-up

    def api(self) -> MessagingApi:
        if self._client is None:
            self._client = ApiClient(self.configuration)
        return MessagingApi(self._client)

    def send(self, message: Outgoing) -> str | None:
        payload = message.payload
        to = message.address.get("line_user_id") or payload.get("line_to")
        messages = to_line(payload, message.locale)
        reply = payload.get("reply_to") or {}
        if reply.get("token") and self._fresh(reply.get("at")):
            sent = self._reply(reply["token"], messages)
            if sent is not None:
                return f"reply:{sent}"
        if payload.get("reply_only"):
            return None  # a courtesy answer (e.g. in a group) is not worth a push
        if not to:
            # Applied on the web but has not sent us the link code yet: hold the message until they do.
            raise TemporaryError("waiting for the candidate to add the LINE account and send the link code")
        return f"push:{self._push(to, messages, message.idempotency_key)}"

    def _fresh(self, at: str | None) -> bool:
        try:
            return self.clock() - datetime.fromisoformat(at) < REPLY_WINDOW
        except (TypeError, ValueError):
            return False

    def _reply(self, token: str, messages: list) -> str | None:
        """Reply with the token; None when LINE says it is used up or expired (then push instead)."""
        try:
            response = self.api().reply_message_with_http_info(
                _Reply.construct(reply_token=token, messages=messages), _request_timeout=self.timeout)
        except ApiException as exc:
            if exc.status == 400 and "reply token" in _problem(exc).lower():
                return None
            raise classify(exc) from None
        except urllib3.exceptions.HTTPError as exc:
            raise TemporaryError(f"LINE reply: {type(exc).__name__}") from None
        return _sent_id(response)

    def _push(self, to: str, messages: list, key: str) -> str:
        try:
            response = self.api().push_message_with_http_info(
                _Push.construct(to=to, messages=messages), x_line_retry_key=retry_key(key),
                _request_timeout=self.timeout)
        except ApiException as exc:
            if exc.status == 409:  # this retry key was accepted before: the candidate already has it
                return (exc.headers or {}).get("X-Line-Accepted-Request-Id") or "accepted-before"
            raise classify(exc) from None
        except urllib3.exceptions.HTTPError as exc:
            raise TemporaryError(f"LINE push: {type(exc).__name__}") from None
        return _sent_id(response)


def install_rich_menu(config: Config, menu: dict, image: bytes, content_type: str = "image/png") -> str:
    """Create the rich menu, upload its image, make it everyone's default; drop our previous one."""
    host = config.line_api_base_url.rstrip("/") if config.line_api_base_url else None
    with ApiClient(Configuration(host=host, access_token=config.line_channel_access_token)) as client:
        api, blob = MessagingApi(client), MessagingApiBlob(client)
        try:
            try:
                previous = api.get_default_rich_menu_id().rich_menu_id
            except ApiException as exc:
                if exc.status != 404:
                    raise
                previous = None
            menu_id = api.create_rich_menu(RichMenuRequest.from_dict(menu)).rich_menu_id
            blob.set_rich_menu_image(menu_id, body=image, _headers={"Content-Type": content_type})
            api.set_default_rich_menu(menu_id)
            if previous and previous != menu_id and api.get_rich_menu(previous).name == menu["name"]:
                api.delete_rich_menu(previous)  # only a menu this command made; hand-made ones stay
        except ApiException as exc:
            raise RuntimeError(_problem(exc)) from None
        except urllib3.exceptions.HTTPError as exc:
            raise RuntimeError(f"could not reach LINE: {type(exc).__name__}") from None
    return menu_id
