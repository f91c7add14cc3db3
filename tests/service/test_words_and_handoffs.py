"""Words mean what the candidate means (cancel, stop, start) and hand-offs say when a person answers."""
import tomllib
from datetime import datetime, time, timezone
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.core.messages import Recipient
from bot.core.office_hours import answer_time
from bot.core.settings import SettingsError, load_settings, parse_settings
from bot.db.models import Outbox
from tests.conftest import stored_applicant as applicant
from tests.conftest import stored_bookings as bookings
from tests.recruiters import sign_in

TOKYO = ZoneInfo("Asia/Tokyo")


def at_tokyo(day: int, hour: int, minute: int = 0) -> datetime:
    """A December 2026 (or 30 November) moment in Tokyo, as UTC for the fake clock."""
    month = 11 if day == 30 else 12
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO).astimezone(timezone.utc)


def alerts(svc, applicant_id) -> list[dict]:
    with Session(svc.engine) as s:
        rows = s.exec(select(Outbox).where(Outbox.applicant_id == applicant_id, Outbox.channel == "recruiter")
                      .order_by(Outbox.id)).all()
        return [r.payload for r in rows]


def slot_buttons(message):
    return [b for b in message["buttons"] if b["data"].startswith("slot:")]


def booked_in_chat(chat, **fields):
    chat.apply(**fields)
    chat.replies()
    chat.say("1")
    return chat.replies()[-1]


def resume(client, svc, applicant_id):
    sign_in(client)
    page = client.get("/recruiter").get_data(as_text=True)
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    assert client.post(f"/recruiter/applicants/{applicant_id}/resume", data={"csrf": csrf}).status_code == 303


# --- "cancel" cancels the interview, after one question; never the messages (outside SMS) ---------

def test_no_to_really_cancel_keeps_the_interview_and_says_so_in_the_web_chat(chat, svc):
    booked_in_chat(chat)
    chat.say("キャンセル")
    question = chat.replies()[-1]
    assert "本当にキャンセル" in question["text"]
    assert [b["label"] for b in question["buttons"]] == ["はい、キャンセルします", "いいえ、予約を残します"]
    assert applicant(svc, chat.id).pending == "cancel"
    chat.say("いいえ")
    kept = chat.replies()[-1]
    assert "そのまま残しております" in kept["text"] and chat.state() == "booked"
    assert [b.status for b in bookings(svc, chat.id)] == ["booked"] and applicant(svc, chat.id).pending is None
    chat.say("はい")  # the question was answered: a later yes confirms attendance, it cancels nothing
    assert chat.state() == "confirmed" and [b.status for b in bookings(svc, chat.id)] == ["confirmed"]


def test_something_else_after_really_cancel_keeps_the_interview_and_answers_it(chat, svc):
    booked_in_chat(chat, locale="en")
    chat.say("cancel")
    chat.replies()
    chat.say("help")
    kept, help_text = chat.replies()
    assert "stays booked" in kept["text"] and "cancel interview" in help_text["text"]
    assert chat.state() == "booked" and not applicant(svc, chat.id).opted_out


def test_cancel_typed_on_line_asks_then_no_keeps_and_yes_cancels(line_user, line_svc):
    res = line_user.client.post("/api/applications", headers={"Authorization": "Bearer test-intake-key"}, json={
        "name": "Hanako Yamada", "channel": "line", "line_user_id": line_user.user_id, "job": "bakery-staff",
        "locale": "en"})
    applicant_id = res.get_json()["id"]
    line_user.inbox()
    line_user.say("1")
    line_user.inbox()
    line_user.say("cancel")
    [[question]] = line_user.inbox()
    assert "really want to cancel" in question["text"]
    assert [item["action"]["data"] for item in question["quickReply"]["items"]] == ["cancel:yes", "keep"]
    line_user.say("no")
    [[kept]] = line_user.inbox()
    assert "stays booked" in kept["text"] and applicant(line_svc, applicant_id).state == "booked"
    line_user.say("CANCEL")
    line_user.inbox()
    line_user.tap("cancel:yes")
    [[bye]] = line_user.inbox()
    assert "cancelled" in bye["text"]
    gone = applicant(line_svc, applicant_id)
    assert gone.state == "cancelled" and not gone.opted_out
    assert [b.status for b in bookings(line_svc, applicant_id)] == ["cancelled"]


