"""Reply or push, retry keys, LINE's errors, blocked users and stale buttons."""
import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from bot.bootstrap import default_channels
from bot.channels.line.adapter import LineChannel
from bot.core.transport import Outgoing, PermanentError, TemporaryError
from bot.db.models import Applicant, Booking, Outbox
from bot.service.outbox import enqueue
from tests.conftest import AUTH, application
from tests.recruiters import sign_in


def linked(line_user):
    res = line_user.client.post("/api/applications", headers=AUTH,
                                json=application(channel="line", line_user_id=line_user.user_id))
    assert res.status_code == 201
    return res.get_json()["id"]


def row_of(svc, kind):
    with Session(svc.engine) as s:
        return s.exec(select(Outbox).where(Outbox.kind == kind).order_by(Outbox.id.desc())).first()


def slot_buttons(batch):
    return [i["action"]["data"] for i in batch[-1]["quickReply"]["items"] if i["action"]["type"] == "postback"]


def test_line_is_wired_from_the_environment_alone(line_svc):
    assert isinstance(default_channels(line_svc.config)["line"], LineChannel)


def test_an_answer_after_the_reply_token_expired_is_pushed_with_the_retry_key(line_user, line_svc, fake_line):
    linked(line_user)
    line_user.inbox()
    line_user.say("ヘルプ")
    line_svc.clock.advance(minutes=2)  # the worker was down for a while
    [[help_text]] = line_user.inbox()
    assert "次のようにお送りください" in help_text["text"]
    assert fake_line.calls("/v2/bot/message/reply") == []
    push = fake_line.calls("/v2/bot/message/push")[-1]
    assert push.headers["x-line-retry-key"] == str(uuid.UUID(hex=row_of(line_svc, "help").idempotency_key))


def test_a_reply_token_line_refuses_falls_back_to_a_push(line_user, line_svc, fake_line):
    linked(line_user)
    line_user.inbox()
    line_user.say("ヘルプ")
    fake_line.used_tokens.update(fake_line.reply_tokens)  # e.g. another system answered with it first
    [[help_text]] = line_user.inbox()
    assert [r.status for r in fake_line.calls("/v2/bot/message/")][-2:] == [400, 200]
    assert row_of(line_svc, "help").provider_message_id.startswith("push:")
    assert row_of(line_svc, "help").delivery_mode == "push"


def test_a_push_line_accepted_but_whose_answer_was_lost_is_not_sent_twice(line_user, line_svc, fake_line):
    fake_line.fail("/push", 500, "Internal server error", accept=True)
    linked(line_user)
    assert len(line_user.inbox()) == 1  # LINE delivered it; only its answer to us was lost
    row = row_of(line_svc, "greeting")
    assert row.status == "pending" and row.attempts == 1 and "LINE 500" in row.last_error
    line_svc.clock.advance(minutes=5)
    line_user.inbox()
    row = row_of(line_svc, "greeting")
    pushes = fake_line.calls("/v2/bot/message/push")
    assert [p.status for p in pushes] == [500, 409]
    assert pushes[0].headers["x-line-retry-key"] == pushes[1].headers["x-line-retry-key"]
    assert row.status == "sent" and row.provider_message_id.startswith("push:")
    assert len(fake_line.seen_by(line_user.user_id)) == 1  # the candidate saw the greeting once


@pytest.mark.parametrize("status,message", [(429, "Too many requests"), (503, "Service unavailable")])
def test_rate_limits_and_server_errors_are_retried_with_backoff(line_user, line_svc, fake_line, status, message):
    fake_line.fail("/push", status, message, times=2)
    linked(line_user)
    line_user.inbox()
    row = row_of(line_svc, "greeting")
    assert row.status == "pending" and row.due_at > line_svc.clock() and f"LINE {status}" in row.last_error
    for _ in range(2):
        line_svc.clock.advance(minutes=10)
        line_user.inbox()
    assert row_of(line_svc, "greeting").status == "sent"
    assert len(fake_line.seen_by(line_user.user_id)) == 1


def test_a_timeout_is_temporary(line_svc, fake_line):
    channel = LineChannel(line_svc.config, clock=line_svc.clock, timeout=(1, 0.3))
    fake_line.fail("/push", 200, sleep=1.0)
    with pytest.raises(TemporaryError):
        channel.send(Outgoing("line", {"line_user_id": "U" + "a" * 32}, {"kind": "help", "text": "hi"}, "ab" * 16))


def test_a_bad_request_fails_with_lines_own_words_on_the_recruiter_page(line_user, line_client, line_svc, fake_line):
    fake_line.fail("/push", 400, "The property, 'to', in the request body is invalid (line 1, column 7)")
    linked(line_user)
    line_user.inbox()
    row = row_of(line_svc, "greeting")
    assert row.status == "failed" and row.attempts == 1
    sign_in(line_client)
    page = line_client.get("/recruiter/").get_data(as_text=True)
    assert "LINE 400: The property, &#39;to&#39;, in the request body is invalid" in page


def test_the_monthly_push_limit_fails_at_once_instead_of_retrying_all_month(line_svc, fake_line):
    channel = line_svc.channels["line"]
    fake_line.fail("/push", 429, "You have reached your monthly limit.")
    with pytest.raises(PermanentError, match="monthly limit"):
        channel.send(Outgoing("line", {"line_user_id": "U" + "a" * 32}, {"kind": "help", "text": "hi"}, "cd" * 16))


