"""LINE drivers and fixtures: the fake LINE API (tests/fakes/line_api.py), the real adapter pointed at it,
and a LINE user sending signed webhook events and reading what reached them.

Registered for the whole suite by tests/conftest.py (`pytest_plugins`): tests of other parts (opt-outs,
pools, words and hand-offs) drive a LINE candidate too.
"""
from __future__ import annotations

import secrets

import pytest

from tests.conftest import make_services

LINE_SECRET = "test-line-channel-secret"


@pytest.fixture
def fake_line():
    from tests.fakes.line_api import FakeLine

    fake = FakeLine().start()
    yield fake
    fake.stop()


@pytest.fixture
def line_svc(db_url, clock, fake_line):
    """Services with the LINE channel on: the real line-bot-sdk talking to the fake, on the fake clock."""
    from bot.channels.line.adapter import LineChannel

    env = {"LINE_CHANNEL_SECRET": LINE_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": fake_line.token,
           "LINE_API_BASE_URL": fake_line.origin}
    services = make_services(db_url, clock, env=env)
    services.channels["line"] = LineChannel(services.config, clock=clock)
    yield services
    services.engine.dispose()


@pytest.fixture
def line_client(line_svc):
    from bot import create_app

    return create_app({"TESTING": True}, services=line_svc).test_client()


class LineUser:
    """One LINE user: sends signed webhook events, lets the worker deliver, reads what reached them."""

    def __init__(self, client, svc, fake, user_id=None):
        self.client, self.svc, self.fake = client, svc, fake
        self.user_id = user_id or "U" + secrets.token_hex(16)
        self.seen = 0

    def post(self, *events, signature=None):
        from tests.fakes.line_api import sign, webhook_body

        body = webhook_body(*events)
        headers = {"X-Line-Signature": signature if signature is not None else sign(LINE_SECRET, body)}
        return self.client.post("/webhooks/line", data=body.encode(), headers=headers,
                                content_type="application/json; charset=utf-8")

    def event(self, kind, reply=True, **extra):
        from tests.fakes.line_api import event

        token = self.fake.issue_token(self.user_id) if reply else None
        return event(kind, self.user_id, int(self.svc.clock().timestamp() * 1000), token, **extra)

    def send(self, kind, reply=True, **extra):
        res = self.post(self.event(kind, reply, **extra))
        assert res.status_code == 200, res.get_data(as_text=True)
        return res

    def say(self, text, **kw):
        from tests.fakes.line_api import text_message

        return self.send("message", **text_message(text), **kw)

    def tap(self, data, params=None, **kw):
        from tests.fakes.line_api import postback

        return self.send("postback", **postback(data, params), **kw)

    def follow(self):
        return self.send("follow", follow={"isUnblocked": False})

    def unfollow(self):
        return self.send("unfollow", reply=False)

    def inbox(self):
        """Run the worker (kept events, then due outbox rows) until it is idle; return the message batches that
        reached this user since last time."""
        from bot.service import delivery, inbox

        while inbox.run_once(self.svc, "test-worker") + delivery.run_once(self.svc, "test-worker"):
            pass
        batches = self.fake.seen_by(self.user_id)
        new, self.seen = batches[self.seen:], len(batches)
        return new


@pytest.fixture
def line_user(line_client, line_svc, fake_line):
    return LineUser(line_client, line_svc, fake_line)
