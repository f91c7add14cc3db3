"""Journeys found by trying the demo as a candidate would (web chat through the sandbox), fake clock only.

The clock is the suite's START (Monday 30 November 2026, 09:00 in Tokyo); Sundays have no working hours
in the demo settings and the horizon is 14 days.
"""
from __future__ import annotations

import pytest


def _greeted(chat, **fields):
    chat.apply(channel="email", phone=None, **fields)
    chat.replies()


def _alerts(svc, kind: str) -> int:
    from sqlmodel import Session, select

    from bot.db.models import Outbox

    with Session(svc.engine) as s:
        return sum(1 for row in s.exec(select(Outbox).where(Outbox.channel == "recruiter"))
                   if kind in str(row.payload))


def test_typing_a_day_with_nothing_free_shows_the_free_days_and_keeps_the_candidate_choosing(chat, svc):
    _greeted(chat)
    before = _alerts(svc, "no_slots")
    chat.say("12/6")  # a Sunday: nobody works
    (answer,) = chat.replies()
    assert chat.state() == "greeted"
    assert "その日は空きがございませんでした" in answer["text"]
    assert "1) 11月30日(月)" in answer["text"] and "12月1日(火)" in answer["text"]
    assert "空き枠がございません" not in answer["text"]  # not "no times at all, a person will call"
    assert _alerts(svc, "no_slots") == before
    chat.say("2")  # the second free day of the list just shown
    (times,) = chat.replies()
    assert times["text"].startswith("12月1日(火)はこちらの時間が空いています")
    assert chat.state() == "greeted"


def test_typing_a_day_beyond_the_horizon_shows_the_free_days(chat):
    _greeted(chat, locale="en")
    chat.say("2027/1/20")
    (answer,) = chat.replies()
    assert chat.state() == "greeted"
    assert "Mon 30 Nov" in answer["text"] and "no interview times" not in answer["text"]


def test_a_cancelled_interview_is_answered_in_keigo_with_how_to_book_again(chat):
    _greeted(chat)
    chat.say("1")
    chat.replies()
    chat.say("キャンセル")
    chat.replies()
    chat.say("はい")
    (answer,) = chat.replies()
    assert chat.state() == "cancelled"
    assert "受けてみようかな" not in answer["text"] and "と送ってください" not in answer["text"]
    assert "「予約」とお送りください" in answer["text"]


def test_no_japanese_text_uses_casual_phrases_or_plain_requests():
    from bot.core.texts import TEXTS

    casual = ("受けてみようかな", "気が変わったら", "と送ってください", "こんなふうに", "したいときは")
    found = {(kind, phrase) for kind, text in TEXTS["ja"].items() if isinstance(text, str)
             for phrase in casual if phrase in text}
    assert not found
    # Problems the company caused are apologised for with 申し訳ありません, not ごめんなさい.
    assert "ごめんなさい" not in TEXTS["ja"]["calendar_cancelled_no_slots"]


# --- A link in brackets: "Online (https://meet…/room)" must not take the bracket into the link ------------

MEET = "https://meet.example.com/soyokaze-interview"


def test_the_online_link_in_an_english_booking_mail_stops_before_the_closing_bracket(sms_client, sms_svc,
                                                                                      smtp_server):
    from tests.conftest import Chat

    chat = Chat(sms_client, sms_svc)
    chat.apply(channel="email", locale="en")
    chat.replies()
    chat.say("1")
    (booked,) = chat.replies()
    assert f"Online ({MEET})" in booked["text"]
    html = smtp_server.mails[-1].get_body(("html",)).get_content()
    # The mail's table links the meeting by name ("Join the online interview"), never with the bracket in it.
    assert f'<a href="{MEET}" style=' in html and f'{MEET})"' not in html


def test_the_online_link_in_the_english_web_chat_stops_before_the_closing_bracket(chat, svc):
    from tests.e2e.test_browser import CHROMIUM_ARGS, _chromium_path, serving

    path = _chromium_path()
    playwright = __import__("pytest").importorskip("playwright.sync_api")
    _greeted(chat, locale="en")
    chat.say("1")
    chat.replies()
    with serving(svc, worker=False) as base, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{base}/chat/{chat.token}")
            link = page.locator("a", has_text="meet.example.com").first
            link.wait_for(timeout=15_000)
            assert link.get_attribute("href") == MEET and link.inner_text() == MEET
        finally:
            browser.close()


# --- What people type: the buttons' own words, and a number said naturally ------------------------------