def test_kyanseru_on_line_in_japanese_asks_then_hai_cancels(line_user, line_svc):
    res = line_user.client.post("/api/applications", headers={"Authorization": "Bearer test-intake-key"}, json={
        "name": "山田 花子", "channel": "line", "line_user_id": line_user.user_id, "job": "bakery-staff"})
    applicant_id = res.get_json()["id"]
    line_user.inbox()
    line_user.say("1")
    line_user.inbox()
    line_user.say("キャンセル")
    [[question]] = line_user.inbox()
    assert "本当にキャンセル" in question["text"]
    line_user.say("はい")
    [[bye]] = line_user.inbox()
    assert "キャンセルを承りました" in bye["text"] and applicant(line_svc, applicant_id).state == "cancelled"


def test_cancel_on_two_way_sms_opts_out_as_twilio_does_and_keeps_the_booking(phone, sms_svc):
    phone.apply(locale="en", name="Hanako Yamada")
    phone.inbox()
    phone.text("1")
    phone.inbox()
    phone.text("CANCEL")
    assert phone.inbox() == []  # Twilio confirms the opt-out itself; ours would be refused (21610)
    a = applicant(sms_svc, phone.id)
    assert a.opted_out and a.state == "opted_out"
    assert [b.status for b in bookings(sms_svc, phone.id)] == ["booked"]
    [alert] = [p for p in alerts(sms_svc, phone.id) if p["reason"] == "opted_out"]
    assert "予約はそのまま" in alert["detail"] and "〜" in alert["detail"]


# --- a stop while booked says what happens to the booking -------------------------------------------

@pytest.mark.parametrize("locale, stop, stays", [("ja", "配信停止", "そのまま残しております"),
                                                 ("en", "STOP", "still booked")])
def test_stop_while_booked_says_the_booking_stays_and_how_to_cancel_it(chat, svc, locale, stop, stays):
    booked = booked_in_chat(chat, locale=locale)
    chat.say(stop)
    [stopped] = chat.replies()
    assert stays in stopped["text"] and "03-6820-1234" in stopped["text"]
    when = booked["text"].split("\n")[2].split(": ", 1)[1]  # the booked message's "日時: …" / "When: …" line
    assert when in stopped["text"]
    assert chat.state() == "opted_out" and [b.status for b in bookings(svc, chat.id)] == ["booked"]
    [alert] = [p for p in alerts(svc, chat.id) if p["reason"] == "opted_out"]
    assert "予約はそのまま" in alert["detail"]
    with Session(svc.engine) as s:  # no reminder will reach them: the text said so
        assert not s.exec(select(Outbox).where(Outbox.applicant_id == chat.id, Outbox.status == "pending",
                                               Outbox.kind.like("reminder%"))).all()


def test_stop_on_line_while_booked_says_the_booking_stays(line_user, line_svc):
    res = line_user.client.post("/api/applications", headers={"Authorization": "Bearer test-intake-key"}, json={
        "name": "山田 花子", "channel": "line", "line_user_id": line_user.user_id, "job": "bakery-staff"})
    line_user.inbox()
    line_user.say("1")
    line_user.inbox()
    line_user.say("配信停止")
    [[stopped]] = line_user.inbox()
    assert "そのまま残しております" in stopped["text"]
    assert applicant(line_svc, res.get_json()["id"]).opted_out


# --- stop then start keeps an open hand-off --------------------------------------------------------

def test_stop_then_start_returns_to_the_open_hand_off_until_the_recruiter_resumes(chat, client, svc, clock):
    clock.now = at_tokyo(1, 11)  # Tuesday 11:00, office open
    chat.apply()
    chat.replies()
    chat.say("面接って私服でいいですか？")
    chat.replies()
    assert chat.state() == "needs_human" and applicant(svc, chat.id).handoff_open
    chat.say("配信停止")
    chat.replies()
    chat.say("配信再開")
    [welcome] = chat.replies()
    assert chat.state() == "needs_human"
    assert "担当者が本日18時までに" in welcome["text"] and "03-6820-1234" in welcome["text"]
    assert alerts(svc, chat.id)[-1]["reason"] == "opted_in_waiting"
    chat.say("よろしくお願いします")
    assert chat.replies() == []  # still a person's conversation
    resume(client, svc, chat.id)
    assert chat.state() == "greeted" and not applicant(svc, chat.id).handoff_open
    chat.say("配信停止")
    chat.say("配信再開")
    assert chat.state() == "greeted" and slot_buttons(chat.replies()[-1])


def test_english_stop_then_start_while_booked_and_waiting_names_the_booking(chat, svc, clock):
    clock.now = at_tokyo(1, 11)
    booked_in_chat(chat, locale="en")
    chat.say("Can I bring my portfolio?")
    chat.replies()
    chat.say("STOP")
    chat.say("START")
    welcome = chat.replies()[-1]
    assert "still booked" in welcome["text"] and "by 18:00 today" in welcome["text"]
    assert chat.state() == "needs_human" and [b.status for b in bookings(svc, chat.id)] == ["booked"]


