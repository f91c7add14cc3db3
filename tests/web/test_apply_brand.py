"""The apply form and thank-you page as the company's own: [brand] checked at start-up, the consent box, the chosen
channel's field only, errors tied to their fields, and a recap that masks where we wrote and opens LINE with the
code typed."""
import html
import re
import tomllib
from dataclasses import replace
from importlib import resources

import pytest
from sqlmodel import Session, select

from bot.core.settings import SettingsError, contrast, parse_settings
from bot.db.models import Applicant
from bot.web.recap import masked_address, masked_phone, message_url
from tests.conftest import AUTH, application


def demo(**brand) -> dict:
    data = tomllib.loads(resources.files("bot").joinpath("default_settings.toml").read_text(encoding="utf-8"))
    data["brand"] = {**data.get("brand", {}), **brand}
    return data


def _csrf(client, path="/apply"):
    return client.get(path).get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]


def apply_form(client, lang="ja", path="/apply", **fields):
    data = {"csrf": _csrf(client, path), "name": "山田 花子", "channel": "sms", "phone": "090-1234-5678",
            "email": "", "job": "bakery-staff", "lang": lang, "consent": "yes", **fields}
    return client.post(f"{path}?lang={lang}", data=data)


def applicants(svc):
    with Session(svc.engine) as s:
        return s.exec(select(Applicant)).all()


# -- [brand] in the settings ---------------------------------------------------------------------------------------

def test_a_pale_brand_colour_is_refused_at_start_up_with_its_ratio():
    with pytest.raises(SettingsError) as err:
        parse_settings(demo(colour="#06c755"))  # LINE's green: white text on it is 2.26:1
    assert err.value.key == "brand.colour"
    assert "#06c755" in str(err.value) and "2.26:1" in str(err.value) and "4.5:1" in str(err.value)


def test_a_dark_enough_colour_is_taken_and_darkened_for_hover():
    brand = parse_settings(demo(colour="#0A7A3C")).brand
    assert brand.colour == "#0a7a3c" and contrast(brand.colour, "#ffffff") >= 4.5
    assert contrast(brand.colour_dark, "#ffffff") > contrast(brand.colour, "#ffffff")


@pytest.mark.parametrize("brand, key", [
    ({"colour": "brown"}, "brand.colour"),
    ({"logo": "brand/nope.svg"}, "brand.logo"),
    ({"logo": "../../etc/passwd"}, "brand.logo"),
    ({"logo": "http://cdn.example.com/logo.png"}, "brand.logo"),
    ({"privacy_url": "privacy.html"}, "brand.privacy_url"),
    ({"colour_en": "#000000"}, "brand.colour_en"),
], ids=["not-hex", "no-file", "outside-static", "plain-http", "not-a-url", "unknown-key"])
def test_a_bad_brand_setting_names_its_key(brand, key):
    with pytest.raises(SettingsError) as err:
        parse_settings(demo(**brand))
    assert err.value.key == key


def test_settings_without_a_brand_table_get_our_green_and_no_logo():
    data = demo()
    del data["brand"]
    brand = parse_settings(data).brand
    assert (brand.colour, brand.logo, brand.privacy_url) == ("#0a7a3c", "", "")


def test_the_pages_take_the_colour_from_brand_css(client, svc):
    res = client.get("/brand.css")
    assert res.status_code == 200 and res.mimetype == "text/css"
    assert f"--brand: {svc.settings.brand.colour};" in res.get_data(as_text=True)
    page = client.get("/apply").get_data(as_text=True)
    assert 'href="/brand.css"' in page and "<style" not in page  # the CSP allows no inline style
    assert 'src="/static/brand/soyokaze.svg"' in page


# -- the form -------------------------------------------------------------------------------------------------------

def test_the_form_shows_the_jobs_pay_place_and_hours(client):
    page = client.get("/apply/store-manager").get_data(as_text=True)
    assert "月給26万円〜" in page and "都内の各店舗" in page and "シフト制" in page
    en = client.get("/apply/store-manager?lang=en").get_data(as_text=True)
    assert "From ¥260,000 a month" in en and "Place of work" in en


def test_every_field_is_marked_required_or_optional_and_the_time_selects_have_labels(client):
    page = client.get("/apply").get_data(as_text=True)
    assert page.count('class="mark req">必須</span>') == 6  # job, name, channel, phone, e-mail, consent
    assert page.count('class="mark opt">任意</span>') == 1  # the contact window
    assert '<label class="visually-hidden" for="window_from">連絡がつく時間（開始）</label>' in page
    assert '<label class="visually-hidden" for="window_to">連絡がつく時間（終了）</label>' in page
    assert 'hreflang="en"' in page and 'lang="en"' in page
    assert re.search(r'<div class="address" data-channels="sms">\s*<label for="phone">', page)
    assert re.search(r'<div class="address" data-channels="email">\s*<label for="email">', page)


