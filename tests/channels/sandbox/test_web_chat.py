"""The web chat serves the greeting in parts (one stored message, several bubbles) and a typed answer still books."""
import re

from sqlmodel import Session, select

from bot.db.models import MessageLog


def _greeted(chat, **fields):
    chat.apply(**fields)
    [greeting] = chat.replies()
    return greeting


def test_the_greeting_is_one_stored_message_with_its_parts(chat, svc):
    greeting = _greeted(chat)
    intro, cards, ask = greeting["parts"]
    assert "山田 花子さん" in intro["text"] and cards["links"][0]["thumbnail"].endswith(".jpg")
    assert ask["buttons"][1]["label"].startswith("2) ")
    # The recruiter's conversation view and the inbox read the one text, which is stored once.
    assert "https://video.example.com/soyokaze-day" in greeting["text"]
    with Session(svc.engine) as s:
        assert len(s.exec(select(MessageLog).where(MessageLog.direction == "out")).all()) == 1


def test_a_candidate_s_own_words_have_no_parts(chat):
    _greeted(chat)
    chat.say("2")
    said = [m for m in chat._conversation(0)["messages"] if m["direction"] == "in"]
    assert said and all(m["parts"] is None for m in said)


def test_a_typed_number_books_the_time_of_that_button(chat):
    ask = _greeted(chat)["parts"][-1]
    chat.say("２")  # a full-width digit, as a Japanese keyboard types it
    [booked] = chat.replies()
    assert chat.state() == "booked"
    assert ask["buttons"][1]["label"].removeprefix("2) ") in booked["text"]


def test_a_typed_date_and_time_books_that_time(chat):
    ask = _greeted(chat)["parts"][-1]
    label = ask["buttons"][2]["label"]  # "3) 12月2日(水) 17:30〜18:00"
    month, day, hour, minute = re.search(r"(\d+)月(\d+)日\(.\)\W(\d+):(\d+)", label).groups()
    chat.say(f"{month}/{day} {hour}:{minute}")
    booked = chat.replies()[-1]
    assert chat.state() == "booked" and label.removeprefix("3) ") in booked["text"]


def test_the_chat_page_has_a_heading_its_form_in_main_and_a_polite_live_log(chat, client):
    _greeted(chat)
    res = client.get(f"/chat/{chat.token}")
    html = res.get_data(as_text=True)
    assert html.count("<h1>") == 1 and "株式会社そよかぜベーカリー</h1>" in html
    main = html[html.index("<main"):html.index("</main>")]
    assert '<form id="say"' in main and 'aria-live="polite"' in main and '<label for="text"' in main
    assert "chat.css" in html


def test_the_chat_may_show_images_only_from_the_configured_thumbnail_hosts(chat, client):
    _greeted(chat)
    csp = client.get(f"/chat/{chat.token}").headers["Content-Security-Policy"]
    assert "img-src 'self' https://video.example.com data:;" in csp
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp  # the rest of the site's policy kept
