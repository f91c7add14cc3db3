"""SMS through Twilio: the only module that imports the twilio package."""
from __future__ import annotations

import logging
import re
import threading
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
import urllib3
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.config import Config
from bot.core.transport import Outgoing, PermanentError, Refused, TemporaryError, Unconfirmed, retry_after_seconds

log = logging.getLogger("sokuresu.sms")
# The SDK logs every request and response at INFO (URL with the account, headers, and the message's parameters
# in debug): ours says what matters without them.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
# Seconds to connect, and to wait for the answer. A send that connected and then timed out may have gone out: the
# row is marked unknown and Twilio is asked (SmsChannel.find) before it is sent again.
TIMEOUT = (3.05, 10.0)
SKEW = timedelta(minutes=5)  # Twilio's clock against ours, when looking for a message sent since a time
LOOK_BACK = 20  # the newest messages to a number that find() reads
OPTED_OUT = 21610  # the number replied STOP: Twilio refuses every message to it
INVALID_NUMBER = 21211
LANDLINE = 21614  # Twilio's Japan guidelines: no SMS to landlines; the API refuses them with this code
STATUS_PATH = "/webhooks/twilio/status"
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


class _OriginClient(TwilioHttpClient):
    """Send every API call to another origin (TWILIO_API_BASE_URL: a proxy, or the test fake)."""

    def __init__(self, origin: str | None, timeout: float | tuple[float, float]):
        super().__init__()
        self.timeout = timeout  # (connect, read) for requests; the SDK's own check only takes one number
        self.origin = origin.rstrip("/") if origin else None
        self.seen = threading.local()  # this thread's last Retry-After (the SDK's error carries no headers)

    def request(self, method, url, *args, **kwargs):
        if self.origin:
            parts = urlsplit(url)
            url = self.origin + parts.path + (f"?{parts.query}" if parts.query else "")
        response = super().request(method, url, *args, **kwargs)
        self.seen.retry_after = (response.headers or {}).get("Retry-After") if response.status_code == 429 else None
        return response


class SmsChannel:
    """Send a payload's SMS text with Twilio; provider errors become Temporary or Permanent."""

    def __init__(self, config: Config, timeout: float | tuple[float, float] | None = None):
        self.sender = ({"messaging_service_sid": config.twilio_messaging_service_sid}
                       if config.twilio_messaging_service_sid else {"from_": config.twilio_from_number})
        self.status_callback = config.public_base_url + STATUS_PATH
        self.client = Client(config.twilio_account_sid, config.twilio_auth_token,
                             http_client=_OriginClient(config.twilio_api_base_url, timeout or TIMEOUT))

    def send(self, message: Outgoing) -> str | None:
        phone = message.address.get("phone")
        if not phone:
            raise PermanentError("the candidate gave no phone number")
        if (message.payload.get("reply_to") or {}).get("carrier_confirmed"):
            return None  # Twilio confirmed the STOP itself, and would refuse ours (21610)
        try:
            sent = self.client.messages.create(to=phone, body=_body(message), status_callback=self._callback(message),
                                               **self.sender)
        except TwilioRestException as exc:
            raise self._classify(exc) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise _unanswered(exc) from None
        except TwilioException as exc:
            raise TemporaryError(f"Twilio client error: {exc}") from None
        return sent.sid

    def find(self, message: Outgoing, since: datetime) -> list[str]:
        """Twilio's ids of messages with these words to this number created since `since`, newest first: a send
        that heard no answer is looked up here before it is sent again."""
        phone, body = message.address.get("phone"), _body(message)
        if not phone or (message.payload.get("reply_to") or {}).get("carrier_confirmed"):
            return []
        try:  # Twilio lists the newest first; a message still queued has no date sent yet, so none is filtered on
            listed = self.client.messages.list(to=phone, limit=LOOK_BACK, page_size=LOOK_BACK)
        except TwilioRestException as exc:
            raise TemporaryError(f"Twilio {exc.status} error {exc.code} listing messages") from None
        except (requests.RequestException, TwilioException) as exc:
            raise TemporaryError(f"Twilio did not list messages: {type(exc).__name__}") from None
        return [m.sid for m in listed if (m.direction or "").startswith("outbound") and m.body == body
                and isinstance(m.date_created, datetime) and m.date_created >= since - SKEW]

    def _callback(self, message: Outgoing) -> str:
        """Where Twilio reports on the message; the row id in it tells which row went out even when our send
        never heard Twilio's answer (Twilio signs the whole URL, so it cannot be forged)."""
        row = message.meta.get("outbox_id")
        return self.status_callback + (f"?row={row}" if row else "")

    def _classify(self, exc: TwilioRestException) -> Exception:
        # Twilio's messages quote the number ("The 'To' number +81… is not valid"): it must not reach the log.
        reason = f"Twilio {exc.status} error {exc.code}: {_PHONE.sub('<number>', str(exc.msg))}"[:400]
        # Refused: where the row is recorded, 21610 opts the number out and 21211 / 21614 start the fallback.
        if exc.code == OPTED_OUT:
            return Refused(f"{reason} (the candidate replied STOP; marked as opted out)", "opted_out")
        if exc.code == INVALID_NUMBER:
            return Refused(f"{reason} (the phone number is not valid for SMS)", "unreachable")
        if exc.code == LANDLINE:
            return Refused(f"{reason} (a landline: SMS cannot reach it)", "unreachable")
        if exc.status == 429:  # the channel slows down, for as long as Twilio asks
            wait = getattr(self.client.http_client.seen, "retry_after", None)
            return TemporaryError(reason, retry_after=retry_after_seconds(wait), status=exc.status)
        if exc.status >= 500:  # Twilio may have created the message before failing: look before sending again
            return Unconfirmed(reason, status=exc.status)
        if exc.status in (401, 403):  # wrong credentials: fixable, so keep the message for a retry
            return TemporaryError(f"{reason} (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)")
        return PermanentError(reason)


def _body(message: Outgoing) -> str:
    return message.payload.get("sms") or message.payload.get("text", "")


def _unanswered(exc: requests.RequestException) -> TemporaryError:
    """A request that never reached Twilio (no connection) may simply be sent again; one that did may have
    created the message."""
    if isinstance(exc, requests.ConnectTimeout) or _refused(exc):
        return TemporaryError(f"Twilio could not be reached: {type(exc).__name__}")
    return Unconfirmed(f"Twilio did not answer: {type(exc).__name__}")


def _refused(exc: BaseException) -> bool:
    """True when the connection itself failed (refused, no route, name not found), before any byte was sent."""
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the first failure
    return isinstance(cause, urllib3.exceptions.NewConnectionError)


def valid_signature(auth_token: str, url: str, params, signature: str, settings_header: str | None) -> bool:
    """Check X-Twilio-Signature the way Twilio computes it (URL + sorted form fields, HMAC with the token)."""
    if settings_header:
        # A Webhook Rule signs with a SharedKey we have no setting for: refuse rather than guess.
        log.warning("Twilio webhook signed with a SharedKey (%s): not supported, use the Auth Token",
                    SIGNATURE_SETTINGS_HEADER)
        return False
    return bool(signature) and RequestValidator(auth_token).validate(url, params, signature)


def twiml(text: str | None = None) -> str:
    """A TwiML answer: an immediate reply, or nothing (the outbox sends the rest)."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
