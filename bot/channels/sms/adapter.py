"""SMS through Twilio: the only module that imports the twilio package."""
from __future__ import annotations

import logging
import re
import threading
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.config import Config
from bot.core.transport import Outgoing, PermanentError, Refused, TemporaryError, retry_after_seconds

log = logging.getLogger("sokuresu.sms")
# The SDK logs every request and response at INFO (URL with the account, headers, and the message's parameters
# in debug): ours says what matters without them.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
TIMEOUT = 15.0  # seconds; a slower answer is retried by the outbox rather than holding the worker
OPTED_OUT = 21610  # the number replied STOP: Twilio refuses every message to it
INVALID_NUMBER = 21211
LANDLINE = 21614  # Twilio's Japan guidelines: no SMS to landlines; the API refuses them with this code
STATUS_PATH = "/webhooks/twilio/status"
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


class _OriginClient(TwilioHttpClient):
    """Send every API call to another origin (TWILIO_API_BASE_URL: a proxy, or the test fake)."""

    def __init__(self, origin: str | None, timeout: float):
        super().__init__(timeout=timeout)
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

    def __init__(self, config: Config, timeout: float = TIMEOUT):
        self.sender = ({"messaging_service_sid": config.twilio_messaging_service_sid}
                       if config.twilio_messaging_service_sid else {"from_": config.twilio_from_number})
        self.status_callback = config.public_base_url + STATUS_PATH
        self.client = Client(config.twilio_account_sid, config.twilio_auth_token,
                             http_client=_OriginClient(config.twilio_api_base_url, timeout))

    def send(self, message: Outgoing) -> str | None:
        phone = message.address.get("phone")
        if not phone:
            raise PermanentError("the candidate gave no phone number")
        if (message.payload.get("reply_to") or {}).get("carrier_confirmed"):
            return None  # Twilio confirmed the STOP itself, and would refuse ours (21610)
        body = message.payload.get("sms") or message.payload.get("text", "")
        try:
            sent = self.client.messages.create(to=phone, body=body, status_callback=self.status_callback,
                                               **self.sender)
        except TwilioRestException as exc:
            raise self._classify(exc) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TemporaryError(f"Twilio did not answer: {type(exc).__name__}") from None
        except TwilioException as exc:
            raise TemporaryError(f"Twilio client error: {exc}") from None
        return sent.sid

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
        if exc.status == 429 or exc.status >= 500:  # a 429 slows the channel down, for as long as Twilio asks
            wait = getattr(self.client.http_client.seen, "retry_after", None) if exc.status == 429 else None
            return TemporaryError(reason, retry_after=retry_after_seconds(wait), status=exc.status)
        if exc.status in (401, 403):  # wrong credentials: fixable, so keep the message for a retry
            return TemporaryError(f"{reason} (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)")
        return PermanentError(reason)


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
