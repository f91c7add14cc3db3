"""Multi-turn conversations through the sandbox chat: reschedule, cancel, other dates, stop, hand-off."""
from datetime import timedelta

from sqlmodel import Session, select

from bot.db.models import Applicant, Booking, Outbox
from tests.recruiters import sign_in


def slot_buttons(message):
    return [b for b in message["buttons"] if b["data"].startswith("slot:")]


def bookings(svc):
    with Session(svc.engine) as s:
        return s.exec(select(Booking).order_by(Booking.id)).all()


def test_reschedule_books_the_new_slot_and_cancels_the_old_one(chat, svc):
    chat.apply()
    first = slot_buttons(chat.replies()[0])
    chat.say(postback=first[0]["data"])
    chat.replies()
    chat.say("変更")
    offer = chat.replies()[-1]
    assert chat.state() == "rescheduling"
    assert first[0]["label"] in offer["text"]  # the current booking is named, and kept meanwhile
    assert [b.status for b in bookings(svc)] == ["booked"]
    new = slot_buttons(offer)[-1]
    chat.say(postback=new["data"])
    assert "面接のご予約が確定しました" in chat.replies()[-1]["text"]
    old, current = bookings(svc)
    assert old.status == "cancelled" and old.active_slot is None
    assert current.status == "booked" and current.active_slot.rpartition("@")[2] == new["data"][5:]


def test_cancel_interview_frees_the_slot_for_someone_else(chat, client, svc):
    chat.apply()
    choice = slot_buttons(chat.replies()[0])[0]
    chat.say("1")
    chat.replies()
    chat.say("キャンセル")
    assert "本当にキャンセル" in chat.replies()[-1]["text"]
    chat.say("はい")
    assert "キャンセルを承りました" in chat.replies()[-1]["text"]
    assert chat.state() == "cancelled"
    assert bookings(svc)[0].status == "cancelled"
    # The same slot is offered to the next candidate again.
    from tests.conftest import Chat
    other = Chat(client, svc)
    other.apply(name="佐々木 次郎", email="jiro@example.com", phone="080-2222-3333")
    assert choice["data"] in [b["data"] for b in slot_buttons(other.replies()[0])]


def test_english_cancel_in_the_web_chat_cancels_the_interview_not_the_messages(chat, svc):
    chat.apply(locale="en")
    assert "Hello 山田 花子" in chat.replies()[0]["text"]
    chat.say("1")
    chat.replies()
    chat.say("cancel")
    question = chat.replies()[-1]
    assert "really want to cancel" in question["text"] and chat.state() == "booked"
    assert [b["label"] for b in question["buttons"]] == ["Yes, cancel it", "No, keep it"]
    chat.say(postback="cancel:yes")
    assert "cancelled" in chat.replies()[-1]["text"] and chat.state() == "cancelled"
    with Session(svc.engine) as s:
        assert not s.get(Applicant, chat.id).opted_out


def test_other_dates_then_a_day_offers_that_days_times(chat, svc):
    chat.apply()
    chat.replies()
    chat.say("他の日")
    menu = chat.replies()[-1]
    day_buttons = [b for b in menu["buttons"] if b["data"].startswith("date:")]
    assert day_buttons, menu
    chat.say(postback=day_buttons[-1]["data"])
    offer = chat.replies()[-1]
    day = day_buttons[-1]["data"][5:]
    starts = [b["data"][5:] for b in slot_buttons(offer)]
    # Tokyo office hours fall on the same UTC date
    assert starts and all(s.startswith(day.replace("-", "")) for s in starts)
    number, label = day_buttons[-1]["label"].split(") ")
    assert number == str(len(day_buttons)) and label in offer["text"]  # buttons numbered as the text
    chat.say("1")
    assert chat.state() == "booked"


def test_a_number_not_on_offer_asks_again_and_books_nothing(chat, svc):
    chat.apply()
    chat.replies()
    chat.say("7")
    assert "番号（1〜3）" in chat.replies()[-1]["text"]
    assert chat.state() == "greeted" and bookings(svc) == []


def test_stale_or_forged_postback_reoffers_and_books_nothing(chat, svc):
    chat.apply()
    chat.replies()
    chat.say(postback="slot:tanaka@20991231T0100Z")
    assert "どの日時かわかりませんでした" in chat.replies()[-1]["text"]
    assert bookings(svc) == []


def test_duplicate_event_id_is_processed_once(chat, svc):
    chat.apply()
    chat.replies()
    chat.say("1", event_id="tap-1")
    chat.say("1", event_id="tap-1")
    replies = chat.replies()
    assert len([r for r in replies if "確定しました" in r["text"]]) == 1
    assert len(bookings(svc)) == 1


