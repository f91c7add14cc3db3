"""SMS delivery: Twilio errors retried or failed with a reason, delivery reports, and the e-mail fallback."""
from __future__ import annotations

from sqlmodel import Session, select

from bot.db.models import Applicant, Outbox
from tests.recruiters import sign_in


def _rows(svc, **where) -> list[Outbox]:
    with Session(svc.engine) as s:
        query = select(Outbox)
        for key, value in where.items():
            query = query.where(getattr(Outbox, key) == value)
        return s.exec(query.order_by(Outbox.id)).all()


def _greeting(svc) -> Outbox:
    return _rows(svc, kind="greeting", channel="sms")[0]


def test_rate_limit_and_server_errors_are_retried_with_backoff(phone, sms_svc, fake_twilio, clock):
    fake_twilio.failures += [(429, 20429, "Too Many Requests"), (503, 20500, "Service Unavailable")]
    phone.apply()
    assert phone.inbox() == []  # the greeting met 429, its content follow-up 503
    row, follow = _greeting(sms_svc), _rows(sms_svc, kind="content")[0]
    assert row.status == "pending" and row.attempts == 1 and "429" in row.last_error
    # A 5xx may come after Twilio created the message: it is looked up before it is sent again.
    assert follow.status == "unknown" and "503" in follow.last_error
    assert row.due_at > clock.now  # backoff, not a hot loop
    clock.advance(minutes=2)
    assert sorted(m.body[:2] for m in phone.inbox()) == ["山田", "面接"]
    assert _greeting(sms_svc).status == "sent" and _greeting(sms_svc).attempts == 2


def test_a_429_with_retry_after_waits_as_long_as_twilio_asked(phone, sms_svc, fake_twilio, clock):
    from datetime import timedelta

    fake_twilio.failures.append((429, 20429, "Too Many Requests", {"Retry-After": "600"}))
    phone.apply()
    phone.inbox()
    row = _greeting(sms_svc)
    assert row.status == "pending" and row.due_at >= clock.now + timedelta(seconds=600)
    clock.advance(minutes=5)
    phone.inbox()
    assert _greeting(sms_svc).status == "pending"  # not before the 10 minutes Twilio asked for
    clock.advance(minutes=6)
    phone.inbox()
    assert _greeting(sms_svc).status == "sent"


def test_invalid_number_fails_with_the_reason_and_falls_back_to_email(phone, sms_svc, fake_twilio, smtp_server):
    fake_twilio.failures.append((400, 21211, "The 'To' number +819012345678 is not a valid phone number."))
    phone.apply()
    phone.inbox()
    row = _greeting(sms_svc)
    assert row.status == "failed" and "21211" in row.last_error and "not valid for SMS" in row.last_error
    (fallback,) = _rows(sms_svc, fallback_for=row.id)
    assert fallback.channel == "email" and fallback.status == "sent"
    assert "ご応募ありがとうございます" in str(smtp_server.mails[0]["Subject"])


def test_21610_marks_the_candidate_opted_out_and_sends_nothing_more(phone, sms_svc, fake_twilio, smtp_server):
    fake_twilio.blocked.add(phone.number)
    phone.apply()
    assert phone.inbox() == []
    row = _greeting(sms_svc)
    assert row.status == "failed" and "21610" in row.last_error and "opted out" in row.last_error
    with Session(sms_svc.engine) as s:
        applicant = s.get(Applicant, phone.id)
        assert applicant.opted_out and applicant.state == "opted_out"
    (content,) = _rows(sms_svc, kind="content")
    assert content.status == "cancelled"
    assert [r.payload["reason"] for r in _rows(sms_svc, channel="recruiter")] == ["opted_out"]
    assert smtp_server.mails == []  # an opt-out is not a delivery problem: no e-mail either


