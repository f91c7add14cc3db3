"""The apply form and the thank-you page in Debian's chromium, on a phone and a desktop, in Japanese and English:
the chosen channel's field only, the consent box, the recap on the thank-you page, the LINE link with the code
typed, the focus on the first mistake, and axe-core finding nothing. Screenshots go to $SOKURESU_SHOTS (else the
test's tmp_path), printed so a person can look at them."""
from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import START, FakeClock, make_services
from tests.e2e.test_browser import DESKTOP, PHONE, WAIT, applicant_count, browser, serving  # noqa: F401

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SIZES = {"phone": PHONE, "desktop": DESKTOP}
BASIC_ID = "@soyokaze"
WORDS = {
    "ja": {"name": "お名前", "email_choice": "メール", "email": "メールアドレス", "sms": "SMS（ショートメッセージ）",
           "phone": "携帯電話番号", "consent": "個人情報の取り扱いについて同意します", "submit": "応募する",
           "thanks": "ご応募ありがとうございます！", "line_add": "LINEで友だち追加"},
    "en": {"name": "Your name", "email_choice": "E-mail", "email": "E-mail address", "sms": "SMS (text message)",
           "phone": "Mobile number", "consent": "I agree to how my personal details are used",
           "submit": "Apply", "thanks": "Thank you for applying!", "line_add": "Add us on LINE"},
}


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SOKURESU_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {folder}")
    return folder


@pytest.fixture
def site(db_url):
    """The app with LINE and e-mail switched on (transports that send nothing: a LINE applicant waits for their code,
    and no worker runs) and the LINE account's basic id, on a fixed clock."""
    svc = make_services(db_url, clock=FakeClock(START))
    svc.settings = replace(svc.settings, line_basic_id=BASIC_ID)
    svc.channels["line"] = object()
    svc.channels["email"] = object()  # a transport for e-mail too: the greeting waits in the outbox, unsent
    try:
        with serving(svc, worker=False) as base:
            yield svc, base
    finally:
        svc.engine.dispose()


def _page(browser, size: str, lang: str, errors: list):  # noqa: F811
    context = browser.new_context(viewport=SIZES[size], locale="ja-JP" if lang == "ja" else "en-US",
                                  timezone_id="Asia/Tokyo")
    context.set_default_timeout(WAIT)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text
            else None)
    return page


