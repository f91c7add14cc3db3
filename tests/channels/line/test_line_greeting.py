"""The greeting on LINE: its parts as messages of one push, the times as quick replies on the last one."""
from datetime import datetime, timedelta, timezone

from bot.channels.line.format import MAX_MESSAGES, to_line
from bot.core.messages import Recipient, Renderer
from bot.core.settings import load_settings
from calendars.base import Slot

NOW = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
SLOTS = tuple(Slot(NOW + timedelta(days=d, hours=4), NOW + timedelta(days=d, hours=4, minutes=30), "sato")
              for d in (1, 2, 3))


def _greeting(locale="ja"):
    return Renderer(load_settings(), "https://jobs.example.com").render(
        "greeting", Recipient("山田 花子", locale, "bakery-staff"), SLOTS, now=NOW)


def test_the_parts_become_text_carousel_and_the_ask_with_the_quick_replies():
    text, carousel, ask = to_line(_greeting())
    assert [m["type"] for m in (text, carousel, ask)] == ["text", "flex", "text"]
    assert [("quickReply" in m) for m in (text, carousel, ask)] == [False, False, True]
    hero = carousel["contents"]["contents"][0]["hero"]
    assert hero["url"] == "https://video.example.com/soyokaze-day.jpg" and hero["aspectRatio"] == "16:9"
    labels = [i["action"]["label"] for i in ask["quickReply"]["items"]]
    assert [label.replace("\xa0", " ") for label in labels] == [  # LINE's 20 characters: the end time dropped
        "1) 12月1日(火) 13:00", "2) 12月2日(水) 13:00", "3) 12月3日(木) 13:00", "他の日にする"]
    assert ask["quickReply"]["items"][-1]["action"]["type"] == "datetimepicker"


def test_an_http_thumbnail_is_left_out_as_line_shows_only_https_images():
    payload = _greeting("en")
    payload["parts"][1]["links"][0]["thumbnail"] = "http://video.example.com/soyokaze-day.jpg"
    _, carousel, _ = to_line(payload)
    assert ["hero" in b for b in carousel["contents"]["contents"]] == [False, False]


def test_never_more_messages_than_one_push_carries():
    parts = [{"text": f"part {i}", "links": [{"kind": "video", "title": "t", "url": "https://x.example/v",
                                              "thumbnail": ""}]} for i in range(4)]
    parts[-1]["buttons"] = [{"label": "1) a", "data": "slot:1"}]
    messages = to_line({"text": "all of it", "parts": parts})
    assert len(messages) == MAX_MESSAGES == 5 and "quickReply" in messages[-1]


def test_a_message_without_parts_is_sent_as_before():
    payload = Renderer(load_settings(), "").render("offer_again", Recipient("山田 花子", "ja", "bakery-staff"), SLOTS)
    [message] = to_line(payload)
    assert message["text"] == payload["text"] and len(message["quickReply"]["items"]) == 4