def test_unfollow_marks_the_candidate_blocked_and_stops_every_push(line_user, line_svc, fake_line):
    applicant_id = linked(line_user)
    line_user.inbox()
    line_user.tap(slot_buttons(fake_line.seen_by(line_user.user_id)[0])[0])
    line_user.inbox()
    with Session(line_svc.engine) as s:  # something due tomorrow, like a reminder
        enqueue(s, line_svc, s.get(Applicant, applicant_id), {"kind": "help", "text": "later"}, channel="line",
                due_at=line_svc.clock() + timedelta(days=1))
        s.commit()
    line_user.unfollow()
    assert line_user.inbox() == []
    with Session(line_svc.engine) as s:
        a = s.get(Applicant, applicant_id)
        assert a.blocked
        assert s.exec(select(func.count()).select_from(Outbox).where(Outbox.status == "pending",
                                                                     Outbox.channel == "line")).one() == 0
        alert = s.exec(select(Outbox).where(Outbox.channel == "recruiter").order_by(Outbox.id)).all()[-1]
        assert alert.payload["reason"] == "line_blocked"
    calls = len(fake_line.requests)
    line_svc.clock.advance(days=30)  # every reminder and nudge would be due by now
    line_user.inbox()
    assert len(fake_line.requests) == calls
    line_user.follow()  # unblocked: the bot picks up where they left off
    [[back]] = line_user.inbox()
    with Session(line_svc.engine) as s:
        assert not s.get(Applicant, applicant_id).blocked
    assert back["type"] == "text"


def test_stale_and_forged_slot_buttons_get_a_polite_re_offer_and_never_a_booking(line_user, line_svc, fake_line):
    linked(line_user)
    [first] = line_user.inbox()
    old = slot_buttons(first)
    line_user.say("他の日")
    line_user.tap("date", params={"date": "2026-12-05"})
    [menu, saturday] = line_user.inbox()
    assert "12月5日(土)" in saturday[0]["text"]
    stale = next(d for d in old if d not in slot_buttons(saturday))
    line_user.tap(stale)  # from the first offer, no longer on offer
    line_user.tap("slot:tanaka@20261201T0100Z;DROP TABLE booking")
    line_user.tap("hack:me")
    answers = line_user.inbox()
    assert len(answers) == 3 and all(a[0]["type"] == "text" and slot_buttons(a) for a in answers)
    with Session(line_svc.engine) as s:
        assert s.exec(select(Booking)).all() == []


def test_a_slot_that_started_meanwhile_is_not_booked(line_user, line_svc, fake_line):
    linked(line_user)
    [first] = line_user.inbox()
    line_svc.clock.advance(days=20)
    line_user.tap(slot_buttons(first)[0])
    again = line_user.inbox()[-1]  # (any follow-ups that fell due in those 20 days come first)
    assert again[0]["type"] == "text" and slot_buttons(again)
    with Session(line_svc.engine) as s:
        assert s.exec(select(Booking)).all() == []


def test_what_goes_to_line_is_exactly_what_the_sdks_own_serialiser_would_send(line_user, line_svc, fake_line):
    """The channel sends the JSON bot.channels.line.format builds (bot.channels.line.adapter._AsBuilt), without
    the SDK's models in between: every kind of message the flow sends must come out exactly as the SDK's models
    of it and its generated to_dict() would send it."""
    from linebot.v3.messaging import Message, PushMessageRequest, ReplyMessageRequest

    from bot.channels.line.adapter import _Push, _Reply
    from bot.channels.line.format import to_line

    linked(line_user)
    [greeting] = line_user.inbox()              # text, content carousel, slot buttons (a push)
    line_user.say("他の日")                     # day buttons and the date picker (a reply)
    line_user.tap(slot_buttons(greeting)[0])    # the booking card (a Flex bubble)
    line_user.say("ヘルプ")
    line_user.inbox()
    with Session(line_svc.engine) as s:
        payloads = [row.payload for row in s.exec(select(Outbox).where(Outbox.channel == "line",
                                                                        Outbox.status == "sent"))]
    assert len(payloads) == 4
    sent = [m for payload in payloads for m in to_line(payload, "ja")]
    assert {m["type"] for m in sent} == {"text", "flex"} and any("quickReply" in m for m in sent)
    expected = []
    for payload in payloads:
        built = to_line(payload, "ja")
        messages = [Message.from_dict(m) for m in built]
        reply = ReplyMessageRequest(reply_token="t", messages=messages).to_dict()
        assert _Reply.construct(reply_token="t", messages=built).to_dict() == reply
        assert (_Push.construct(to="U1", messages=built).to_dict()
                == PushMessageRequest(to="U1", messages=messages).to_dict())
        expected.append(reply["messages"])
    bodies = [call.json for call in fake_line.requests if call.path.endswith(("/reply", "/push"))]
    assert [body["messages"] for body in bodies] == expected


def test_a_429_with_retry_after_waits_as_long_as_line_asked(line_user, line_svc, fake_line):
    from bot.service.delivery_record import backoff

    fake_line.fail("/push", 429, "Too many requests", headers={"Retry-After": "900"})
    linked(line_user)
    line_user.inbox()
    row = row_of(line_svc, "greeting")
    assert row.status == "pending" and "LINE 429" in row.last_error
    assert row.due_at >= line_svc.clock() + timedelta(seconds=900) > line_svc.clock() + backoff(1)
    line_svc.clock.advance(minutes=10)
    line_user.inbox()
    assert row_of(line_svc, "greeting").status == "pending"  # not before the 15 minutes LINE asked for
    line_svc.clock.advance(minutes=6)
    line_user.inbox()
    assert row_of(line_svc, "greeting").status == "sent"


def test_retry_after_is_read_in_seconds_and_bounded():
    from bot.core.transport import retry_after_seconds

    assert retry_after_seconds("120") == 120 and retry_after_seconds("1e9") == 3600
    assert retry_after_seconds(None) is None and retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert retry_after_seconds("-5") is None and retry_after_seconds("nan") is None
