"""The whole candidate flow on LINE, through the real line-bot-sdk against the fake LINE API."""
import uuid

from sqlmodel import Session, select

from bot.db.models import Applicant, Booking, MessageLog, Outbox
from tests.conftest import AUTH, application
from tests.recruiters import sign_in


def _apply_with_line_id(line_user):
    res = line_user.client.post("/api/applications", headers=AUTH,
                                json=application(channel="line", line_user_id=line_user.user_id))
    assert res.status_code == 201, res.get_json()
    return res.get_json()["id"]


def _quick(message):
    return [item["action"] for item in message.get("quickReply", {}).get("items", [])]


def _state(svc, applicant_id):
    with Session(svc.engine) as s:
        return s.get(Applicant, applicant_id).state


def test_application_greeting_slot_card_reschedule_and_cancel_on_line(line_user, line_svc, fake_line):
    applicant_id = _apply_with_line_id(line_user)

    # The greeting is pushed (the candidate has not written yet), keyed by the outbox row's idempotency key.
    [greeting] = line_user.inbox()
    push = fake_line.calls("/v2/bot/message/push")[0]
    with Session(line_svc.engine) as s:
        row = s.exec(select(Outbox).where(Outbox.kind == "greeting")).one()
    assert push.headers["x-line-retry-key"] == str(uuid.UUID(hex=row.idempotency_key))
    assert row.provider_message_id.startswith("push:")
    # A few short messages in one push: thanks and our number, the content as cards, the times as quick replies
    # on the last one (the only message LINE shows them on).
    text, content, ask = greeting
    assert text["type"] == "text" and "山田 花子さん" in text["text"] and "03-6820-1234" in text["text"]
    assert "quickReply" not in text and "quickReply" not in content
    assert not [m for m in (text, ask) if "https://" in m["text"]]  # the links travel in the cards, once
    assert content["type"] == "flex" and content["contents"]["type"] == "carousel"
    bubbles = content["contents"]["contents"]
    assert bubbles[0]["hero"]["url"] == "https://video.example.com/soyokaze-day.jpg"
    assert bubbles[0]["footer"]["contents"][0]["action"]["uri"] == "https://video.example.com/soyokaze-day"
    assert "hero" not in bubbles[1]  # an article without a thumbnail: no empty picture
    assert ask["type"] == "text" and "1〜3" in ask["text"]
    actions = _quick(ask)
    slots = [a for a in actions if a["type"] == "postback"]
    assert len(slots) == 3 and all(a["data"].startswith("slot:") and len(a["label"]) <= 20 for a in slots)
    assert [a["label"][:3] for a in slots] == ["1) ", "2) ", "3) "]  # as a typed number counts them
    assert actions[-1] == {"type": "datetimepicker", "label": "他の日にする", "data": "date", "mode": "date"}

    # One tap books; the confirmation is a Flex card sent as a (free) reply.
    line_user.tap(slots[1]["data"])
    [[card]] = line_user.inbox()
    assert fake_line.calls("/v2/bot/message/reply")[-1].status == 200
    with Session(line_svc.engine) as s:
        modes = dict(s.exec(select(Outbox.kind, Outbox.delivery_mode)
                            .where(Outbox.kind.in_(("greeting", "booked")))).all())
    assert modes == {"greeting": "push", "booked": "reply"}
    assert card["type"] == "flex" and card["altText"].startswith("ありがとうございます")
    body = str(card["contents"])
    for fact in ("日付", "時間", "オンライン", "03-6820-1234", "特にありません"):
        assert fact in body
    assert "佐藤 美咲" in body or "田中 健" in body
    footer = card["contents"]["footer"]["contents"]
    uris = [b["action"].get("uri") for b in footer]
    assert "https://meet.example.com/soyokaze-interview" in uris and "tel:0368201234" in uris
    assert [b["action"]["data"] for b in footer if b["action"]["type"] == "postback"] == ["reschedule", "cancel"]
    assert _state(line_svc, applicant_id) == "booked"
    with Session(line_svc.engine) as s:  # the recruiter's view of the tap reads as words, not data
        tap = s.exec(select(MessageLog).where(MessageLog.direction == "in")).one()
    assert tap.text.startswith("[ボタン] 11月") or tap.text.startswith("[ボタン] 12月")

    # Reschedule: new times offered; "another date" through the date picker gives that day's times.
    line_user.tap("reschedule")
    [[offer]] = line_user.inbox()
    assert "日程の変更" in offer["text"] and _quick(offer)[-1]["type"] == "datetimepicker"
    line_user.tap("date", params={"date": "2026-12-04"})
    [[on_day]] = line_user.inbox()
    picks = [a for a in _quick(on_day) if a["type"] == "postback"]
    assert "12月4日(金)" in on_day["text"] and picks
    line_user.tap(picks[0]["data"])
    [[card2]] = line_user.inbox()
    assert card2["type"] == "flex" and "12月4日(金)" in str(card2["contents"])
    with Session(line_svc.engine) as s:
        statuses = sorted(b.status for b in s.exec(select(Booking)).all())
    assert statuses == ["booked", "cancelled"]  # the old booking was released

    # Cancel from the card's button: one question, then "yes, cancel" under it.
    line_user.tap("cancel")
    [[question]] = line_user.inbox()
    assert "本当にキャンセル" in question["text"]
    assert [a["data"] for a in _quick(question)] == ["cancel:yes", "keep"]
    assert _state(line_svc, applicant_id) == "booked"
    line_user.tap("cancel:yes")
    [[bye]] = line_user.inbox()
    assert "キャンセル" in bye["text"] and _quick(bye)[0]["data"] == "book"
    assert _state(line_svc, applicant_id) == "cancelled"

    # Only the greeting was a push; every answer to the candidate's own taps was a reply.
    assert len(fake_line.calls("/v2/bot/message/push")) == 1
    assert len(fake_line.calls("/v2/bot/message/reply")) == 6


