"""Recruiter alerts reach people: a mail to each admin and recruiter (and an interviewer for their own candidates)
over a real SMTP server, and a Slack-compatible webhook on a fake HTTP server; each retried on its own, with as
little of the candidate as lets a person act."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler

import pytest
from sqlmodel import Session, select

from bot.core.vocab import STAFF_CHANNEL, AlertReason, OutboxStatus, Role
from bot.db.engine import session_scope
from bot.db.models import Applicant, Outbox
from bot.service import accounts, erasure
from bot.service.delivery import run_once
from bot.service.outbox import alert
from tests.conftest import Chat, make_services
from tests.fakes.server import QuietHTTPServer

NAME, PHONE, EMAIL, SAID = "山田 花子", "090-1234-5678", "hanako@example.com", "担当の方とお話しできますか"


class FakeWebhook:
    """A chat service's incoming webhook on loopback: answers each POST with the next status given (200 after)."""

    def __init__(self, statuses=()):
        self.statuses, self.posts = list(statuses), []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = fake.statuses.pop(0) if fake.statuses else 200
                fake.posts.append((self.path, self.headers["Content-Type"], json.loads(body), status))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no_service")

            def log_message(self, *args):
                pass

        self.server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/secret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    fake = FakeWebhook()
    yield fake
    fake.stop()


def _services(db_url, clock, smtp_server=None, webhook=None):
    from bot.bootstrap import default_channels

    env = {}
    if smtp_server is not None:
        env["SMTP_URL"] = smtp_server.url
    if webhook is not None:
        env["ALERT_WEBHOOK_URL"] = webhook.url
    svc = make_services(db_url, clock, env=env)
    svc.channels.update({k: v for k, v in default_channels(svc.config).items() if k == STAFF_CHANNEL})
    return svc


def _people(svc):
    accounts.invite(svc, "boss@example.com", Role.ADMIN)
    accounts.invite(svc, "hr@example.com", Role.RECRUITER)
    accounts.invite(svc, "sato@example.com", Role.INTERVIEWER)  # the settings' interviewer sato
    accounts.invite(svc, "tanaka@example.com", Role.INTERVIEWER)
    accounts.invite(svc, "left@example.com", Role.RECRUITER)
    accounts.remove(svc, "left@example.com", by=None, via="cli")


def _candidate_with_interview(svc, say: bool = True) -> int:
    from bot import create_app

    chat = Chat(create_app({"TESTING": True}, services=svc).test_client(), svc)
    chat.apply(name=NAME, phone=PHONE, email=EMAIL, job="store-manager")  # sato interviews for this job
    chat.replies()
    chat.say("1")
    chat.replies()
    if say:  # words the bot hands to a person: an alert of their own
        chat.say(SAID)
        chat.replies()
    return chat.id


def _alert(svc, applicant_id, reason=AlertReason.ASKED_FOR_PERSON) -> None:
    with session_scope(svc.engine) as s:
        alert(s, svc, s.get(Applicant, applicant_id), reason, SAID)


def _send_all(svc) -> None:
    while run_once(svc, "test-worker"):
        pass


def _staff_rows(svc):
    with Session(svc.engine) as s:
        return s.exec(select(Outbox).where(Outbox.channel == STAFF_CHANNEL).order_by(Outbox.id)).all()


def test_an_alert_mails_admins_recruiters_and_the_candidates_own_interviewer(db_url, clock, smtp_server):
    svc = _services(db_url, clock, smtp_server)
    _people(svc)
    applicant_id = _candidate_with_interview(svc)
    smtp_server.inbox.mails.clear()

    _alert(svc, applicant_id)
    _send_all(svc)

    mails = {to[0]: mail for _, to, mail in smtp_server.inbox.mails}
    assert sorted(mails) == ["boss@example.com", "hr@example.com", "sato@example.com"]
    mail = mails["hr@example.com"]
    text = mail.get_body(("plain",)).get_content()
    assert "担当者との会話を希望: 山さん（応募 #" in text
    assert f"http://localhost/recruiter/applicants/{applicant_id}" in text
    assert f"#{applicant_id}" in mail["Subject"] and "山さん" in mail["Subject"]
    for secret in (NAME, "花子", "+819012345678", "1234-5678", EMAIL, SAID):
        assert secret not in text and secret not in mail["Subject"]
    assert all(r.status == OutboxStatus.SENT for r in _staff_rows(svc))
    with Session(svc.engine) as s:  # the candidate's conversation does not show them
        from bot.db.models import MessageLog
        assert not [m for m in s.exec(select(MessageLog)).all() if "担当者との会話" in m.text]
    svc.engine.dispose()


def test_without_smtp_or_a_webhook_alerts_stay_on_the_page(db_url, clock):
    svc = _services(db_url, clock)
    _people(svc)
    applicant_id = _candidate_with_interview(svc)
    _alert(svc, applicant_id)
    _send_all(svc)
    assert _staff_rows(svc) == []
    svc.engine.dispose()


def test_the_webhook_gets_slack_text_and_a_500_is_retried_without_mailing_again(db_url, clock, smtp_server, webhook):
    webhook.statuses = [500, 503]
    svc = _services(db_url, clock, smtp_server, webhook)
    _people(svc)
    applicant_id = _candidate_with_interview(svc, say=False)
    smtp_server.inbox.mails.clear()

    _alert(svc, applicant_id, AlertReason.UNCONFIRMED)
    _send_all(svc)
    assert [p[3] for p in webhook.posts] == [500]
    for _ in range(2):
        clock.advance(minutes=5)  # past the backoff
        _send_all(svc)
    assert [p[3] for p in webhook.posts] == [500, 503, 200]
    path, content_type, body, _ = webhook.posts[-1]
    assert path == "/services/T000/B000/secret" and content_type == "application/json"
    assert list(body) == ["text"]
    assert body["text"].startswith("前日リマインドに未返信（お電話で確認を）")
    assert f"#{applicant_id}" in body["text"] and "+8190" not in body["text"] and NAME not in body["text"]
    assert "/recruiter/outcome/" not in body["text"]  # a chat room never gets a signed action link
    assert len(smtp_server.inbox.mails) == 3  # each mail once, however often the webhook was tried
    (hook,) = [r for r in _staff_rows(svc) if r.delivery_mode == "webhook"]
    assert (hook.status, hook.attempts) == (OutboxStatus.SENT, 3)
    svc.engine.dispose()


def test_a_404_from_the_webhook_fails_at_once_and_shows_among_failed_sends(db_url, clock, webhook):
    webhook.statuses = [404]
    svc = _services(db_url, clock, webhook=webhook)
    applicant_id = _candidate_with_interview(svc, say=False)
    _alert(svc, applicant_id)
    _send_all(svc)
    clock.advance(hours=2)
    _send_all(svc)
    (hook,) = _staff_rows(svc)
    assert (hook.status, hook.attempts, hook.last_error) == (OutboxStatus.FAILED, 1, "webhook answered 404")
    assert len(webhook.posts) == 1
    svc.engine.dispose()


def test_an_erasure_takes_the_alerts_copies_too(db_url, clock, smtp_server, webhook):
    webhook.statuses = [500]  # one copy still waiting when the person is erased
    svc = _services(db_url, clock, smtp_server, webhook)
    _people(svc)
    applicant_id = _candidate_with_interview(svc)
    _alert(svc, applicant_id)
    _send_all(svc)
    assert _staff_rows(svc)
    erasure.erase(svc, applicant_id, by=None, via="cli")
    assert _staff_rows(svc) == []
    svc.engine.dispose()
