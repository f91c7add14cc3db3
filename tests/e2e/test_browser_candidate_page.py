"""A Japanese candidate on a phone books from the one-way SMS link, in Debian's chromium (Playwright)."""
from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from tests.channels.sms.drivers import sms_settings, twilio_env
from tests.conftest import AUTH, START, FakeClock, application, make_services
from tests.e2e.test_browser import PHONE, WAIT, browser, open_page, serving  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
SHOTS = Path("/tmp/shots")


@pytest.fixture
def live_sms(db_url, fake_twilio):
    """The app and worker on loopback with SMS through the fake Twilio; one-way to Japan (the default)."""
    from bot.bootstrap import default_channels

    svc = make_services(db_url, clock=FakeClock(START), env=twilio_env(fake_twilio.origin), settings=sms_settings())
    svc.channels.update(default_channels(svc.config))
    try:
        with serving(svc) as base:
            svc.config = replace(svc.config, public_base_url=base)  # links in the SMS lead back to this server
            svc.renderer.base = base
            yield svc, base
    finally:
        svc.engine.dispose()


def _sms_to(fake, number: str, count: int) -> list:
    deadline = time.monotonic() + WAIT / 1000
    while time.monotonic() < deadline:
        mine = [c for c in fake.created if c.to == number]
        if len(mine) >= count:
            return mine
        time.sleep(0.05)
    raise AssertionError(f"no SMS reached {number} in time")


def _no_breaks_or_overflow(page) -> None:
    """Dates, times and the phone number each stay on one line; nothing is wider than the screen."""
    broken = page.evaluate("""() => [...document.querySelectorAll('.nowrap')]
        .filter(e => e.getClientRects().length > 1
                  || e.getBoundingClientRect().height > 2.2 * parseFloat(getComputedStyle(e).fontSize))
        .map(e => e.textContent)""")
    assert broken == [], f"wrapped inside: {broken}"
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is wider than the screen: {width}"


# `browser` comes before `live_sms` so a machine without chromium skips before a server is started.
def test_candidate_books_from_the_one_way_sms_link_on_a_phone(browser, live_sms, fake_twilio):  # noqa: F811
    from playwright.sync_api import expect

    svc, base = live_sms
    SHOTS.mkdir(parents=True, exist_ok=True)
    res = requests.post(f"{base}/api/applications", json=application(channel="sms"), headers=AUTH, timeout=10)
    assert res.status_code == 201, res.text
    greeting = _sms_to(fake_twilio, "+819012345678", 1)[0]
    assert "返信" not in greeting.body and "1) " not in greeting.body
    link = re.search(r"http://127\.0\.0\.1:\d+/r/[\w-]+", greeting.body).group(0)

    errors: list[str] = []
    page = open_page(browser, PHONE, errors)
    page.goto(link)
    page.wait_for_url("**/c/**")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text("山田 花子さん、ご応募ありがとうございます。")
    times = page.locator("#times button.cp-time")
    expect(times).to_have_count(3)
    _no_breaks_or_overflow(page)
    page.screenshot(path=SHOTS / "page-ja-phone.png", full_page=True)

    label = " ".join(times.nth(1).inner_text().split())
    box = times.nth(1).bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300, box  # a thumb-sized target
    times.nth(1).click()
    expect(page.locator("#notice")).to_have_text("ご予約が確定しました。確認のメッセージもお送りしております。")
    assert " ".join(page.locator("#booked-when").inner_text().split()) == label
    expect(page.get_by_role("button", name="参加します")).to_be_visible()
    _no_breaks_or_overflow(page)
    page.screenshot(path=SHOTS / "booked-ja-phone.png", full_page=True)
    booked = _sms_to(fake_twilio, "+819012345678", 3)[-1]  # greeting, content, then the confirmation
    assert "確定" in booked.body and "返信" not in booked.body

    page.get_by_role("button", name="参加します").click()
    expect(page.locator("#confirmed-mark")).to_be_visible()
    page.get_by_role("button", name="面接をキャンセルする").click()
    expect(page.get_by_role("heading", name="面接をキャンセルしますか？")).to_be_visible()
    _no_breaks_or_overflow(page)
    page.screenshot(path=SHOTS / "cancel-question-ja-phone.png", full_page=True)
    page.get_by_role("link", name="いいえ、予約を続けます").click()
    expect(page.locator("#confirmed-mark")).to_be_visible()

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#confirmed-mark")).to_contain_text("you will join")
    _no_breaks_or_overflow(page)
    page.screenshot(path=SHOTS / "booked-en-phone.png", full_page=True)

    desk = open_page(browser, DESKTOP, errors)
    desk.goto(page.url)
    _no_breaks_or_overflow(desk)
    desk.screenshot(path=SHOTS / "booked-en-desktop.png", full_page=True)
    desk.get_by_role("link", name="日本語").click()
    expect(desk.locator("html")).to_have_attribute("lang", "ja")
    desk.screenshot(path=SHOTS / "booked-ja-desktop.png", full_page=True)
    desk.get_by_role("button", name="日程を変更する").click()
    expect(desk.locator("#times button.cp-time").first).to_be_visible()
    _no_breaks_or_overflow(desk)
    desk.screenshot(path=SHOTS / "change-ja-desktop.png", full_page=True)

    en_times = open_page(browser, PHONE, errors)
    en_times.goto(page.url.split("?")[0] + "?lang=en")
    expect(en_times.locator("#times button.cp-time").first).to_be_visible()
    en_times.screenshot(path=SHOTS / "change-en-phone.png", full_page=True)
    desk.goto(base + "/c/forged-link")
    expect(desk.get_by_role("alert")).to_contain_text("このリンクは開けません")
    desk.screenshot(path=SHOTS / "refused-ja-desktop.png", full_page=True)
    assert errors == [], f"script errors in the page: {errors}"