def test_recruiter_page_counts_this_months_pushes(line_user, line_client, line_svc):
    _apply_with_line_id(line_user)
    line_user.inbox()
    sign_in(line_client)
    page = line_client.get("/recruiter/").get_data(as_text=True)
    assert 'id="line-pushes"' in page and ">1<" in page


def test_an_english_candidate_gets_english_cards(line_user, line_svc):
    res = line_user.client.post("/api/applications", headers=AUTH, json=application(
        channel="line", line_user_id=line_user.user_id, locale="en", job="store-manager"))
    assert res.status_code == 201
    [[text, content, ask]] = line_user.inbox()
    assert (text["text"].startswith("Hello")
            and content["contents"]["contents"][0]["footer"]["contents"][0]["action"]["label"] == "Watch")
    assert ask["text"].startswith("Could you pick a time")
    slot = next(a for a in _quick(ask) if a["type"] == "postback")
    assert len(slot["label"]) <= 20 and "–" not in slot["label"]  # the end time is dropped to fit LINE's 20
    line_user.tap(slot["data"])
    [[card]] = line_user.inbox()
    body = str(card["contents"])
    assert "Your interview" in body and "Shibuya" in body
    assert "https://maps.example.com/?q=soyokaze-bakery" in [
        b["action"].get("uri") for b in card["contents"]["footer"]["contents"]]


def test_reminders_reach_line_as_pushes_with_buttons_and_a_tap_confirms(line_user, line_svc, fake_line):
    applicant_id = _apply_with_line_id(line_user)
    [greeting] = line_user.inbox()
    line_user.tap(next(a for a in _quick(greeting[-1]) if a["type"] == "postback")["data"])
    line_user.inbox()
    with Session(line_svc.engine) as s:
        reminders = s.exec(select(Outbox).where(Outbox.kind.like("reminder%"), Outbox.status == "pending")).all()
    assert reminders, "booking on LINE schedules reminders"
    line_svc.clock.now = min(r.due_at for r in reminders)
    batches = line_user.inbox()
    reminder = batches[-1][-1]
    assert [a["data"] for a in _quick(reminder)] == ["confirm", "reschedule", "cancel"]
    assert fake_line.calls("/v2/bot/message/push")[-1].headers["x-line-retry-key"]
    line_user.tap("confirm")
    line_user.inbox()
    assert _state(line_svc, applicant_id) == "confirmed"
