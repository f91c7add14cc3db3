"""The greeting in parts, for chats: a short intro with our number, the content as cards, the times as buttons.

SMS and e-mail keep reading the one `text`; a company that wrote its own greeting gets it as one message."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from bot.core.messages import Recipient, Renderer, validate_templates
from bot.core.settings import SettingsError, load_settings
from calendars.base import Slot

NOW = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
SLOTS = tuple(Slot(NOW + timedelta(days=d, hours=4), NOW + timedelta(days=d, hours=4, minutes=30), "sato")
              for d in (1, 2, 3))
WHO = {"ja": Recipient("山田 花子", "ja", "bakery-staff", "+819012345678"),
       "en": Recipient("Hanako Yamada", "en", "bakery-staff", "+819012345678")}


def greeting(settings=None, locale="ja", slots=SLOTS):
    return Renderer(settings or load_settings(), "https://jobs.example.com").render(
        "greeting", WHO[locale], slots, now=NOW)


def with_templates(**table):
    settings = load_settings()
    return replace(settings, templates={**settings.templates, "ja": {**settings.templates.get("ja", {}), **table}})


@pytest.mark.parametrize("locale, number", [("ja", "1〜3"), ("en", "1–3")])
def test_the_greeting_is_an_intro_the_cards_and_the_numbered_times(locale, number):
    payload = greeting(locale=locale)
    intro, cards, ask = payload["parts"]
    assert WHO[locale].name in intro["text"] and "03-6820-1234" in intro["text"]
    assert load_settings().company.why_meet.get(locale) in intro["text"]
    assert set(intro) == {"text"} and set(cards) == {"links"}
    assert cards["links"] == payload["links"] and cards["links"][0]["thumbnail"].startswith("https://")
    assert not [p for p in (intro, ask) if "https://" in p["text"]]  # the addresses travel in the cards, once
    assert number in ask["text"]
    # The same buttons as the one-text greeting, in the same order, the times numbered as a typed "2" counts them.
    assert [b["data"] for b in ask["buttons"]] == [b["data"] for b in payload["buttons"]]
    times = [b["label"] for b in ask["buttons"] if b["data"].startswith("slot:")]
    assert times == [f"{i}) {b['label']}" for i, b in enumerate(payload["buttons"][:3], 1)]
    assert ask["buttons"][-1] == payload["buttons"][-1]  # "other days" has no number


def test_sms_and_e_mail_keep_the_one_text_with_the_times_and_links():
    text = greeting()["text"]
    assert "1) 12月1日(火)" in text and "https://video.example.com/soyokaze-day" in text


def test_without_times_the_last_part_says_when_a_person_will_write():
    intro, cards, wait = greeting(slots=())["parts"]
    assert "改めてご連絡いたします" in wait["text"] and "buttons" not in wait and cards["links"]


def test_without_content_there_is_no_card_part():
    settings = replace(load_settings(), content=())
    assert [sorted(p) for p in greeting(settings)["parts"]] == [["text"], ["buttons", "text"]]


def test_a_company_s_own_greeting_is_one_message_with_its_cards_and_buttons():
    settings = with_templates(greeting="{name}さん、{company}です。ご応募ありがとうございます。\n{slots}\n{content}")
    payload = greeting(settings)
    [part] = payload["parts"]
    assert part["text"].startswith("山田 花子さん、株式会社そよかぜベーカリーです。")
    assert "1) 12月1日(火)" in part["text"] and "https://" not in part["text"]  # the cards show the links
    assert part["links"] == payload["links"] and part["buttons"] == payload["buttons"]
    assert "https://video.example.com/soyokaze-day" in payload["text"]  # SMS and e-mail: as the company wrote it


def test_a_company_that_writes_its_own_intro_gets_the_parts_in_its_words():
    settings = with_templates(greeting="{name}さん、ありがとうございます。{slots}",
                              greeting_intro="{name}さん、ようこそ！")
    intro, _, ask = greeting(settings)["parts"]
    assert intro["text"] == "山田 花子さん、ようこそ！" and ask["buttons"][0]["label"].startswith("1) ")
    validate_templates(settings)  # the parts are templates like any other


def test_an_unknown_field_in_the_ask_is_refused_at_start():
    with pytest.raises(SettingsError):
        validate_templates(with_templates(greeting_ask="{nonsense}"))


def test_only_the_greeting_is_told_in_parts():
    renderer = Renderer(load_settings(), "https://jobs.example.com")
    assert "parts" not in renderer.render("offer_again", WHO["ja"], SLOTS)