def axe_violations(page) -> list[str]:
    """axe-core's violations on the page as it is (evaluated through the devtools protocol, so the CSP stays on)."""
    if not AXE.is_file():
        pytest.skip(f"{AXE} is missing: scripts/setup.sh test installs axe-core")
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in result["violations"]]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_apply_by_email_with_consent_and_land_on_a_recap(browser, site, shots, size, lang):  # noqa: F811
    from playwright.sync_api import expect

    svc, base = site
    w, errors = WORDS[lang], []
    page = _page(browser, size, lang, errors)
    page.goto(f"{base}/apply/bakery-staff?lang={lang}")
    expect(page.locator(".brand-bar img.brand-logo")).to_be_visible()
    expect(page.locator(".job-summary dd").first).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path=shots / f"apply-{lang}-{size}.png", full_page=True)
    # The title keeps 応募フォーム whole: its phrases are unbreakable boxes, one line each at most.
    for phrase in page.locator("h1 .phrase").all():
        box = phrase.bounding_box()
        assert box["height"] < 2 * 1.4 * 22, f"{phrase.inner_text()!r} broke across lines"

    page.get_by_label(w["name"]).fill("山田 花子")
    page.get_by_label(w["email_choice"], exact=True).check()
    expect(page.get_by_label(w["email"])).to_be_visible()
    expect(page.locator("#phone")).to_be_hidden()  # SMS's field: not asked when e-mail is chosen
    page.get_by_label(w["email"]).fill("hanako@example.com")
    page.get_by_label(w["consent"]).check()
    page.get_by_role("button", name=w["submit"], exact=True).click()

    page.wait_for_url("**/apply/thanks/**")
    expect(page.locator("h1")).to_have_text(w["thanks"])
    expect(page.locator("#wrote-to")).to_have_text("h•••@example.com")
    expect(page.locator("#call-from")).to_contain_text("6820-1234")
    assert axe_violations(page) == []
    page.screenshot(path=shots / f"thanks-{lang}-{size}.png", full_page=True)
    assert applicant_count(svc) == 1
    assert errors == []


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_line_applicant_gets_a_link_with_the_code_typed_and_a_qr_code_on_a_computer(browser, site, shots, size,
                                                                                      lang):  # noqa: F811
    from playwright.sync_api import expect

    svc, base = site
    w, errors = WORDS[lang], []
    page = _page(browser, size, lang, errors)
    page.goto(f"{base}/apply?lang={lang}")
    page.get_by_label(w["name"]).fill("山田 花子")
    page.get_by_label("LINE", exact=True).check()
    expect(page.locator("#phone")).to_be_hidden()
    expect(page.locator("#email")).to_be_hidden()
    expect(page.locator(".no-address")).to_be_visible()
    page.get_by_label(w["consent"]).check()
    page.get_by_role("button", name=w["submit"], exact=True).click()

    page.wait_for_url("**/apply/thanks/**")
    code = page.locator(".code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code)
    expect(page.locator("#add-friend")).to_have_text(w["line_add"])
    expect(page.locator("#add-friend")).to_have_attribute("href", "https://line.me/R/ti/p/%40soyokaze")
    expect(page.locator("#send-code")).to_have_attribute("href", f"https://line.me/R/oaMessage/%40soyokaze/?{code}")
    qr = page.locator(".qr img")
    if size == "desktop":
        expect(qr).to_be_visible()
        assert qr.evaluate("img => img.naturalWidth") > 0  # the data: URI is allowed by the CSP and draws
    else:
        expect(qr).to_be_hidden()  # a phone cannot scan its own screen
    assert axe_violations(page) == []
    page.screenshot(path=shots / f"thanks-line-{lang}-{size}.png", full_page=True)
    assert errors == []


@pytest.mark.parametrize("size", SIZES)
def test_a_mistake_comes_back_with_the_focus_on_the_first_field_to_correct(browser, site, shots, size):  # noqa: F811
    from playwright.sync_api import expect

    svc, base = site
    w, errors = WORDS["ja"], []
    page = _page(browser, size, "ja", errors)
    page.goto(f"{base}/apply")
    page.get_by_label(w["sms"]).check()
    page.get_by_label(w["phone"]).fill("090-1234-5678")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name=w["submit"], exact=True).click()
    assert sent.value.status == 422
    expect(page.locator("#name")).to_be_focused()
    expect(page.locator("#name")).to_have_attribute("aria-describedby", "name-error")
    expect(page.locator("#consent")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-summary a")).to_have_count(2)
    assert axe_violations(page) == []
    page.screenshot(path=shots / f"apply-error-{size}.png", full_page=True)

    page.get_by_label(w["name"]).fill("山田 花子")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name=w["submit"], exact=True).click()
    assert sent.value.status == 422
    expect(page.locator("#consent")).to_be_focused()  # the only mistake left: the box not ticked
    expect(page.get_by_label(w["phone"])).to_have_value("090-1234-5678")
    assert applicant_count(svc) == 0
    assert errors == []


def test_choosing_another_job_shows_its_pay_place_and_hours(browser, site):  # noqa: F811
    from playwright.sync_api import expect

    svc, base = site
    errors: list[str] = []
    page = _page(browser, "phone", "ja", errors)
    page.goto(f"{base}/apply")
    summary = page.locator(".job-summary:visible")
    expect(summary).to_have_count(1)
    expect(summary).to_contain_text("時給1,200円")
    page.get_by_label("応募する仕事").select_option("store-manager")
    expect(summary).to_have_count(1)
    expect(summary).to_contain_text("月給26万円")
    assert errors == []


def test_without_javascript_every_address_field_shows_and_only_the_chosen_one_is_read(browser, site):  # noqa: F811
    from playwright.sync_api import expect

    svc, base = site
    context = browser.new_context(viewport=PHONE, locale="ja-JP", java_script_enabled=False)
    context.set_default_timeout(WAIT)
    page = context.new_page()
    page.goto(f"{base}/apply")
    expect(page.locator("#phone")).to_be_visible()
    expect(page.locator("#email")).to_be_visible()
    expect(page.get_by_text("（SMSを選んだ場合）")).to_be_visible()  # which channel each field is for
    page.get_by_label("お名前").fill("山田 花子")
    page.locator("#channel-sms").check()
    page.locator("#phone").fill("090-1234-5678")
    page.locator("#email").fill("not an address")  # typed, then SMS chosen: not read, so no error
    page.get_by_label("個人情報の取り扱いについて同意します").check()
    page.get_by_role("button", name="応募する", exact=True).click()
    page.wait_for_url("**/apply/thanks/**")
    assert applicant_count(svc) == 1
    context.close()
