"""Input that once raised a 500 is a 4xx with a reason, and writes nothing (issue 13, item 11)."""
from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from bot.db.models import Applicant, MessageLog
from tests.conftest import AUTH


def count(svc, model) -> int:
    with Session(svc.engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


@pytest.fixture
def token(client, svc):
    from tests.conftest import application
    res = client.post("/api/applications", json=application(channel="email", external_id="nest-1"), headers=AUTH)
    assert res.status_code in (200, 201), res.get_data(as_text=True)
    with Session(svc.engine) as s:
        return s.exec(select(Applicant.token)).one()


DEEP = b"[" * 100_000 + b"]" * 100_000  # 200 kB: under the request size limit, far deeper than any real body


def test_deeply_nested_json_to_the_chat_is_400(client, svc, token):
    before = count(svc, MessageLog)
    res = client.post(f"/chat/{token}/say", data=DEEP, content_type="application/json")
    assert res.status_code == 400 and "nested" in res.get_json()["reason"]
    assert count(svc, MessageLog) == before


def test_deeply_nested_json_to_the_intake_api_is_400(client, svc):
    before = count(svc, Applicant)
    res = client.post("/api/applications", data=DEEP, content_type="application/json", headers=AUTH)
    assert res.status_code == 400 and "nested" in res.get_json()["reason"]
    assert count(svc, Applicant) == before


@pytest.mark.parametrize("after", ["²", "١٢", "-1", "1e3", "99999999999999999999999"])
def test_chat_messages_after_a_number_that_is_not_a_message_id_is_400(client, token, after):
    res = client.get(f"/chat/{token}/messages", query_string={"after": after})
    assert res.status_code == 400 and "after" in res.get_json()["reason"]


@pytest.mark.parametrize("at", [1e20, -1e20, 10**30])
def test_a_line_event_with_an_impossible_timestamp_is_answered_not_a_500(line_user, line_svc, at):
    from bot.db.models import LineLead
    from tests.fakes.line_api import event, text_message
    good = line_user.event("message", **text_message("こんにちは"))
    odd = event("message", line_user.user_id, at, line_user.fake.issue_token(line_user.user_id),
                **text_message("もしもし"))
    assert line_user.post(odd, good).status_code == 200
    line_user.inbox()
    assert count(line_svc, LineLead) == 1  # both events reached the friend's application steps


def test_a_signed_body_with_garbage_events_is_answered_event_by_event(line_user, line_svc):
    import json

    from tests.fakes.line_api import sign, text_message
    good = line_user.event("message", **text_message("こんにちは"))
    body = json.dumps({"destination": "U0", "events": [
        {"type": 7, "source": "nowhere", "deliveryContext": "x", "timestamp": "soon"},
        {"type": "message", "message": ["not", "an", "object"], "replyToken": 12},
        good]}, ensure_ascii=False)
    res = line_user.client.post("/webhooks/line", data=body.encode(), content_type="application/json",
                                headers={"X-Line-Signature": sign("test-line-channel-secret", body)})
    assert res.status_code == 200
    line_user.inbox()
    assert count(line_svc, __import__("bot.db.models", fromlist=["LineLead"]).LineLead) == 1


def test_a_nul_in_a_chat_message_is_a_400(client, svc):
    from tests.conftest import Chat
    chat = Chat(client, svc)
    chat.apply()
    before = count(svc, MessageLog)
    res = client.post(f"/chat/{chat.token}/say", json={"text": "山田\x00です"})
    assert res.status_code == 400 and "NUL" in res.get_json()["reason"]
    assert count(svc, MessageLog) == before


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_nul_in_a_signed_sms_is_dropped_not_a_500(database, request, fake_twilio, smtp_server, clock, db_url):
    # Twilio signed it, so it is answered: PostgreSQL refuses a NUL in text, so the NUL goes, the words stay.
    from sqlmodel import Session, select

    from bot import create_app
    from bot.bootstrap import default_channels
    from tests.channels.sms.drivers import Phone, sms_settings, twilio_env
    from tests.conftest import make_services
    url = request.getfixturevalue("pg_url") if database == "postgresql" else db_url
    svc = make_services(url, clock, env={**twilio_env(fake_twilio.origin), "SMTP_URL": smtp_server.url},
                        settings=sms_settings("two_way"))
    svc.channels.update(default_channels(svc.config))
    try:
        phone = Phone(create_app({"TESTING": True}, services=svc).test_client(), svc, fake_twilio)
        phone.apply()
        phone.inbox()
        phone.text("駐車場\x00はありますか")
        with Session(svc.engine) as s:
            said = s.exec(select(MessageLog.text).where(MessageLog.direction == "in")).all()
        assert said == ["駐車場はありますか"]
    finally:
        svc.engine.dispose()