def test_undelivered_greeting_falls_back_to_email_within_a_minute(phone, sms_svc, sms_client, smtp_server, clock):
    phone.apply(email="hanako@example.com")
    phone.inbox()
    sid = _greeting(sms_svc).provider_message_id
    assert phone.report(sid, "sent").status_code == 204
    clock.advance(seconds=40)
    assert phone.report(sid, "undelivered", "30003").status_code == 204
    row = _greeting(sms_svc)
    assert row.delivery_status == "undelivered" and "30003" in row.last_error
    (fallback,) = _rows(sms_svc, fallback_for=row.id)
    assert fallback.channel == "email" and fallback.due_at <= clock.now  # due at once
    phone.inbox()  # the worker runs
    (mail,) = smtp_server.mails
    assert mail["To"].addresses[0].addr_spec == "hanako@example.com"
    assert "ご応募ありがとうございます" in str(mail["Subject"])
    body = mail.get_body(("plain",)).get_content()
    assert "山田 花子さん" in body and "焼きたて" in body  # the full greeting, not the short SMS form

    phone.report(sid, "undelivered", "30003")  # Twilio repeats itself: still one fallback
    phone.report(sid, "sent")  # late and out of order: does not undo "undelivered"
    assert len(_rows(sms_svc, fallback_for=row.id)) == 1 and _greeting(sms_svc).delivery_status == "undelivered"

    sign_in(sms_client)
    page = sms_client.get("/recruiter").get_data(as_text=True)
    assert "不達" in page and f"#{row.id} の代わりに再送" in page and "別の手段で再送" in page


def test_delivered_report_is_recorded_and_starts_nothing(phone, sms_svc, smtp_server):
    phone.apply()
    phone.inbox()
    sid = _greeting(sms_svc).provider_message_id
    phone.report(sid, "delivered")
    assert _greeting(sms_svc).delivery_status == "delivered"
    assert _rows(sms_svc, fallback_for=_greeting(sms_svc).id) == [] and smtp_server.mails == []
    assert phone.report("SM" + "9" * 32, "delivered").status_code == 204  # unknown sid: accepted, ignored


def test_undelivered_without_email_or_line_only_alerts_the_recruiter(phone, sms_svc):
    phone.apply(email=None)
    phone.inbox()
    row = _greeting(sms_svc)
    phone.report(row.provider_message_id, "failed", "30006")
    assert _rows(sms_svc, fallback_for=row.id) == []
    (alert,) = [r for r in _rows(sms_svc, channel="recruiter") if r.payload["reason"] == "undelivered"]
    assert "sms" in alert.payload["detail"]


def test_fallback_without_smtp_goes_to_the_sandbox(db_url, clock, fake_twilio):
    from bot import create_app
    from bot.bootstrap import default_channels
    from tests.channels.sms.drivers import Phone, twilio_env
    from tests.conftest import make_services

    svc = make_services(db_url, clock, env=twilio_env(fake_twilio.origin))
    svc.channels.update(default_channels(svc.config))
    assert "email" not in svc.channels  # no SMTP_URL: mail stays in the log and the sandbox
    phone = Phone(create_app({"TESTING": True}, services=svc).test_client(), svc, fake_twilio)
    phone.apply()
    phone.inbox()
    phone.report(_greeting(svc).provider_message_id, "undelivered", "30005")
    (fallback,) = _rows(svc, fallback_for=_greeting(svc).id)
    assert fallback.channel == "sandbox"
    svc.engine.dispose()


def test_messaging_service_sid_is_used_instead_of_a_from_number(db_url, clock, fake_twilio):
    from bot.bootstrap import default_channels
    from tests.channels.sms.drivers import twilio_env
    from tests.conftest import make_services

    env = {**twilio_env(fake_twilio.origin), "TWILIO_FROM_NUMBER": "", "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32}
    svc = make_services(db_url, clock, env=env)
    channel = default_channels(svc.config)["sms"]
    from bot.core.transport import Outgoing

    channel.send(Outgoing("sms", {"phone": "+819012345678"}, {"kind": "help", "text": "テスト"}, "k1"))
    (sent,) = fake_twilio.created
    assert sent.form["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in sent.form
    svc.engine.dispose()
