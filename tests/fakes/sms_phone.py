"""A candidate's phone in tests: applies, texts our number through signed webhooks, reads our SMS."""
from __future__ import annotations

import secrets

from twilio.request_validator import RequestValidator

from bot.service.delivery import run_once
from bot.channels.sms.text import segments
from tests.conftest import AUTH, TWILIO_TOKEN, application


class Phone:
    """Drive one SMS candidate: every webhook signed the way Twilio signs it (public URL + sorted form)."""

    def __init__(self, client, svc, fake, number: str = "+819012345678"):
        self.client, self.svc, self.fake, self.number = client, svc, fake, number
        self.read = 0

    def apply(self, **fields) -> int:
        res = self.client.post("/api/applications", json=application(channel="sms", **fields), headers=AUTH)
        assert res.status_code == 201, res.get_json()
        self.id = res.get_json()["id"]
        return self.id

    def post(self, path: str, form: dict, *, url: str | None = None, signature: str | None = None, headers=None):
        url = url or self.svc.config.public_base_url + path
        if signature is None:
            signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
        return self.client.post(path, data=form, headers={"X-Twilio-Signature": signature, **(headers or {})})

    def text(self, body: str, sid: str | None = None, **extra):
        """Send an SMS to our number; returns the webhook's response (TwiML)."""
        form = {"MessageSid": sid or "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32,
                "From": self.number, "To": "+815012345678", "Body": body, "NumMedia": "0", **extra}
        res = self.post("/webhooks/twilio/sms", form)
        assert res.status_code == 200, res.get_data(as_text=True)
        return res

    def report(self, sid: str, status: str, error_code: str | None = None):
        form = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                "AccountSid": "AC" + "0" * 32, "To": self.number, "From": "+815012345678"}
        if error_code:
            form["ErrorCode"] = error_code
        return self.post("/webhooks/twilio/status", form)

    def inbox(self) -> list:
        """Run the worker, then return the SMS our fake Twilio accepted for this number since last time."""
        while run_once(self.svc, "test-worker"):
            pass
        mine = [c for c in self.fake.created if c.to == self.number]
        new, self.read = mine[self.read:], len(mine)
        for sms in new:
            print(f"SMS {len(sms.body):3d} chars, {segments(sms.body)} segment(s): {sms.body!r}")
        return new
