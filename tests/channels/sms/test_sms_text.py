"""SMS wording: segment arithmetic (GSM-7 160/153, UCS-2 70/67) and every message within the budget."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.channels.sms.text import SEGMENT_BUDGET, compose, fit, segments
from bot.core.messages import Recipient, Renderer
from bot.core.settings import load_settings
from bot.core.texts import TEXTS
from calendars.base import Slot


@pytest.mark.parametrize("text, expected", [
    ("", 0), ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),   # GSM-7
    ("€" * 80, 1), ("€" * 81, 2),                                               # extension table: 2 septets
    ("あ" * 70, 1), ("あ" * 71, 2), ("あ" * 134, 2), ("あ" * 135, 3),            # UCS-2
    ("a" * 159 + "あ", 3),                                                       # one kana turns it all UCS-2
    ("😀" * 35, 1), ("😀" * 36, 2),                                              # surrogate pairs count twice
])
def test_segments_follow_the_carrier_arithmetic(text, expected):
    assert segments(text) == expected


def test_fit_keeps_required_lines_and_drops_optional_ones_that_do_not_fit():
    text = fit(["あ" * 60, "1) 12/1(火)10:00"], ["い" * 80, "う" * 20], budget=2)
    assert text == "あ" * 60 + "\n1) 12/1(火)10:00\n" + "う" * 20
    cut = fit(["あ" * 200, "1) 12/1(火)10:00"], [], budget=2)
    assert cut.endswith("…\n1) 12/1(火)10:00") and segments(cut) == 2


def _payloads(locale: str):
    settings = load_settings(None)
    renderer = Renderer(settings, "https://jobs.example.com")
    start = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
    slots = tuple(Slot(start + timedelta(days=i, hours=i), start + timedelta(days=i, hours=i, minutes=30), "sato")
                  for i in range(3))
    days = tuple(date(2026, 12, d) for d in range(1, 11))
    who = Recipient("山田 花子" if locale == "ja" else "Hanako Yamada", locale, "bakery-staff")
    for kind in TEXTS[locale]:
        if kind.endswith("_button") or kind.startswith(("card_", "line_")) or kind in (
                "online", "office", "content_header", "greeting_no_slots"):
            continue
        yield kind, renderer.render(kind, who, slots, days, current=slots[0], booking_token="tok")


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_message_fits_the_segment_budget(locale):
    tz = load_settings(None).tz
    for kind, payload in _payloads(locale):
        text = compose(payload, locale, tz, lambda url: "https://jobs.example.com/r/AbCd1234")
        print(f"{locale} {kind:28s} {len(text):3d} chars {segments(text)} segment(s)")
        assert 0 < segments(text) <= SEGMENT_BUDGET, (kind, text)
        assert "https://video.example.com" not in text  # long links are always shortened


def test_numbered_slots_match_the_offer_order():
    tz = load_settings(None).tz
    payload = dict(_payloads("ja"))["greeting"]
    text = compose(payload, "ja", tz, lambda url: url)
    assert "1) 12/1(火)10:00\n2) 12/2(水)11:00\n3) 12/3(木)12:00\n0) 他の日" in text


def test_an_english_sms_with_a_time_range_stays_in_gsm7_and_costs_one_segment():
    from zoneinfo import ZoneInfo

    payload = {"kind": "back_to_bot_booked",
               "text": "Thanks for waiting. Your interview is booked for Wed\u00a02\u00a0Dec, 13:00\u2013\u206013:30."}
    text = compose(payload, "en", ZoneInfo("Asia/Tokyo"), lambda url: url)
    assert text == "Thanks for waiting. Your interview is booked for Wed 2 Dec, 13:00-13:30."
    assert segments(text) == 1  # the en dash alone would make it UCS-2: two segments
    ja = compose({"kind": "x", "text": "12月2日(水) 13:00〜\u206013:30"}, "ja", ZoneInfo("Asia/Tokyo"), lambda url: url)
    assert ja == "12月2日(水) 13:00〜13:30"  # Japanese is UCS-2 anyway: its own wave dash stays
