"""From application to booked interview and .ics feed, through the Flask test client."""
import icalendar
from sqlmodel import Session, select

from bot.db.models import Booking
from bot.web.security import feed_token


def test_application_to_booked_interview_and_feed(chat, client, svc):
    body = chat.apply()
    assert body["state"] == "greeted"
    greeting = chat.replies()
    assert len(greeting) == 1
    text = greeting[0]["text"]
    assert "山田 花子さん" in text and "03-6820-1234" in text and "https://video.example.com/soyokaze-day" in text
    slot_buttons = [b for b in greeting[0]["buttons"] if b["data"].startswith("slot:")]
    assert len(slot_buttons) == 3

    chat.say("2")
    confirmation = chat.replies()
    assert chat.state() == "booked"
    assert "面接のご予約が確定しました" in confirmation[-1]["text"]
    assert slot_buttons[1]["label"] in confirmation[-1]["text"]
    assert "/booking/" in confirmation[-1]["text"]

    with Session(svc.engine) as s:
        sato_or_tanaka = s.exec(select(Booking)).one().interviewer  # the pool chose who, when it was booked
    feed = client.get(f"/calendar/{feed_token('test-secret-key-0123456789abcdef', sato_or_tanaka)}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = icalendar.Calendar.from_ical(feed.data).walk("VEVENT")
    assert len(events) == 1 and "山田 花子" in str(events[0]["SUMMARY"])
    assert str(events[0]["STATUS"]) == "CONFIRMED"
