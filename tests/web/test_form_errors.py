"""Form and intake errors give the real reason, next to the field; full-width input is normalised, not refused."""
import html
from dataclasses import replace

import pytest
from sqlmodel import Session, select

from bot.db.models import Applicant
from tests.conftest import AUTH, application


def _csrf(client, path="/apply"):
    return client.get(path).get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]


def apply_form(client, lang="ja", **fields):
    data = {"csrf": _csrf(client), "name": "山田 花子", "channel": "sms", "phone": "090-1234-5678",
            "email": "", "job": "bakery-staff", "lang": lang, "consent": "yes", **fields}
    return client.post(f"/apply?lang={lang}", data=data)


def field_error(page: str, field: str) -> str:
    return html.unescape(page.split(f'id="{field}-error">')[1].split("</p>")[0])


def applicants(svc):
    with Session(svc.engine) as s:
        return s.exec(select(Applicant)).all()


def test_a_too_long_name_says_the_limit_on_the_form(client, svc):
    res = apply_form(client, name="あ" * 201)
    assert res.status_code == 422
    assert field_error(res.get_data(as_text=True), "name") == "200文字以内で入力してください（いまは201文字です）。"
    en = apply_form(client, lang="en", name="a" * 201).get_data(as_text=True)
    assert "200 characters" in field_error(en, "name")
    assert applicants(svc) == []


def test_a_landline_for_sms_is_refused_with_the_reason_on_the_form(client, svc):
    page = apply_form(client, phone="03-6820-1234").get_data(as_text=True)
    assert "固定電話にはSMSが届きません" in field_error(page, "phone") and "メール" in field_error(page, "phone")
    en = apply_form(client, lang="en", phone="03-6820-1234").get_data(as_text=True)
    assert field_error(en, "phone") == "SMS can't reach a landline; please give a mobile number or choose e-mail."
    assert applicants(svc) == []


# Twilio refuses SMS to every number that is not a mobile one (21614): toll-free, IP phone, pager.
NO_SMS = {"0120-123-456": "toll-free", "0800-123-4567": "toll-free", "050-1234-5678": "IP phone (VoIP)",
          "020-4123-4567": "pager"}
# Dear to text and to call: refused whatever channel was chosen (tests/security/test_destinations.py).
COSTLY = {"0570-064-370": "universal access (navi-dial)", "0990-123-456": "premium-rate"}


@pytest.mark.parametrize("phone", NO_SMS)
def test_a_number_that_cannot_receive_sms_is_refused_with_its_own_reason_on_the_form(client, svc, phone):
    res = apply_form(client, phone=phone)
    assert res.status_code == 422
    ja = field_error(res.get_data(as_text=True), "phone")
    assert ja == ("フリーダイヤルやIP電話など、SMSを受け取れない番号です。"
                  "携帯電話の番号を入力するか、連絡方法で「メール」を選んでください。")
    assert "固定電話" not in ja  # 0120 is not a landline to the candidate who typed it
    en = field_error(apply_form(client, lang="en", phone=phone).get_data(as_text=True), "phone")
    assert en == ("This number (toll-free, IP phone or the like) can't receive SMS; please give a mobile number "
                  "or choose e-mail.")
    assert applicants(svc) == []


@pytest.mark.parametrize("phone, kind", NO_SMS.items())
def test_the_intake_api_refuses_a_number_that_cannot_receive_sms_for_sms(client, svc, phone, kind):
    res = client.post("/api/applications", json=application(phone=phone), headers=AUTH)
    assert res.status_code == 422
    assert res.get_json()["errors"]["phone"] == (f"is a {kind} number: SMS can't reach it; please give a mobile "
                                                 "number or choose e-mail")
    assert applicants(svc) == []


