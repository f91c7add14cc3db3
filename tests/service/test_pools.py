"""Pools and lists through the sandbox chat: a time is offered for the job's pool and booked with whoever is
free then; a number or a tap means the list shown last. (The PostgreSQL race: tests/service/test_postgres.py.)"""
from datetime import date

from sqlmodel import Session, select

from bot.channels.sms.text import compose
from bot.core.messages import Recipient, Renderer
from bot.core.settings import load_settings
from bot.db.models import Applicant, Booking
from tests.conftest import AUTH, Chat, application


def slot_buttons(message):
    return [b for b in message["buttons"] if b["data"].startswith("slot:")]


def day_buttons(message):
    return [b for b in message["buttons"] if b["data"].startswith("date:")]


def live(svc):
    with Session(svc.engine) as s:
        return s.exec(select(Booking).where(Booking.active_slot.is_not(None)).order_by(Booking.id)).all()


def candidates(client, svc, n, **fields):
    chats = [Chat(client, svc) for _ in range(n)]
    for i, c in enumerate(chats):
        c.apply(name=f"候補者 {i}", email=f"c{i}@example.com", phone=f"090-1000-{i:04d}", **fields)
    return chats, [c.replies()[0] for c in chats]


# --- pools: book the free colleague -------------------------------------------------------------

def test_a_time_one_interviewer_just_got_is_booked_with_the_free_colleague(client, svc):
    (a, b), (offer_a, offer_b) = candidates(client, svc, 2)
    time = slot_buttons(offer_a)[0]
    assert time in slot_buttons(offer_b)  # the same time, offered to both for the pool
    a.say(postback=time["data"])
    b.say(postback=time["data"])
    assert a.state() == "booked" and b.state() == "booked"
    first, second = live(svc)
    assert {first.interviewer, second.interviewer} == {"sato", "tanaka"} and first.start_at == second.start_at
    a.replies()
    booked = b.replies()[-1]["text"]
    assert "面接のご予約が確定しました" in booked and "ほかの方の予約" not in booked
    names = {"sato": "佐藤 美咲", "tanaka": "田中 健"}
    assert f"面接担当: {names[second.interviewer]}" in booked  # the interviewer who really has the time


def test_when_the_whole_pool_is_taken_the_apology_offers_other_times_never_the_lost_one(client, svc):
    (a, b, c), offers = candidates(client, svc, 3, locale="en")
    time = slot_buttons(offers[0])[0]
    for chat in (a, b, c):
        chat.say(postback=time["data"])
    assert (a.state(), b.state(), c.state()) == ("booked", "booked", "greeted")
    apology = c.replies()[-1]
    assert "someone booked that time just a moment ago" in apology["text"]
    again = [x["data"] for x in slot_buttons(apology)]
    assert again and time["data"] not in again
    assert time["label"] not in apology["text"]
    c.say("1")  # the first of the new list, not the lost time
    assert c.state() == "booked" and live(svc)[-1].start_at != live(svc)[0].start_at


def test_the_pool_books_whoever_has_fewer_interviews_that_day(client, svc):
    a, b = Chat(client, svc), Chat(client, svc)
    a.apply()
    b.apply(name="鈴木 一郎", email="ichiro@example.com", phone="080-4444-5555")
    a.replies()
    b.replies()
    a.say("他の日")
    menu = a.replies()[-1]
    a.say(postback=day_buttons(menu)[1]["data"])
    times = slot_buttons(a.replies()[-1])
    a.say(postback=times[0]["data"])
    b.say(postback=day_buttons(menu)[1]["data"])  # the same day, another time
    other = next(x for x in slot_buttons(b.replies()[-1]) if x["data"] != times[0]["data"])
    b.say(postback=other["data"])
    first, second = live(svc)
    assert first.interviewer == "sato" and second.interviewer == "tanaka"  # settings order, then fewer that day


def test_an_old_button_naming_a_busy_interviewer_books_the_time_with_the_free_one(client, svc):
    (a, b), (offer_a, _) = candidates(client, svc, 2)
    time = slot_buttons(offer_a)[0]["data"]
    a.say(postback=time)
    assert live(svc)[0].interviewer == "sato"
    b.say(postback=f"slot:sato@{time[5:]}")  # a button from before pools, naming sato
    assert b.state() == "booked" and live(svc)[1].interviewer == "tanaka"


def test_reschedule_never_offers_the_time_already_booked(chat, svc):
    chat.apply()
    time = slot_buttons(chat.replies()[0])[0]
    chat.say(postback=time["data"])
    chat.replies()
    chat.say("変更")
    offer = chat.replies()[-1]
    assert chat.state() == "rescheduling" and slot_buttons(offer)
    assert time["label"] not in [x["label"] for x in slot_buttons(offer)]  # although the colleague is free then
    chat.say(postback=f"date:{live(svc)[0].start_at.astimezone(svc.settings.tz).date().isoformat()}")
    on_that_day = chat.replies()[-1]
    assert slot_buttons(on_that_day) and time["label"] not in [x["label"] for x in slot_buttons(on_that_day)]
    chat.say(postback=time["data"])  # the old button of the booked time books nothing new
    assert len(live(svc)) == 1 and chat.state() == "rescheduling"