def test_two_candidates_choosing_one_slot_book_it_once(client, svc):
    from tests.conftest import Chat

    a, b = Chat(client, svc), Chat(client, svc)
    a.apply(job="store-manager")  # one interviewer: nobody else can take the time (pools: tests/service/test_pools.py)
    b.apply(name="鈴木 一郎", email="ichiro@example.com", phone="080-4444-5555", job="store-manager")
    offer_a, offer_b = slot_buttons(a.replies()[0]), slot_buttons(b.replies()[0])
    shared = next(x for x in offer_a if x in offer_b)
    a.say(postback=shared["data"])
    b.say(postback=shared["data"])
    assert a.state() == "booked"
    apology = b.replies()[-1]
    assert "ほかの方の予約が入ってしまいました" in apology["text"]
    assert shared["data"] not in [x["data"] for x in slot_buttons(apology)]
    assert b.state() == "greeted"
    assert len([x for x in bookings(svc) if x.active_slot]) == 1


def test_not_understood_goes_to_a_person_until_the_recruiter_resumes(chat, client, svc):
    chat.apply()
    chat.replies()
    chat.say("面接って私服でいいですか？")
    assert "担当者が内容を確認し" in chat.replies()[-1]["text"]
    assert chat.state() == "needs_human"
    chat.say("よろしくお願いします")
    assert chat.replies() == []  # no bot chatter while a person is on it
    with Session(svc.engine) as s:
        alert = s.exec(select(Outbox).where(Outbox.channel == "recruiter")).one()
    assert alert.payload["reason"] == "not_understood"
    sign_in(client)
    page = client.get("/recruiter").get_data(as_text=True)
    assert "面接って私服でいいですか" in page
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    res = client.post(f"/recruiter/applicants/{chat.id}/resume", data={"csrf": csrf})
    assert res.status_code == 303
    assert chat.state() == "greeted"
    assert slot_buttons(chat.replies()[-1])


def test_stop_silences_everything_until_start(chat, svc):
    chat.apply()
    chat.replies()
    chat.say("配信停止")
    assert "配信を停止しました" in chat.replies()[-1]["text"]
    chat.say("1")
    assert chat.replies() == [] and chat.state() == "opted_out"
    chat.say("配信再開")
    assert chat.state() == "greeted"
    assert slot_buttons(chat.replies()[-1])


def test_recruiter_marks_no_show_and_the_candidate_is_offered_a_new_time(chat, client, svc):
    chat.apply()
    chat.replies()
    chat.say("1")
    chat.replies()
    sign_in(client)
    client.get("/recruiter")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    svc.clock.now = bookings(svc)[0].start_at  # outcomes only once the interview has started
    client.post(f"/recruiter/applicants/{chat.id}/no_show", data={"csrf": csrf, "confirm": "yes"})
    svc.clock.advance(minutes=svc.settings.undo_minutes)  # the candidate hears after the recruiter's undo window
    follow = chat.replies()[-1]
    assert "お会いできず" in follow["text"] and slot_buttons(follow)
    assert chat.state() == "no_show"
    assert bookings(svc)[0].status == "no_show"


def test_confirmation_then_attended(chat, client, svc):
    chat.apply()
    chat.replies()
    chat.say("1")
    chat.replies()
    chat.say("はい")
    assert chat.state() == "confirmed"
    assert bookings(svc)[0].status == "confirmed"
    sign_in(client)
    client.get("/recruiter")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    svc.clock.now = bookings(svc)[0].start_at + timedelta(minutes=30)
    client.post(f"/recruiter/applicants/{chat.id}/attended", data={"csrf": csrf, "confirm": "yes"})
    assert chat.state() == "attended"
    svc.clock.advance(minutes=svc.settings.undo_minutes)
    assert "ありがとうございました" in chat.replies()[-1]["text"]


class CountingCalendar:
    """The calendar a turn is given, counting how often it is asked for busy time."""

    def __init__(self, calendar, asked: list):
        self.calendar, self.asked = calendar, asked

    def busy(self, interviewers, start, end):
        self.asked.append(1)
        return self.calendar.busy(interviewers, start, end)

    def book(self, request):
        return self.calendar.book(request)

    def cancel(self, event_id):
        self.calendar.cancel(event_id)


def test_only_turns_that_offer_times_ask_the_calendar(chat, svc):
    asked = []
    local = svc.calendar_for
    svc.calendar_for = lambda session: CountingCalendar(local(session), asked)
    chat.apply()
    assert len(asked) == 1  # the greeting offers times
    chat.say("ヘルプ")
    assert len(asked) == 1  # help needs no free times
    chat.say("他の日")  # other days: the free days, worked out with the greeting's times a moment ago
    assert len(asked) == 1
    svc.clock.advance(minutes=1)
    chat.say("他の日")  # a minute later they are worked out again
    assert len(asked) == 2
    assert any("ご希望の日" in m["text"] for m in chat.replies())