def _labels():
    from bot.core.texts import TEXTS

    kinds = {"other_dates_button": "other", "reschedule_button": "reschedule", "cancel_button": "cancel",
             "book_button": "book", "confirm_button": "confirm", "pick_button": "book",
             "cancel_yes_button": "cancel:yes", "keep_button": "keep"}
    return [(loc, TEXTS[loc][kind], data) for loc in ("ja", "en") for kind, data in kinds.items()]



@pytest.mark.parametrize("loc, label, data", _labels())
def test_a_button_label_typed_out_means_what_the_button_does(loc, label, data):
    from datetime import date

    from bot.core.events import Decline
    from bot.core.intents import parse_postback, parse_text

    today = date(2026, 11, 30)
    typed, tapped = parse_text(label, today, channel="sandbox"), parse_postback(data, today)
    assert type(typed) is type(tapped) and (isinstance(typed, Decline) or typed == tapped), (label, typed)


@pytest.mark.parametrize("text", ["2番がいいです", "2がいいです", "2番希望です", "２番が良いです"])
def test_a_number_with_ga_ii_desu_books_that_time(chat, text):
    _greeted(chat)
    chat.say(text)
    (answer,) = chat.replies()
    assert chat.state() == "booked" and "12月1日(火)" in answer["text"].split("日時:")[1].split("\n")[0]


def test_a_number_with_please_books_that_time_in_english(chat):
    _greeted(chat, locale="en")
    chat.say("2 please")
    chat.replies()
    assert chat.state() == "booked"


def test_typing_the_other_days_button_shows_the_days_and_a_number_then_picks_a_day(chat):
    _greeted(chat)
    chat.say("他の日にする")
    (days,) = chat.replies()
    assert chat.state() == "greeted" and "1) 11月30日(月)" in days["text"]
    chat.say("2")
    (times,) = chat.replies()
    assert chat.state() == "greeted" and times["text"].startswith("12月1日(火)はこちらの時間が空いています")


# --- A day and a time typed together ----------------------------------------------------------------

@pytest.mark.parametrize("text", ["12月1日の13時でお願いします", "12/1 13:00", "１２月１日（火）１３：００〜１３：３０",
                                  "12月1日(火) 13:00〜\u206013:30"])
def test_a_typed_day_and_time_on_the_list_shown_books_that_time(chat, text):
    _greeted(chat)  # the greeting offers 12月1日(火) 13:00〜13:30 as its second time
    chat.say(text)
    (answer,) = chat.replies()
    assert chat.state() == "booked"
    assert "12月1日(火)\u00a013:00" in answer["text"].split("日時:")[1].split("\n")[0]


def test_a_typed_day_and_time_not_on_the_list_shows_that_days_times_and_books_nothing(chat):
    _greeted(chat)
    chat.say("12月3日 10時")
    (answer,) = chat.replies()
    assert chat.state() == "greeted" and answer["text"].startswith("12月3日(木)はこちらの時間が空いています")


def test_a_typed_day_and_time_after_the_date_menu_shows_that_days_times(chat):
    _greeted(chat)
    chat.say("他の日")
    chat.replies()
    chat.say("12/1 13:00")  # the days are on screen, not the times: that day's times, never a booking
    (answer,) = chat.replies()
    assert chat.state() == "greeted" and answer["text"].startswith("12月1日(火)はこちらの時間が空いています")


# --- English dates, as the English texts write them ("e.g. Wed 2 Dec") ---------------------------------

@pytest.mark.parametrize("text", ["Tue 1 Dec", "1 Dec", "Dec 1", "December 1st", "tuesday, 1 december"])
def test_an_english_date_as_the_date_menu_shows_it_picks_that_day(chat, text):
    _greeted(chat, locale="en")
    chat.say("other")
    menu = chat.replies()[0]["text"]
    assert "e.g. Mon 30 Nov" in menu
    chat.say(text)
    (answer,) = chat.replies()
    assert chat.state() == "greeted" and answer["text"].startswith("On Tue 1 Dec these times are free")


@pytest.mark.parametrize("text", ["Tue 1 Dec, 13:00–13:30", "1 Dec 13:00", "Dec 1 at 13:00"])
def test_an_english_day_and_time_on_the_list_shown_books_that_time(chat, text):
    _greeted(chat, locale="en")  # the greeting offers Tue 1 Dec, 13:00–13:30 as its second time
    chat.say(text)
    (answer,) = chat.replies()
    assert chat.state() == "booked" and "When: Tue\u00a01\u00a0Dec,\u00a013:00" in answer["text"]
