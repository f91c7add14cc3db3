"""SMS mode by destination: Japan is one-way (links to the page), the US two-way (numbers to reply),
`[sms]` overrides."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.channels.sms.link_text import LINK_LEADS, PageLinks, compose_link
from bot.channels.sms.text import SEGMENT_BUDGET, segments
from bot.core.messages import Recipient
from bot.core.settings import SettingsError, SmsOptions, load_settings, parse_settings
from bot.core.texts import TEXTS
from bot.service.candidate_page import REPLY_REQUEST, sms_is_one_way, without_reply_requests
from calendars.base import Slot
from tests.channels.sms.drivers import Phone
from tests.conftest import START

US = "+16502530000"


@pytest.fixture
def sms_mode():
    return "auto"  # the product's default: one-way to Japanese numbers, two-way where Twilio supports it


def test_one_way_greeting_to_a_japanese_number_links_to_the_page_and_asks_for_no_reply(phone, sms_svc, sms_client):
    phone.apply()
    greeting, content = phone.inbox()
    assert greeting.to == "+819012345678"
    assert "山田 花子さん" in greeting.body and "https://jobs.example.com/r/" in greeting.body
    assert "1) " not in greeting.body and "0) " not in greeting.body
    assert not REPLY_REQUEST.search(greeting.body) and "返信" not in greeting.body
    assert segments(greeting.body) <= SEGMENT_BUDGET
    short = re.search(r"/r/([\w-]+)", greeting.body).group(1)
    assert sms_client.get(f"/r/{short}").headers["Location"].startswith("https://jobs.example.com/c/")
    assert "03-6820-1234" in content.body and not REPLY_REQUEST.search(content.body)


def test_a_us_number_keeps_the_two_way_numbered_texts(sms_svc, sms_client, fake_twilio):
    allowed = replace(sms_svc.settings.protection, countries=("JP", "US"))  # numbers abroad: only where taken
    sms_svc.settings = replace(sms_svc.settings, protection=allowed)
    phone = Phone(sms_client, sms_svc, fake_twilio, number=US)
    phone.apply(phone="+1 650-253-0000", locale="en", name="Hanako Yamada")
    greeting, _ = phone.inbox()
    assert "Reply with a number" in greeting.body and "1) " in greeting.body and "/c/" not in greeting.body
    phone.text("1")
    (booked,) = phone.inbox()
    assert "booked" in booked.body and '"cancel interview"' in booked.body


@pytest.mark.parametrize("sms_mode", ["two_way"])
def test_sms_mode_two_way_setting_lets_japanese_numbers_reply_again(phone, sms_svc):
    phone.apply()
    greeting, _ = phone.inbox()
    assert "番号で返信" in greeting.body and "1) " in greeting.body


def test_sms_countries_setting_overrides_the_country_default():
    settings = replace(load_settings(), sms=SmsOptions(countries={"US": "one_way", "JP": "two_way"}))
    assert sms_is_one_way(settings, US) and not sms_is_one_way(settings, "+819012345678")
    one_way_everywhere = replace(load_settings(), sms=SmsOptions(mode="one_way"))
    assert sms_is_one_way(one_way_everywhere, US)
    default = load_settings()
    assert sms_is_one_way(default, "+819012345678") and not sms_is_one_way(default, US)
    assert not sms_is_one_way(default, "+14165550123")  # Canada: two-way


def test_the_sms_table_is_checked_at_start():
    import tomllib
    from importlib import resources

    base = tomllib.loads(resources.files("bot").joinpath("default_settings.toml").read_text(encoding="utf-8"))
    assert parse_settings({**base, "sms": {"mode": "one_way", "countries": {"US": "two_way"}}}).sms == \
        SmsOptions("one_way", {"US": "two_way"})
    for table, key in (({"mode": "sometimes"}, "sms.mode"), ({"countries": {"jp": "one_way"}}, "sms.countries.jp"),
                       ({"countries": {"JP": "both"}}, "sms.countries.JP"), ({"modes": "auto"}, "sms.modes")):
        with pytest.raises(SettingsError) as err:
            parse_settings({**base, "sms": table})
        assert err.value.key == key


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_message_in_link_mode_asks_for_no_reply_and_fits_the_budget(locale):
    from bot.core.messages import Renderer

    settings = load_settings()
    renderer = Renderer(settings, "https://jobs.example.com")
    slots = tuple(Slot(START + timedelta(hours=h), START + timedelta(hours=h, minutes=30), "sato") for h in (3, 26, 50))
    who = Recipient("山田 花子" if locale == "ja" else "Hanako Yamada", locale, "bakery-staff")
    links = PageLinks("https://jobs.example.com/c/x", "https://jobs.example.com/c/x?do=confirm",
                      "https://jobs.example.com/c/x?do=change")
    shorten = lambda url: "https://jobs.example.com/r/AbCdEfGh"  # noqa: E731
    kinds = [k for k, v in TEXTS[locale].items() if isinstance(v, str) and "{" in v or k in LINK_LEADS[locale]]
    for kind in kinds:  # every one renders (a fragment too): a text that fails to render fails here, not silently
        payload = renderer.render(kind, who, slots, (slots[1].start.date(),), current=slots[0], booking_token="tok")
        text = compose_link(payload, locale, settings.tz, shorten, links)
        assert not REPLY_REQUEST.search(text), (kind, text)
        assert segments(text) <= SEGMENT_BUDGET, (kind, text)


def test_reply_requests_are_dropped_sentence_by_sentence():
    text = ("面接の日時を選んでいただけますか？\n1) 12月1日(火) 10:00〜10:30\n"
            "番号を送るか、ボタンを押すだけで予約できます。どれも合わなければ「0」と送ってください。\n\n"
            "お電話は 03 からおかけします。")
    kept = without_reply_requests(text)
    assert "12月1日(火)" in kept and "お電話は 03" in kept and not REPLY_REQUEST.search(kept)
    english = 'Could you pick a time?\nJust reply with the number. If none work, send "0".\nWe will call you.'
    assert without_reply_requests(english) == "Could you pick a time?\nWe will call you."


def test_english_sentences_kept_after_dropping_reply_requests_keep_their_spaces():
    why = "We are looking for people who bake. We would love to hear what you enjoy."
    assert without_reply_requests(why) == why
    assert without_reply_requests("Thanks. Just reply with 1. We will call you.") == "Thanks. We will call you."
    assert without_reply_requests("Reply 1 to book. We will call.") == "We will call."
    assert without_reply_requests("Links:\n  http://x.example.com/a.b") == "Links:\n  http://x.example.com/a.b"


def test_a_landline_refused_by_twilio_21614_falls_back_to_email(phone, sms_svc, fake_twilio, smtp_server):
    from sqlmodel import Session, select

    from bot.db.models import Outbox

    fake_twilio.failures.append((400, 21614, "'To' number +81312345678 is not a mobile number"))
    phone.apply()
    phone.inbox()
    with Session(sms_svc.engine) as s:
        greeting = s.exec(select(Outbox).where(Outbox.kind == "greeting", Outbox.channel == "sms")).one()
        (copy,) = s.exec(select(Outbox).where(Outbox.fallback_for == greeting.id)).all()
    assert greeting.status == "failed" and "21614" in greeting.last_error and "landline" in greeting.last_error
    assert "+81312345678" not in greeting.last_error
    assert copy.channel == "email" and copy.status == "sent" and smtp_server.mails


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_one_way_thank_you_after_the_interview_carries_no_link_to_the_closed_page(locale):
    from bot.core.messages import Renderer

    renderer = Renderer(load_settings(), "https://jobs.example.com")
    who = Recipient("山田 花子", locale, "bakery-staff")
    payload = renderer.render("thanks_after", who)
    links = PageLinks("https://jobs.example.com/c/x", "https://jobs.example.com/c/x?do=confirm",
                      "https://jobs.example.com/c/x?do=change")
    text = compose_link(payload, locale, load_settings().tz, lambda url: "https://jobs.example.com/r/PAGE0000", links)
    assert "山田 花子" in text and "/r/PAGE0000" not in text  # the page closes once attended (410)
