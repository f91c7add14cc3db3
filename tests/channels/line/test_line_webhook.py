"""POST /webhooks/line: signatures, redeliveries, and every kind of event answered without an error."""
from sqlmodel import Session, func, select

from bot.db.models import Applicant, Booking, InboundEvent, LineLead, MessageLog, Outbox
from tests.conftest import AUTH, application
from tests.fakes.line_api import event, image_message, postback, sign, sticker_message, text_message, webhook_body


def count(svc, model, *where):
    with Session(svc.engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def linked(line_user):
    res = line_user.client.post("/api/applications", headers=AUTH,
                                json=application(channel="line", line_user_id=line_user.user_id))
    assert res.status_code == 201
    line_user.inbox()  # the greeting
    return res.get_json()["id"]


def test_forged_or_missing_signature_is_refused_and_nothing_is_stored(line_user, line_svc, fake_line):
    ev = line_user.event("message", **text_message("1"))
    forged = line_user.post(ev, signature=sign("someone-elses-secret", webhook_body(ev)))
    missing = line_user.client.post("/webhooks/line", data=webhook_body(ev), content_type="application/json")
    tampered = line_user.client.post("/webhooks/line", data=webhook_body(ev).replace('"1"', '"2"'),
                                     headers={"X-Line-Signature": sign("test-line-channel-secret", webhook_body(ev))})
    assert forged.status_code == missing.status_code == tampered.status_code == 400
    assert count(line_svc, InboundEvent) == count(line_svc, Outbox) == count(line_svc, LineLead) == 0
    assert fake_line.requests == []


def test_a_signed_body_that_is_not_a_webhook_is_refused(line_user):
    body = "not json at all"
    res = line_user.client.post("/webhooks/line", data=body,
                                headers={"X-Line-Signature": sign("test-line-channel-secret", body)})
    assert res.status_code == 400


def test_webhook_is_off_without_line_settings(client):
    assert client.post("/webhooks/line", data="{}", headers={"X-Line-Signature": "x"}).status_code == 404


def test_line_console_verify_request_with_no_events_gets_200(line_user):
    assert line_user.post().status_code == 200


def test_redelivered_event_never_replies_or_books_twice(line_user, line_svc, fake_line):
    linked(line_user)
    [greeting] = fake_line.seen_by(line_user.user_id)
    data = next(i["action"]["data"] for i in greeting[-1]["quickReply"]["items"] if i["action"]["type"] == "postback")
    tap = line_user.event("postback", **postback(data))
    assert line_user.post(tap).status_code == 200
    assert line_user.post(dict(tap, deliveryContext={"isRedelivery": True})).status_code == 200
    assert line_user.post(tap).status_code == 200  # LINE retrying the same request
    assert len(line_user.inbox()) == 1
    assert count(line_svc, Booking) == 1
    assert count(line_svc, MessageLog, MessageLog.direction == "in") == 1


def test_unknown_event_types_and_message_types_never_error(line_user, line_svc):
    linked(line_user)
    at = int(line_svc.clock().timestamp() * 1000)
    future = event("somethingNew", line_user.user_id, at, line_user.fake.issue_token(line_user.user_id), extra={"x": 1})
    odd_message = event("message", line_user.user_id, at, line_user.fake.issue_token(line_user.user_id),
                        message={"id": "9", "type": "hologram"})
    unsend = event("unsend", line_user.user_id, at, unsend={"messageId": "325708"})
    watched = event("videoPlayComplete", line_user.user_id, at, line_user.fake.issue_token(line_user.user_id),
                    videoPlayComplete={"trackingId": "track-1"})
    assert line_user.post(future, odd_message, unsend, watched).status_code == 200
    answers = line_user.inbox()
    assert len(answers) == 2 and all("自動でお返事できません" in b[0]["text"] for b in answers)


def test_sticker_gets_a_fixed_answer_and_a_photo_goes_to_a_person(line_user, line_svc):
    applicant_id = linked(line_user)
    line_user.send("message", **sticker_message())
    [[thanks]] = line_user.inbox()
    assert "スタンプ" in thanks["text"]
    line_user.send("message", **image_message())
    [[got_it]] = line_user.inbox()
    assert "担当者が確認" in got_it["text"]
    with Session(line_svc.engine) as s:
        alert = s.exec(select(Outbox).where(Outbox.channel == "recruiter")).one()
        assert alert.payload["reason"] == "media_received" and alert.payload["detail"] == "image"
        assert s.get(Applicant, applicant_id).state == "greeted"  # the bot keeps the conversation


def test_group_and_room_messages_are_ignored_and_a_group_invite_gets_one_polite_note(line_user, line_svc, fake_line):
    at = int(line_svc.clock().timestamp() * 1000)
    group = {"type": "group", "groupId": "C" + "1" * 32, "userId": line_user.user_id}
    room = {"type": "room", "roomId": "R" + "2" * 32, "userId": line_user.user_id}
    joined = event("join", None, at, fake_line.issue_token("group"), source=group)
    chatter = event("message", None, at, fake_line.issue_token("group"), source=group, **text_message("1"))
    in_room = event("message", None, at, fake_line.issue_token("room"), source=room, **text_message("予約"))
    assert line_user.post(joined, chatter, in_room).status_code == 200
    line_user.inbox()
    [(who, how, [note])] = fake_line.delivered
    assert who == "group" and how == "reply" and "1対1" in note["text"]
    assert count(line_svc, Applicant) == count(line_svc, LineLead) == 0


def test_a_batch_with_several_events_is_handled_in_order(line_user, line_svc):
    linked(line_user)
    first = line_user.event("message", **text_message("ヘルプ"))
    second = line_user.event("message", **text_message("他の日"))
    assert line_user.post(first, second).status_code == 200
    answers = line_user.inbox()
    assert "次のようにお送りください" in answers[0][0]["text"] and "ご希望の日" in answers[1][0]["text"]


def test_rich_menu_buttons_show_the_content_and_fetch_a_person(line_user, line_svc):
    applicant_id = linked(line_user)
    line_user.tap("menu:content")
    [[intro, carousel]] = line_user.inbox()
    # Two of the three: Sato's own message waits until the candidate is sure to meet her (a pool of two).
    assert "動画や記事" in intro["text"] and len(carousel["contents"]["contents"]) == 2
    line_user.tap("menu:human")
    [[note]] = line_user.inbox()
    assert "担当者が本日9時30分以降に" in note["text"] and "03-6820-1234" in note["text"]
    with Session(line_svc.engine) as s:
        assert s.get(Applicant, applicant_id).state == "needs_human"
        assert (s.exec(select(Outbox).where(Outbox.channel == "recruiter")).all()[-1].payload["reason"]
                == "asked_for_person")
    line_user.send("message", **sticker_message())
    assert line_user.inbox() == []  # a person has the conversation now: the bot keeps quiet
