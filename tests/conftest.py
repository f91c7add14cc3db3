"""Shared pytest fixtures."""
from __future__ import annotations

import os
import secrets

import pytest

# The channels' own drivers and fixtures live with their tests; every part's tests may use them.
pytest_plugins = ("tests.channels.line.drivers", "tests.channels.sms.drivers")

from tests.screenshots import SCREENSHOT_FOLDERS  # noqa: E402  (folders of the screenshot journeys)


def pytest_configure(config):
    config.stash[SCREENSHOT_FOLDERS] = set()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for folder in sorted(config.stash.get(SCREENSHOT_FOLDERS, set())):
        terminalreporter.write_line(f"screenshots of the candidate journeys: {folder}")

# --- PostgreSQL: a throwaway database per test on the server named by TEST_DATABASE_URL ----

PG_SKIP_REASON = "TEST_DATABASE_URL not set: PostgreSQL tests need a server (CI sets it)"


def _pg_server_url() -> str:
    """Return TEST_DATABASE_URL; skip without it, but fail in CI where it must be set."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but TEST_DATABASE_URL is not set: .ci/run must export it", pytrace=False)
    pytest.skip(PG_SKIP_REASON)


@pytest.fixture
def pg_url():
    """Yield the URL of a fresh, empty PostgreSQL database; drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(_pg_server_url())
    name = f"sokuresu_test_{secrets.token_hex(6)}"
    # CREATE/DROP DATABASE cannot run inside a transaction: use autocommit.
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # FORCE closes sessions a test left open (PostgreSQL 13+).
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- Redis: database 15 of the server named by TEST_REDIS_URL, emptied before and after each test ----

@pytest.fixture
def redis_url():
    """Yield TEST_REDIS_URL (its database emptied); skip without it, but fail in CI where .ci/run sets it."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but TEST_REDIS_URL is not set: .ci/run must export it", pytrace=False)
        pytest.skip("TEST_REDIS_URL not set: Redis tests need a server, e.g. redis://127.0.0.1:6379/15 (CI sets it)")
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


# --- The app on a throwaway SQLite file, a controlled clock, and a chat driver ----------------

from datetime import datetime, timedelta, timezone  # noqa: E402


class FakeClock:
    """A clock the test moves by hand (UTC)."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class RecordingChannel:
    """A channel that keeps every message it was asked to send."""

    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)
        return f"fake-{len(self.sent)}"


# Monday 30 November 2026, 09:00 in Tokyo: working hours start at 10:00 the same day.
START = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)


# The form's rate limits and proof of work, as tests that post the form without meaning to test them have it.
NO_FORM_LIMITS = {"proof_of_work": False, "form_per_client": "100000 per second",
                  "form_per_destination": "100000 per second"}


def make_services(database_url: str, clock=None, channels=None, env=None, settings=None, form_protection=False):
    """Services on the given database (migrated), with the default demo settings unless given. The form's rate
    limits and proof of work are off unless `form_protection` (tests/security/test_form_*.py turn them on)."""
    from dataclasses import replace

    from bot.bootstrap import bootstrap
    from bot.channels.log import LogChannel
    from bot.channels.sandbox.adapter import SandboxChannel
    from bot.config import Config
    from bot.core.settings import load_settings
    from bot.db.migrate import upgrade

    upgrade(database_url)
    base = {"DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key-0123456789abcdef",
            "INTAKE_API_KEY": "test-intake-key",
            "PUBLIC_BASE_URL": "http://localhost"}
    config = Config.from_env({**base, **(env or {})})
    if channels is None:
        channels = {"sandbox": SandboxChannel(), "recruiter": LogChannel("recruiter")}
    settings = settings or load_settings(config.settings_path)
    if not form_protection:
        settings = replace(settings, protection=replace(settings.protection, **NO_FORM_LIMITS))
    return bootstrap(config=config, settings=settings, channels=channels, clock=clock or FakeClock(START))


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def svc(db_url, clock):
    services = make_services(db_url, clock)
    yield services
    services.engine.dispose()