# --- From an e-mail: the time link opens the page with that time chosen, one press books it ---------------------

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def _axe(page) -> list[str]:
    """axe-core's violations on the page (WCAG 2.1 A/AA and best practice); [] when axe-core is not installed."""
    if not AXE.exists():
        return []
    page.evaluate(AXE.read_text() + "\n;true")  # through the DevTools protocol: the page's CSP allows no inline script
    return page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']})"
                         ".then(r => r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' ')))")


@pytest.fixture
def live_mail(db_url, smtp_server):
    """The app and worker on loopback with e-mail through a real SMTP server (aiosmtpd); links lead back here."""
    from bot.bootstrap import default_channels
    from bot.channels.email.adapter import MailChannel

    svc = make_services(db_url, clock=FakeClock(START), env={"SMTP_URL": smtp_server.url})
    svc.channels.update(default_channels(svc.config))
    try:
        with serving(svc) as base:
            svc.config = replace(svc.config, public_base_url=base)
            svc.renderer.base = base
            svc.channels["email"] = MailChannel(svc.config)  # its links name this server
            yield svc, base
    finally:
        svc.engine.dispose()


def _mail_to(smtp_server, count: int):
    deadline = time.monotonic() + WAIT / 1000
    while time.monotonic() < deadline:
        if len(smtp_server.mails) >= count:
            return smtp_server.mails[count - 1]
        time.sleep(0.05)
    raise AssertionError("no mail arrived in time")


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_an_email_candidate_books_in_two_taps_on_an_accessible_page(browser, live_mail, smtp_server,  # noqa: F811
                                                                     locale):
    from playwright.sync_api import expect

    svc, base = live_mail
    SHOTS.mkdir(parents=True, exist_ok=True)
    t = {"ja": {"book": "この日時で予約する", "booked": "ご予約が確定しました。", "send": "送信する",
                "no": "いいえ、予約を続けます", "cancel": "面接をキャンセルする"},
         "en": {"book": "Book this time", "booked": "Your interview is booked.", "send": "Send",
                "no": "No, keep my booking", "cancel": "Cancel the interview"}}[locale]
    res = requests.post(f"{base}/api/applications", json=application(channel="email", locale=locale), headers=AUTH,
                        timeout=10)
    assert res.status_code == 201, res.text
    html = _mail_to(smtp_server, 1).get_body(("html",)).get_content()
    link = re.findall(r'href="(http://127\.0\.0\.1:\d+/c/[^"]+\?slot=[^"]+)"', html)[1]

    errors: list[str] = []
    page = open_page(browser, PHONE, errors)
    page.goto(link.replace("&amp;", "&"))  # tap 1, in the mail
    expect(page.locator("html")).to_have_attribute("lang", locale)
    book = page.get_by_role("button", name=t["book"])
    expect(book).to_be_focused()  # the page opens ready for the one press
    box = book.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], f"the button is below the fold on a phone: {box}"
    assert box["height"] >= 44
    _no_breaks_or_overflow(page)
    name = page.locator(".cp-company span").bounding_box()
    assert name["height"] < 2 * 16 * 1.35, f"the company's name breaks in the header on a phone: {name}"
    assert _axe(page) == []
    page.screenshot(path=SHOTS / f"mail-chosen-{locale}-phone.png", full_page=True)
    chosen = " ".join(page.locator("#chosen-when").inner_text().split())

    book.click()  # tap 2, on the page: the booking
    expect(page.locator("#notice")).to_contain_text(t["booked"])
    assert " ".join(page.locator("#booked-when").inner_text().split()) == chosen
    _no_breaks_or_overflow(page)
    assert _axe(page) == []
    page.screenshot(path=SHOTS / f"mail-booked-{locale}-phone.png", full_page=True)

    page.locator("#write-text").fill("   ")
    page.get_by_role("button", name=t["send"]).click()
    field = page.locator("#write-text")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()  # focus goes to the field with the error
    assert page.locator("#write-error").is_visible()
    assert _axe(page) == []
    page.screenshot(path=SHOTS / f"write-error-{locale}-phone.png", full_page=True)

    desk = open_page(browser, DESKTOP, errors)
    desk.goto(page.url.split("?")[0] + f"?lang={locale}")
    _no_breaks_or_overflow(desk)
    assert _axe(desk) == []
    desk.screenshot(path=SHOTS / f"booked-{locale}-desktop.png", full_page=True)
    desk.get_by_role("button", name=t["cancel"]).click()
    expect(desk.get_by_role("link", name=t["no"])).to_be_visible()
    assert _axe(desk) == []
    desk.goto(base + f"/c/forged-link?lang={locale}")
    assert _axe(desk) == []
    focus = desk.evaluate("""() => { const b = document.querySelector('#stop, a'); b.focus();
        const s = getComputedStyle(b); return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }""")
    assert focus[0] == "solid" and focus[1] == "3px", focus  # a visible ring (the brand colour: >= 4.5:1)
    assert errors == [], f"script errors in the page: {errors}"