def test_the_notice_of_purpose_links_the_privacy_policy_and_says_the_retention(client, svc):
    svc.settings = replace(svc.settings, retention_days=180)
    page = client.get("/apply").get_data(as_text=True)
    assert 'href="https://soyokaze-bakery.example.com/privacy"' in page
    assert "面接日程のご相談にだけ使わせていただきます" in page and "180日が過ぎると、自動で削除いたします" in page


def test_without_consent_nothing_is_stored_and_the_box_says_why(client, svc):
    res = apply_form(client, consent=None)
    assert res.status_code == 422
    page = res.get_data(as_text=True)
    assert re.search(r'id="consent"[^>]*aria-invalid="true" aria-describedby="consent-error"', page)
    error = html.unescape(page.split('id="consent-error">')[1].split("</p>")[0])
    assert error == "ご応募には同意が必要です。内容をご確認のうえ、チェックを入れてください。"
    assert applicants(svc) == []
    en = apply_form(client, lang="en", consent="").get_data(as_text=True)
    assert "We need your agreement to apply." in en and applicants(svc) == []


def test_the_intake_api_needs_no_consent_box(client, svc):
    assert client.post("/api/applications", json=application(), headers=AUTH).status_code == 201


def test_an_error_page_ties_each_error_to_its_field_and_lists_them_with_links(client, svc):
    page = apply_form(client, name="", phone="12", consent=None).get_data(as_text=True)
    for field, described in (("name", "name-error"), ("phone", "phone-error"), ("consent", "consent-error")):
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true" aria-describedby="{described}"', page), field
        assert f'id="{described}"' in page
    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    assert re.findall(r'href="#([^"]+)"', summary) == ["name", "phone", "consent"]
    assert 'aria-invalid' not in page.split('id="email"')[1].split(">")[0]


def test_the_field_of_a_channel_not_chosen_is_neither_checked_nor_kept(client, svc):
    res = apply_form(client, channel="email", email="hanako@example.com", phone="12")
    assert res.status_code == 303
    [a] = applicants(svc)
    assert (a.email, a.phone) == ("hanako@example.com", None)


def test_the_chosen_channels_field_is_still_required(client, svc):
    page = apply_form(client, channel="email", email="", phone="090-1234-5678").get_data(as_text=True)
    assert 'id="email-error"' in page and applicants(svc) == []


# -- the thank-you page ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("e164, shown", [("+819012345678", "090-****-5678"), ("+81368201234", "03-****-1234"),
                                         ("+14155552671", "+1 ***-***-2671")])
def test_a_phone_is_masked_but_recognisable(e164, shown):
    assert masked_phone(e164) == shown


def test_an_email_is_masked_like_the_refusals_list():
    assert masked_address("email", "hanako@example.com") == "h•••@example.com"
    assert masked_address("phone", None) == ""


def test_the_thanks_page_recaps_the_job_channel_and_masked_address(client, svc):
    svc.channels["email"] = object()  # a transport: the greeting goes by e-mail, not in the chat (nothing sends)
    res = apply_form(client, channel="email", email="hanako@example.com")
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "ベーカリースタッフ" in page and "<dd>メール</dd>" in page
    assert 'id="wrote-to">h•••@example.com<' in page and "hanako@example.com" not in page
    assert 'id="call-from">03-6820-1234<' in page and "open-chat" not in page


def test_the_thanks_page_masks_the_phone_we_texted(client, svc):
    svc.channels["sms"] = object()
    res = apply_form(client, channel="sms", phone="090-1234-5678")
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert 'id="wrote-to">090-****-5678<' in page and "1234-5678" not in page


def test_line_gets_a_worded_button_a_link_with_the_code_typed_and_a_qr_code(client, svc):
    svc.channels["line"] = object()
    svc.settings = replace(svc.settings, line_basic_id="@soyokaze")
    res = apply_form(client, channel="line", phone="")
    assert res.status_code == 303
    [a] = applicants(svc)
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert f'<p class="code">{a.link_code}</p>' in page
    assert ('<a class="button line" id="add-friend" href="https://line.me/R/ti/p/%40soyokaze">'
            'LINEで友だち追加</a>') in page
    assert f'id="send-code" href="https://line.me/R/oaMessage/%40soyokaze/?{a.link_code}"' in page
    assert re.search(r'<img src="data:image/svg\+xml[^"]+" alt="LINEでコードを送るためのQRコード"', page)
    en = client.get(res.headers["Location"].replace("lang=ja", "lang=en")).get_data(as_text=True)
    assert ">Add us on LINE</a>" in en


def test_the_line_link_encodes_the_id_and_the_code():
    assert message_url("@a b", "X/Y") == "https://line.me/R/oaMessage/%40a%20b/?X%2FY"
