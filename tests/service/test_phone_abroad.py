"""A candidate abroad is given our number as they can dial it (+81 3-6820-1234); one in Japan keeps 03-6820-1234."""
import re
from dataclasses import replace

import pytest
from sqlmodel import Session

from bot.core.messages import phone_for
from bot.db.models import Applicant
from bot.service.candidate_page import page_url
from tests.channels.sms.drivers import Phone
from tests.conftest import AUTH, application

NATIONAL, INTERNATIONAL = "03-6820-1234", "+81 3-6820-1234"  # the demo company's number, both ways


def accept_abroad(svc) -> None:
    """Take numbers from the US and the UK too ([protection] countries; the company's own only by default)."""
    svc.settings = replace(svc.settings, protection=replace(svc.settings.protection, countries=("JP", "US", "GB")))


@pytest.mark.parametrize("candidate, locale, shown", [
    ("+819012345678", "ja", NATIONAL),
    ("+819012345678", "en", NATIONAL),  # an English speaker with a Japanese mobile is in Japan
    ("+12025550123", "en", INTERNATIONAL),
    ("+12025550123", "ja", INTERNATIONAL),  # a Japanese speaker abroad cannot dial 03 either
    ("+447911123456", "ja", INTERNATIONAL),
    (None, "ja", NATIONAL),
    (None, "en", INTERNATIONAL),  # no number to go by: English readers may well be abroad; +81 works from Japan too
])
def test_the_company_number_is_international_for_a_candidate_abroad_and_national_in_japan(candidate, locale, shown):
    assert phone_for(NATIONAL, candidate, locale) == shown


def test_a_company_number_that_is_not_a_number_is_shown_as_written():
    assert phone_for("お問い合わせフォーム", "+12025550123", "en") == "お問い合わせフォーム"


@pytest.mark.parametrize("number, locale, shown, not_shown", [
    ("+12025550123", "en", INTERNATIONAL, NATIONAL),
    ("+819012345678", "en", NATIONAL, INTERNATIONAL),
])
def test_the_first_texts_name_our_number_as_the_candidate_can_dial_it(sms_client, sms_svc, fake_twilio,
                                                                         number, locale, shown, not_shown):
    accept_abroad(sms_svc)
    phone = Phone(sms_client, sms_svc, fake_twilio, number=number)
    phone.apply(phone=number, locale=locale, name="Jane Smith")
    sent = "\n".join(sms.body for sms in phone.inbox())  # the greeting, and the content links after it
    assert shown in sent and not_shown not in sent.replace(INTERNATIONAL, ""), sent


def test_an_email_candidate_abroad_reads_our_number_in_international_format(sms_client, sms_svc, smtp_server):
    from bot.service.delivery import run_once

    accept_abroad(sms_svc)
    res = sms_client.post("/api/applications", headers=AUTH,
                          json=application(channel="email", phone="+1 202-555-0123", locale="en"))
    assert res.status_code == 201, res.get_json()
    while run_once(sms_svc, "test-worker"):
        pass
    text = smtp_server.mails[0].get_body(("plain",)).get_content()
    assert INTERNATIONAL in text and NATIONAL not in text.replace(INTERNATIONAL, ""), text


def _page(client, svc, **fields) -> str:
    res = client.post("/api/applications", json=application(channel="email", **fields), headers=AUTH)
    assert res.status_code == 201, res.get_json()
    with Session(svc.engine) as s:
        token = s.get(Applicant, res.get_json()["id"]).token
    url = page_url(svc.config.secret_key, svc.config.public_base_url, token)
    page = client.get(url.removeprefix(svc.config.public_base_url))
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.mark.parametrize("fields, shown, tel", [
    ({"phone": "+1 202-555-0123", "locale": "en"}, INTERNATIONAL, "tel:+81368201234"),
    ({"phone": "+1 202-555-0123", "locale": "ja"}, INTERNATIONAL, "tel:+81368201234"),
    ({"phone": None, "locale": "en"}, INTERNATIONAL, "tel:+81368201234"),
    ({"phone": "090-1234-5678", "locale": "en"}, NATIONAL, "tel:0368201234"),
    ({"phone": None, "locale": "ja"}, NATIONAL, "tel:0368201234"),
])
def test_the_candidate_page_shows_and_links_our_number_as_the_candidate_can_dial_it(client, svc, fields, shown, tel):
    accept_abroad(svc)
    html = _page(client, svc, **fields)
    assert re.search(rf'href="{re.escape(tel)}"[^>]*>{re.escape(shown)}<', html), html[-1500:]


@pytest.mark.parametrize("lang, shown", [("en", INTERNATIONAL), ("ja", NATIONAL)])
def test_the_apply_form_names_our_number_international_in_english(client, lang, shown):
    html = client.get(f"/apply?lang={lang}").get_data(as_text=True)
    assert f'<span class="nowrap">{shown}</span>' in html


def test_the_line_booking_card_of_a_candidate_abroad_calls_the_international_number(svc):
    from datetime import timedelta

    from bot.channels.line.cards import booking_card
    from bot.db.models import Booking
    from tests.conftest import START

    start = START + timedelta(days=1, hours=4)
    booking = Booking(applicant_id=1, interviewer="sato", start_at=start, end_at=start + timedelta(minutes=30),
                      created_at=START)
    abroad = Applicant(name="Jane Smith", channel="line", job_id="bakery-staff", locale="en", phone="+12025550123")
    card = booking_card(svc, abroad, booking)
    assert INTERNATIONAL in [row["value"] for row in card["rows"]]
    assert "tel:+81368201234" in [link["url"] for link in card["links"]]
    at_home = Applicant(name="山田 花子", channel="line", job_id="bakery-staff", locale="ja", phone="+819012345678")
    assert "tel:0368201234" in [link["url"] for link in booking_card(svc, at_home, booking)["links"]]


def test_a_stranger_texting_from_abroad_is_told_our_number_in_international_format(sms_client, sms_svc, fake_twilio):
    answer = Phone(sms_client, sms_svc, fake_twilio, number="+12025550123").text("hello").get_data(as_text=True)
    assert INTERNATIONAL in answer and NATIONAL not in answer.replace(INTERNATIONAL, ""), answer