# --- a number always means the list the candidate last saw -------------------------------------

def test_a_number_after_the_date_menu_picks_that_day_and_books_nothing(chat, svc):
    chat.apply()
    chat.replies()
    chat.say("他の日")
    menu = chat.replies()[-1]
    days = day_buttons(menu)
    assert "番号か日付" in menu["text"] and [b["label"][:3] for b in days[:2]] == ["1) ", "2) "]
    assert days[1]["label"] in menu["text"]  # the text numbers the days as the buttons do
    chat.say("2")
    offer = chat.replies()[-1]
    assert live(svc) == [] and chat.state() == "greeted"
    day = days[1]["data"][5:].replace("-", "")
    assert slot_buttons(offer) and all(b["data"][5:].startswith(day) for b in slot_buttons(offer))
    assert days[1]["label"][3:] in offer["text"]  # 12月1日(火)はこちらの時間が空いています
    chat.say("1")
    assert chat.state() == "booked" and live(svc)[0].start_at.strftime("%Y%m%d") == day


def test_a_number_after_the_date_menu_picks_that_day_in_english(chat, svc):
    chat.apply(locale="en")
    chat.replies()
    chat.say("other")
    menu = chat.replies()[-1]
    assert "Reply with its number or a date" in menu["text"]
    days = day_buttons(menu)
    chat.say("3")
    offer = chat.replies()[-1]
    assert live(svc) == [] and offer["text"].startswith(f"On {days[2]['label'][3:]}")


def test_a_number_beyond_the_date_menu_shows_the_days_again(chat, svc):
    chat.apply()
    chat.replies()
    chat.say("0")
    menu = chat.replies()[-1]
    chat.say(str(len(day_buttons(menu)) + 1))
    again = chat.replies()[-1]
    assert again["buttons"] == menu["buttons"] and live(svc) == []


def test_a_slot_button_from_before_the_date_menu_never_books(chat, svc):
    chat.apply()
    greeting = chat.replies()[0]
    chat.say("他の日")
    menu = chat.replies()[-1]
    chat.say(postback=slot_buttons(greeting)[0]["data"])
    assert chat.replies()[-1]["buttons"] == menu["buttons"]  # the days again, nothing booked
    assert live(svc) == [] and chat.state() == "greeted"


def test_a_slot_button_of_an_older_offer_that_is_not_on_screen_never_books(chat, svc):
    chat.apply()
    greeting = chat.replies()[0]
    chat.say("他の日")
    menu = chat.replies()[-1]
    old = slot_buttons(greeting)[0]["data"]
    day = next(b for b in day_buttons(menu) if not old[5:].startswith(b["data"][5:].replace("-", "")))
    chat.say(postback=day["data"])
    offer = chat.replies()[-1]
    assert old not in [b["data"] for b in slot_buttons(offer)]
    chat.say(postback=old)
    assert "どの日時かわかりませんでした" in chat.replies()[-1]["text"]
    assert live(svc) == [] and chat.state() == "greeted"
    with Session(svc.engine) as s:
        a = s.get(Applicant, chat.id)
        assert a.offered and not a.offered_dates  # the times of that day are the list on screen


# --- the same numbers on LINE and by SMS -------------------------------------------------------

def test_on_line_the_day_buttons_are_numbered_and_a_typed_number_picks_that_day(line_user, line_svc):
    res = line_user.client.post("/api/applications", headers=AUTH,
                                json=application(channel="line", line_user_id=line_user.user_id))
    assert res.status_code == 201
    line_user.inbox()
    line_user.say("他の日")
    [[menu]] = line_user.inbox()
    days = [item["action"] for item in menu["quickReply"]["items"] if item["action"]["type"] == "postback"]
    assert [d["label"].split(") ")[0] for d in days] == [str(i) for i in range(1, len(days) + 1)]
    assert all(d["label"] in menu["text"] for d in days)  # "2) 12月1日(火)" on the button and in the text
    line_user.say("2")
    [[offer]] = line_user.inbox()
    times = [item["action"]["data"] for item in offer["quickReply"]["items"] if item["action"]["type"] == "postback"]
    day = days[1]["data"][5:].replace("-", "")
    assert times and all(t[5:].startswith(day) for t in times) and live(line_svc) == []


def test_by_sms_the_date_menu_numbers_the_days_as_the_chat_does():
    settings = load_settings(None)
    renderer = Renderer(settings, "https://jobs.example.com")
    days = (date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 4))
    expected = {"ja": ["1) 12/1(火)", "2) 12/2(水)", "3) 12/4(金)"],
                "en": ["1) Tue 12/1", "2) Wed 12/2", "3) Fri 12/4"]}
    for loc, lines in expected.items():
        payload = renderer.render("date_menu", Recipient("x", loc, "bakery-staff"), dates=days)
        assert compose(payload, loc, settings.tz, lambda url: url).splitlines()[1:] == lines
        assert [b["label"].split(") ")[0] for b in payload["buttons"]] == ["1", "2", "3"]
