"""SMS drivers and fixtures: the real twilio client against the fake Twilio API (tests/fakes/twilio_api.py),
services with the SMS and e-mail adapters on, and a candidate's phone that applies, texts our number
through signed webhooks and reads our SMS.

Registered for the whole suite by tests/conftest.py (`pytest_plugins`): tests of other parts (opt-outs,
the candidate page, the browser) drive an SMS candidate too.
"""
from __future__ import annotations

import secrets

import pytest

from tests.conftest import AUTH, application, make_services

TWILIO_TOKEN = "test-twilio-auth-token"


def twilio_env(origin: str) -> dict:
    return {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_FROM_NUMBER": "+815012345678", "TWILIO_API_BASE_URL": origin,
            "PUBLIC_BASE_URL": "https://jobs.example.com", "MAIL_FROM": "saiyo@soyokaze.example"}


@pytest.fixture
def fake_twilio(clock):
    from tests.fakes.twilio_api import FakeTwilio

    fake = FakeTwilio(clock=clock).start()  # messages dated by the test's clock, as our rows are
    yield fake
    fake.stop()


def sms_settings(mode: str = "auto"):
    """The demo settings with `[sms] mode` set (auto: one-way to Japanese numbers, two-way elsewhere)."""
    from dataclasses import replace

    from bot.core.settings import SmsOptions, load_settings

    return replace(load_settings(), sms=SmsOptions(mode=mode))


@pytest.fixture
def sms_mode():
    """`[sms] mode` for sms_svc: two-way, so a Japanese test number can answer "1" (a module may override it)."""
    return "two_way"


@pytest.fixture
def sms_svc(db_url, clock, fake_twilio, smtp_server, sms_mode):
    """Services with the real SMS and e-mail adapters, pointed at the fakes."""
    from bot.bootstrap import default_channels

    env = {**twilio_env(fake_twilio.origin), "SMTP_URL": smtp_server.url}
    services = make_services(db_url, clock, env=env, settings=sms_settings(sms_mode))
    services.channels.update(default_channels(services.config))
    services.channels["sms"].client.http_client.timeout = 1.0  # a hung Twilio must not hang the test
    yield services
    services.engine.dispose()


@pytest.fixture
def sms_client(sms_svc):
    from bot import create_app

    return create_app({"TESTING": True}, services=sms_svc).test_client()


@pytest.fixture
def phone(sms_client, sms_svc, fake_twilio):
    return Phone(sms_client, sms_svc, fake_twilio)


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
            from twilio.request_validator import RequestValidator

            signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
        return self.client.post(path, data=form, headers={"X-Twilio-Signature": signature, **(headers or {})})

    def text(self, body: str, sid: str | None = None, **extra):
        """Send an SMS to our number; returns the webhook's response (TwiML)."""
        form = {"MessageSid": sid or "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32,
                "From": self.number, "To": "+815012345678", "Body": body, "NumMedia": "0", **extra}
        res = self.post("/webhooks/twilio/sms", form)
        assert res.status_code == 200, res.get_data(as_text=True)
        return res

    def report(self, sid: str, status: str, error_code: str | None = None, row: int | None = None):
        """Twilio's status callback, to the URL our send gave it (naming the outbox `row`)."""
        form = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                "AccountSid": "AC" + "0" * 32, "To": self.number, "From": "+815012345678"}
        if error_code:
            form["ErrorCode"] = error_code
        return self.post("/webhooks/twilio/status" + (f"?row={row}" if row is not None else ""), form)

    def inbox(self) -> list:
        """Run the worker, then return the SMS our fake Twilio accepted for this number since last time."""
        from bot.channels.sms.text import segments
        from bot.service.delivery import run_once

        while run_once(self.svc, "test-worker"):
            pass
        mine = [c for c in self.fake.created if c.to == self.number]
        new, self.read = mine[self.read:], len(mine)
        for sms in new:
            print(f"SMS {len(sms.body):3d} chars, {segments(sms.body)} segment(s): {sms.body!r}")
        return new