@pytest.mark.parametrize("phone", COSTLY)
def test_a_premium_rate_or_navi_dial_number_is_refused_with_its_own_reason_on_the_form(client, svc, phone):
    res = apply_form(client, phone=phone, channel="sms")
    assert res.status_code == 422
    assert field_error(res.get_data(as_text=True), "phone") == ("有料番号（0990・0570など）にはご連絡できません。"
                                                                "ご本人の電話番号を入力してください。")
    for channel in ("sms", "email"):  # the API keeps every address it is given, so it screens every one
        api = client.post("/api/applications", json=application(phone=phone, channel=channel), headers=AUTH)
        assert f"is a {COSTLY[phone]} number" in api.get_json()["errors"]["phone"]
    assert applicants(svc) == []


@pytest.mark.parametrize("phone", COSTLY)
def test_the_form_ignores_a_number_left_in_the_phone_field_when_email_was_chosen(client, svc, phone):
    # Without JavaScript both inputs are on the page: only the chosen channel's address is read, checked and kept.
    res = apply_form(client, phone=phone, channel="email", email="hanako@example.com")
    assert res.status_code == 303
    [a] = applicants(svc)
    assert (a.email, a.phone) == ("hanako@example.com", None)


@pytest.mark.parametrize("phone", ["+1 202-555-0123", "+44 7400 123456", "070-1234-5678"])
def test_a_mobile_or_possibly_mobile_number_is_taken_for_sms(client, svc, phone):
    # +1 numbers are "fixed line or mobile" to libphonenumber: they cannot be told apart, so they are let through.
    # (Numbers abroad only where [protection] countries takes them.)
    svc.settings = replace(svc.settings, protection=replace(svc.settings.protection, countries=("JP", "US", "GB")))
    res = client.post("/api/applications", json=application(phone=phone), headers=AUTH)
    assert res.status_code == 201, res.get_json()


def test_a_toll_free_number_is_fine_when_the_candidate_chose_email(client, svc):
    res = apply_form(client, channel="email", phone="0120-123-456", email="hanako@example.com")
    assert res.status_code == 303 and applicants(svc)[0].phone is None


def test_a_landline_is_fine_when_the_candidate_chose_email(client, svc):
    res = apply_form(client, channel="email", phone="03-6820-1234", email="hanako@example.com")
    assert res.status_code == 303 and applicants(svc)[0].phone is None


def test_an_empty_phone_with_sms_chosen_says_sms_needs_a_number(client, svc):
    page = apply_form(client, phone="").get_data(as_text=True)
    assert "SMSでご連絡するには携帯電話番号が必要です" in field_error(page, "phone")


def test_full_width_email_and_phone_on_the_form_are_normalised(client, svc):
    res = apply_form(client, channel="email", email="ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｃｏｍ")
    assert res.status_code == 303
    res = apply_form(client, channel="sms", phone="０９０－１２３４－５６７８")
    assert res.status_code == 303
    assert sorted((a.email or "", a.phone or "") for a in applicants(svc)) == [("", "+819012345678"),
                                                                               ("hanako@example.com", "")]


@pytest.mark.parametrize("fields, field, reason", [
    ({"name": "a" * 201}, "name", "at most 200 characters"),
    ({"phone": "03-6820-1234"}, "phone", "SMS can't reach a landline; please give a mobile number or choose e-mail"),
    ({"phone": None}, "phone", "is required when the channel is sms"),
    ({"phone": ""}, "phone", "is required when the channel is sms"),
], ids=["too-long", "landline", "no-phone", "empty-phone"])
def test_the_intake_api_gives_the_real_reason_per_field(client, svc, fields, field, reason):
    res = client.post("/api/applications", json=application(**fields), headers=AUTH)
    assert res.status_code == 422 and reason in res.get_json()["errors"][field]
    assert applicants(svc) == []


def test_the_intake_api_normalises_full_width_input(client, svc):
    res = client.post("/api/applications", headers=AUTH, json=application(
        email="ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", phone="０９０１２３４５６７８", name="山田　花子"))
    assert res.status_code == 201, res.get_json()
    [a] = applicants(svc)
    assert (a.email, a.phone, a.name) == ("hanako@example.com", "+819012345678", "山田 花子")
