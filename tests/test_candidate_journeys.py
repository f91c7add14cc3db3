"""Journeys found by trying the demo as a candidate would (web chat through the sandbox), fake clock only.

The clock is the suite's START (Monday 30 November 2026, 09:00 in Tokyo); Sundays have no working hours
in the demo settings and the horizon is 14 days.
"""
from __future__ import annotations


def _greeted(chat, **fields):
    chat.apply(channel="email", phone=None, **fields)
    chat.replies()


def _alerts(svc, kind: str) -> int:
    from sqlmodel import Session, select

    from bot.models import Outbox

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
    from bot.texts import TEXTS

    casual = ("受けてみようかな", "気が変わったら", "と送ってください", "こんなふうに", "したいときは")
    found = {(kind, phrase) for kind, text in TEXTS["ja"].items() if isinstance(text, str)
             for phrase in casual if phrase in text}
    assert not found
    # Problems the company caused are apologised for with 申し訳ありません, not ごめんなさい.
    assert "ごめんなさい" not in TEXTS["ja"]["calendar_cancelled_no_slots"]