# --- the hand-off says when a person answers, and the number to call ---------------------------------

@pytest.mark.parametrize("when, ja, en", [
    (at_tokyo(1, 14), "本日18時までに", "by 18:00 today"),                         # Tuesday, office open
    (at_tokyo(1, 17, 45), "明日（12月2日）9時30分以降に", "tomorrow (Wed 2 Dec) from 09:30"),  # too late today
    (at_tokyo(1, 20), "明日（12月2日）9時30分以降に", "tomorrow (Wed 2 Dec) from 09:30"),      # evening
    (at_tokyo(2, 7), "本日9時30分以降に", "from 09:30 today"),                     # early morning
    (at_tokyo(4, 19), "12月7日(月)9時30分以降に", "on Mon 7 Dec from 09:30"),       # Friday night: Monday
])
@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_hand_off_names_when_a_person_answers_and_the_number_to_call(chat, clock, when, ja, en, locale):
    clock.now = when
    chat.apply(locale=locale)
    chat.replies()
    chat.say("面接って私服でいいですか？" if locale == "ja" else "What should I wear?")
    [handoff] = chat.replies()
    assert (ja if locale == "ja" else en) in handoff["text"]
    assert "03-6820-1234" in handoff["text"] and "このあとすぐ" not in handoff["text"]


@pytest.mark.parametrize("kind", ["no_slots", "human_requested", "calendar_cancelled_no_slots", "greeting"])
def test_every_hand_off_message_names_the_answer_time(svc, kind):
    text = svc.renderer.render(kind, Recipient("山田 花子", "ja", "bakery-staff"), now=at_tokyo(1, 20))["text"]
    assert "明日（12月2日）9時30分以降に" in text and "03-6820-1234" in text


def test_picking_an_offered_time_during_a_hand_off_books_it(chat, svc, clock):
    clock.now = at_tokyo(1, 11)
    chat.apply()
    offered = slot_buttons(chat.replies()[0])
    chat.say("駐車場はありますか？")
    [handoff] = chat.replies()
    assert [b["data"] for b in slot_buttons(handoff)] == [b["data"] for b in offered]  # still on screen
    assert chat.state() == "needs_human"
    chat.say("2")
    assert "面接のご予約が確定しました" in chat.replies()[-1]["text"]
    assert chat.state() == "booked" and len(bookings(svc, chat.id)) == 1
    assert applicant(svc, chat.id).handoff_open  # the question is still a person's to answer


def test_tapping_an_offered_time_on_line_during_a_hand_off_books_it(line_user, line_svc):
    res = line_user.client.post("/api/applications", headers={"Authorization": "Bearer test-intake-key"}, json={
        "name": "山田 花子", "channel": "line", "line_user_id": line_user.user_id, "job": "bakery-staff"})
    [greeting] = line_user.inbox()
    slot = next(i["action"] for i in greeting[-1]["quickReply"]["items"] if i["action"]["type"] == "postback")
    line_user.say("駐車場はありますか？")
    line_user.inbox()
    assert applicant(line_svc, res.get_json()["id"]).state == "needs_human"
    line_user.tap(slot["data"])
    line_user.inbox()
    assert applicant(line_svc, res.get_json()["id"]).state == "booked"


# --- office hours ------------------------------------------------------------------------------

HOURS = {0: [(time(9, 30), time(12)), (time(13), time(18))], 1: [(time(9, 30), time(18))]}


def test_office_hours_answer_by_the_end_of_the_day_or_from_the_next_opening():
    monday = datetime(2026, 11, 30, tzinfo=TOKYO)
    assert answer_time(monday.replace(hour=10), HOURS, TOKYO).by
    assert answer_time(monday.replace(hour=10), HOURS, TOKYO).at.hour == 18
    lunch = answer_time(monday.replace(hour=12, minute=15), HOURS, TOKYO)
    assert not lunch.by and lunch.at.hour == 13
    tuesday_night = answer_time(datetime(2026, 12, 1, 21, tzinfo=TOKYO), HOURS, TOKYO)
    assert not tuesday_night.by and tuesday_night.at.date().isoformat() == "2026-12-07"


def test_office_hours_default_to_the_working_hours_and_are_checked_by_key():
    data = tomllib.loads(resources.files("bot").joinpath("default_settings.toml").read_text("utf-8"))
    del data["company"]["office_hours"]
    settings = parse_settings(data)
    assert settings.office_hours == settings.rules.working_hours
    data["company"]["office_hours"] = {"mon": ["9:00-18:00"], "holiday": ["10:00-12:00"]}
    with pytest.raises(SettingsError) as error:
        parse_settings(data)
    assert error.value.key == "company.office_hours.holiday"
    assert load_settings().office_hours[0] == [(time(9, 30), time(18))]


