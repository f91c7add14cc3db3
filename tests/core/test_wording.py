"""Wording over every candidate-facing text: online interviews are joined, joins read right, the number we call from."""
import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from bot.channels.email.adapter import _html
from bot.channels.line.format import fit as line_label
from bot.channels.sms.text import compose
from bot.core.messages import Recipient, Renderer, format_slot, phone_for
from bot.core.settings import load_settings
from bot.core.texts import TEXTS
from calendars.base import Slot

NOW = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
SLOTS = tuple(Slot(NOW + timedelta(days=d, hours=4), NOW + timedelta(days=d, hours=4, minutes=30), "sato")
              for d in (1, 2, 3))
DATES = (date(2026, 12, 3), date(2026, 12, 4))
VISITS = re.compile(r"お越し|来社|ご来場|来訪|safe trip|coming in|for coming|come in", re.IGNORECASE)


def every_text(settings, job: str, locale: str):
    """(kind, text) for every message kind rendered for one job, plus its SMS form."""
    renderer = Renderer(settings, "https://jobs.example.com")
    for kind in TEXTS[locale]:
        payload = renderer.render(kind, Recipient("山田 花子", locale, job), SLOTS, DATES, current=SLOTS[0],
                                  booking_token="tok", now=NOW)
        yield kind, payload["text"]
        yield f"{kind} (SMS)", compose(payload, locale, settings.tz, lambda url: url)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_an_online_interview_is_never_worded_as_a_visit(locale):
    settings = load_settings()
    assert settings.jobs["bakery-staff"].mode == "online"
    visits = [(kind, text) for kind, text in every_text(settings, "bakery-staff", locale) if VISITS.search(text)]
    assert visits == []


@pytest.mark.parametrize("locale, word", [("ja", "お越し"), ("en", "safe trip")])
def test_an_interview_at_the_office_is_still_a_visit(locale, word):
    texts = dict(every_text(load_settings(), "store-manager", locale))
    assert word in texts["confirmed"] and word not in texts["confirmed_online"]


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_a_company_name_ending_in_a_full_stop_is_never_followed_by_another(locale):
    settings = load_settings()
    assert settings.company.name.en == "Soyokaze Bakery Co."
    for job in settings.jobs:
        for kind, text in every_text(settings, job, locale):
            assert not re.search(r"(?<!\.)\.\.(?!\.)|。。", text), (kind, text)


def test_the_join_keeps_the_stop_of_a_name_without_one():
    settings = load_settings()
    plain = replace(settings, company=replace(settings.company, name=replace(settings.company.name, en="Soyokaze")))
    text = Renderer(plain, "").render("reminder_day_before", Recipient("Hanako", "en", "store-manager"),
                                      current=SLOTS[0])["text"]
    assert "this is Soyokaze. Your interview" in text


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("slots", [SLOTS, ()], ids=["with-times", "no-times"])
def test_the_greeting_names_the_number_we_call_from_in_its_first_lines(locale, slots):
    settings = load_settings()
    text = Renderer(settings, "").render("greeting", Recipient("山田 花子", locale, "bakery-staff"), slots,
                                         now=NOW)["text"]
    assert phone_for(settings.company.phone, None, locale) in "\n".join(text.split("\n")[:3])


def test_an_interviewers_own_message_goes_only_to_candidates_who_meet_them():
    settings = load_settings()
    renderer = Renderer(settings, "")
    def titles(job, current=None):
        payload = renderer.render("greeting", Recipient("花子", "ja", job), SLOTS, current=current, now=NOW)
        return [link["title"] for link in payload["links"]]
    sato = next(c.title.ja for c in settings.content if c.interviewer == "sato")
    assert sato not in titles("bakery-staff")  # a pool of Sato and Tanaka: it may well be Tanaka
    assert sato in titles("store-manager")  # Sato alone interviews for this job
    assert sato in titles("bakery-staff", current=SLOTS[0])  # booked with Sato
    assert sato not in titles("bakery-staff", current=replace(SLOTS[0], interviewer="tanaka"))
    assert len(titles("bakery-staff")) == len(settings.content) - 1  # the generic links stay


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_a_slot_stays_on_one_line_in_text_and_in_html(locale):
    shown = format_slot(SLOTS[0], load_settings().tz, locale)
    assert " " not in shown and "\u00a0" in shown  # no ordinary space to break at
    html = _html(f"When: {shown}\nCall 03-6820-1234", [])
    assert f'<span style="white-space:nowrap">{shown}</span>' in html
    assert '<span style="white-space:nowrap">03-6820-1234</span>' in html
    assert "…" not in line_label(shown) and len(line_label(shown)) <= 20  # a LINE button drops the end time


def test_sms_never_pays_for_the_no_break_marks():
    settings = load_settings()
    payload = Renderer(settings, "").render("confirmed", Recipient("Hanako", "en", "store-manager"),
                                            current=SLOTS[0])
    assert "\u00a0" in payload["text"]
    text = compose(payload, "en", settings.tz, lambda url: url)
    assert "\u00a0" not in text and "\u2060" not in text


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_a_two_way_sms_greeting_names_the_number_we_call_from_in_its_first_line(locale):
    settings = load_settings()
    name = "山田 花子" if locale == "ja" else "Hanako Yamada"
    number = "+819012345678" if locale == "ja" else "+12025550123"  # two-way SMS: a number abroad, or a ja override
    payload = Renderer(settings, "").render("greeting", Recipient(name, locale, "bakery-staff", number), SLOTS, now=NOW)
    text = compose(payload, locale, settings.tz, lambda url: url)
    assert phone_for(settings.company.phone, number, locale) in text.split("\n")[0] and "1) " in text
    assert "…" not in text  # +81 3-6820-1234 for the candidate abroad still fits


JA_CASUAL = re.compile(r"ごめんなさい|すみません|気が変わったら|受けてみようかな|くださいね|しますね"
                       r"|こんなふうに|止めました")


def test_japanese_texts_keep_keigo_and_apologise_with_moushiwake_arimasen():
    offenders = {kind: text for kind, text in TEXTS["ja"].items() if JA_CASUAL.search(text)}
    assert offenders == {}


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _strings(item)


def test_short_sms_texts_and_pages_keep_the_same_keigo():
    from bot.channels.registry import CHANNELS
    from bot.channels.sms.link_text import LINK_LEADS
    from bot.channels.sms.text import LEADS
    from bot.web.candidate_texts import PAGE as CANDIDATE_PAGE
    from bot.web.pagetexts import PAGE

    # The form's words each channel declares: its address input and the reasons of its address checks.
    declared = [{**p.info.problems.get("ja", {}), "hint": p.info.form_field.hint["ja"] if p.info.form_field else ""}
                for p in CHANNELS]
    tables = (LEADS["ja"], LINK_LEADS["ja"], PAGE["ja"], CANDIDATE_PAGE["ja"], *declared)
    assert [text for table in tables for text in _strings(table) if JA_CASUAL.search(text)] == []