@pytest.fixture
def app(svc):
    from bot import create_app

    return create_app({"TESTING": True}, services=svc)


@pytest.fixture
def client(app):
    return app.test_client()


AUTH = {"Authorization": "Bearer test-intake-key"}


def application(**fields):
    """A valid application body, overridable field by field."""
    body = {"name": "山田 花子", "email": "hanako@example.com", "phone": "090-1234-5678", "channel": "sms",
            "job": "bakery-staff", "locale": "ja", "source": "test-board",
            "contact_window": {"days": "weekdays", "from": "18:00", "to": "21:00"}}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


class Chat:
    """Drive a candidate's sandbox conversation: apply, then say things and read the answers.

    A candidate whose channel is configured (e-mail with SMTP, say) has no chat page: for them the driver types
    through the very function the chat's endpoint calls, so a test can still play their side in words."""

    def __init__(self, client, svc):
        self.client, self.svc, self.token, self.seen, self.web = client, svc, None, 0, True

    def apply(self, **fields):
        res = self.client.post("/api/applications", json=application(**fields), headers=AUTH)
        assert res.status_code == 201, res.get_json()
        from sqlmodel import Session

        from bot.db.models import Applicant

        with Session(self.svc.engine) as s:
            applicant = s.get(Applicant, res.get_json()["id"])
            self.token, self.web = applicant.token, not self.svc.enabled(applicant.channel)
        self.id = res.get_json()["id"]
        return res.get_json()

    def say(self, text=None, postback=None, event_id=None):
        if not self.web:
            from bot.channels.sandbox.web import said

            decision = said(self.svc, self.id, self.token, text=text, postback=postback, event_id=event_id)
            return {"accepted": decision is not None, "state": decision.state if decision else None}
        body = {"text": text} if text is not None else {"postback": postback}
        if event_id:
            body["id"] = event_id
        res = self.client.post(f"/chat/{self.token}/say", json=body)
        assert res.status_code == 202, res.get_json()
        return res.get_json()

    def _conversation(self, after: int) -> dict:
        if self.web:
            return self.client.get(f"/chat/{self.token}/messages?after={after}").get_json()
        from sqlmodel import Session

        from bot.channels.sandbox.web import conversation
        from bot.db.models import Applicant

        with Session(self.svc.engine) as s:
            return conversation(s, s.get(Applicant, self.id), after)

    def replies(self):
        """Deliver due outbox rows, then return the bot's new messages since the last call."""
        from bot.service.delivery import run_once

        while run_once(self.svc, "test-worker"):
            pass
        data = self._conversation(self.seen)
        if data["messages"]:
            self.seen = data["messages"][-1]["id"]
        return [m for m in data["messages"] if m["direction"] == "out"]

    def state(self):
        return self._conversation(0)["state"]


@pytest.fixture
def chat(client, svc):
    return Chat(client, svc)


# --- Reading what the service stored ------------------------------------------------------------

def stored_applicant(svc, applicant_id):
    """The applicant row as stored now."""
    from sqlmodel import Session

    from bot.db.models import Applicant

    with Session(svc.engine) as s:
        return s.get(Applicant, applicant_id)


def stored_bookings(svc, applicant_id) -> list:
    """The applicant's bookings, oldest first."""
    from sqlmodel import Session, select

    from bot.db.models import Booking

    with Session(svc.engine) as s:
        return s.exec(select(Booking).where(Booking.applicant_id == applicant_id).order_by(Booking.id)).all()


def stored_outbox(svc, applicant_id, **where) -> list:
    """The applicant's outbox rows, oldest first, filtered by column values."""
    from sqlmodel import Session, select

    from bot.db.models import Outbox

    with Session(svc.engine) as s:
        query = select(Outbox).where(Outbox.applicant_id == applicant_id)
        for key, value in where.items():
            query = query.where(getattr(Outbox, key) == value)
        return s.exec(query.order_by(Outbox.id)).all()


# --- E-mail: a real SMTP server on loopback (shared: SMS services and candidate pages send mail too) ---

@pytest.fixture
def smtp_server():
    from tests.fakes.smtp_server import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()