def test_the_recruiter_closes_a_hand_off_the_candidate_booked_during_and_the_booking_stays(chat, client, svc):
    chat.apply()
    chat.replies()
    chat.say("駐車場はありますか？")
    chat.say("1")
    chat.replies()
    sign_in(client)
    assert "返答済みにする" in client.get("/recruiter").get_data(as_text=True)
    resume(client, svc, chat.id)
    a = applicant(svc, chat.id)
    assert a.state == "booked" and not a.handoff_open and chat.replies() == []
    assert "返答済みにする" not in client.get("/recruiter").get_data(as_text=True)


def test_a_reminder_after_an_unanswered_really_cancel_makes_hai_answer_the_reminder(chat, svc, clock):
    chat.apply()
    chat.replies()
    chat.say("3")  # the third time offered is days ahead: its day-before reminder comes first
    chat.replies()
    chat.say("キャンセル")
    assert "本当にキャンセル" in chat.replies()[-1]["text"]
    with Session(svc.engine) as s:
        reminder = s.exec(select(Outbox).where(Outbox.applicant_id == chat.id,
                                               Outbox.kind == "reminder_day_before")).one()
    clock.now = reminder.due_at
    assert any(m["text"].startswith("山田 花子さん") for m in chat.replies())  # the reminder went out
    chat.say("はい")  # answers the reminder ("are you coming?"), not the question asked before it
    assert chat.state() == "confirmed" and [b.status for b in bookings(svc, chat.id)] == ["confirmed"]


def test_an_unanswered_really_cancel_lapses_after_a_day(chat, svc, clock):
    booked_in_chat(chat, locale="en")
    chat.say("cancel")
    chat.replies()
    clock.advance(hours=25)
    chat.say("yes")
    assert chat.state() != "cancelled" and [b.status for b in bookings(svc, chat.id)] != ["cancelled"]


@pytest.mark.parametrize("locale, stays, day", [("ja", "そのまま残っております", "12/3"),
                                                ("en", "still booked", "3 Dec")])
def test_a_one_way_sms_stop_while_booked_says_the_booking_stays_and_links_the_page(svc, locale, stays, day):
    from bot.channels.sms.link_text import PageLinks, compose_link
    from bot.channels.sms.text import SEGMENT_BUDGET, segments
    from calendars.base import Slot

    booked = Slot(at_tokyo(3, 14), at_tokyo(3, 14, 30), "sato")
    payload = svc.renderer.render("stopped", Recipient("山田 花子", locale, "bakery-staff"), current=booked,
                                  now=at_tokyo(1, 11))
    links = PageLinks("https://jobs.example.com/c/x", "https://jobs.example.com/c/x?do=confirm",
                      "https://jobs.example.com/c/x?do=change")
    text = compose_link(payload, locale, svc.settings.tz, lambda url: "https://jobs.example.com/r/AbCdEfGh", links)
    assert stays in text and day in text and "https://jobs.example.com/r/AbCdEfGh" in text
    assert segments(text) <= SEGMENT_BUDGET


@pytest.mark.parametrize("locale, when", [("ja", "明日（12月2日）9時30分以降に"),
                                          ("en", "tomorrow (Wed 2 Dec) from 09:30")])
def test_an_sms_greeting_without_times_says_when_a_person_gets_in_touch(svc, locale, when):
    from bot.channels.sms.link_text import PageLinks, compose_link
    from bot.channels.sms.text import compose

    payload = svc.renderer.render("greeting", Recipient("山田 花子", locale, "bakery-staff"), now=at_tokyo(1, 20))
    shorten = lambda url: "https://jobs.example.com/r/AbCdEfGh"  # noqa: E731
    links = PageLinks("https://jobs.example.com/c/x", "https://jobs.example.com/c/x?do=confirm",
                      "https://jobs.example.com/c/x?do=change")
    assert when in compose(payload, locale, svc.settings.tz, shorten)
    assert when in compose_link(payload, locale, svc.settings.tz, shorten, links)


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("kind", ["handoff", "handoff_offered", "human_requested", "welcome_back_handoff",
                                  "welcome_back_handoff_booked"])
def test_a_hand_off_promises_contact_not_an_answer_in_the_chat_nobody_can_write_in(svc, kind, locale):
    text = svc.renderer.render(kind, Recipient("山田 花子", locale, "bakery-staff"), now=at_tokyo(1, 11))["text"]
    for claim in ("こちらでお返事", "このトークで", "reply here", "in this chat", "question here"):
        assert claim not in text
    assert ("03-6820-1234" if locale == "ja" else "+81 3-6820-1234") in text  # no number given: English reads +81
