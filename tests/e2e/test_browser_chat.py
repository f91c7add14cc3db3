"""The web chat on a 390x844 phone: the greeting as a few short bubbles with the times on screen, cards once.

Measured here, not assumed: the first and last time buttons lie inside the message area above the input bar as the
chat opens (nobody scrolls), the video's thumbnail shows once, no bubble spells out an address, a tapped time books,
and a reload opens at the newest message. Screenshots go to the test's tmp_path (printed with -s).
"""
from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.e2e.test_browser import PHONE, WAIT, browser, live, open_page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The demo's video thumbnail (https://video.example.com/…jpg) answered by the browser itself: no network here.
THUMBNAIL = ('<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180"><rect width="320" height="180" '
             'fill="#e7b56a"/><circle cx="160" cy="90" r="34" fill="#fff"/></svg>')
BOOKED = {"ja": "面接のご予約が確定しました", "en": "Your interview is booked"}


def _apply(base: str, svc, locale: str) -> str:
    """Apply through the intake API (SMS is off here, so the candidate talks in the web chat); their chat token."""
    from bot.db.models import Applicant

    body = {"name": "山田 花子" if locale == "ja" else "Hanako Yamada", "phone": "090-1234-5678", "channel": "sms",
            "job": "bakery-staff", "locale": locale, "email": "hanako@example.com"}
    req = urllib.request.Request(f"{base}/api/applications", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer test-intake-key",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        applicant_id = json.load(res)["id"]
    with Session(svc.engine) as s:
        return s.get(Applicant, applicant_id).token


def _open_chat(browser, base: str, token: str, locale: str, errors: list):  # noqa: F811
    from playwright.sync_api import expect

    page = open_page(browser, PHONE, errors)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # a CSP refusal, say
    page.route("https://video.example.com/**",
               lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=THUMBNAIL))
    page.goto(f"{base}/chat/{token}?lang={locale}")
    expect(page.locator(".quick-reply")).to_have_count(4, timeout=WAIT)  # three times and "other days"
    # A function, not an expression: Playwright would eval() an expression, which the page's CSP refuses.
    page.wait_for_function("() => document.querySelectorAll('.card-link').length === 2"
                           " && [...document.querySelectorAll('.card-link img')].every(img => img.complete)")
    return page


def _box(page, selector: str, index: int = 0) -> dict:
    return page.locator(selector).nth(index).bounding_box()


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_greeting_opens_with_its_times_on_screen_and_a_tap_books(browser, live, locale, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    svc, base = live
    errors: list[str] = []
    page = _open_chat(browser, base, _apply(base, svc, locale), locale, errors)
    page.screenshot(path=tmp_path / f"chat-greeting-{locale}.png")

    # The times: on screen between the top of the message area and the input bar, as the page opened.
    area, bar = _box(page, "#log"), _box(page, "#say")
    first, last = _box(page, ".quick-reply", 0), _box(page, ".quick-reply", 3)
    assert first["y"] >= area["y"], (first, area)
    assert last["y"] + last["height"] <= bar["y"] <= PHONE["height"], (last, bar)
    heights = page.eval_on_selector_all("#log .msg", "rows => rows.map(r => Math.round(r.getBoundingClientRect()"
                                        ".height))")
    print(f"\n{locale}: greeting rows {heights} px; times from y={first['y']:.0f} to "
          f"y={last['y'] + last['height']:.0f}, input bar at y={bar['y']:.0f}")
    assert len(heights) == 3 and max(heights) < area["height"], heights  # a few short bubbles, none past the screen

    # The cards: each link once, the video's thumbnail shown (loaded), the addresses in no bubble.
    expect(page.locator(".card-link")).to_have_count(2)
    thumbs = page.locator(".card-link img")
    expect(thumbs).to_have_count(1)
    expect(thumbs).to_be_visible()
    assert thumbs.evaluate("img => img.naturalWidth") > 0
    assert thumbs.get_attribute("alt") == ""  # the title beside it names the link
    assert page.locator('a[href="https://video.example.com/soyokaze-day"]').count() == 1
    bubbles = page.locator(".bubble").all_inner_texts()
    assert not [b for b in bubbles if re.search(r"https?://", b)], bubbles

    # A tap on the second time books that time.
    second = page.locator(".quick-reply").nth(1)
    label = second.inner_text().strip()
    assert label.startswith("2) "), label
    second.click()
    expect(page.locator(".msg.them .bubble", has_text=BOOKED[locale])).to_be_visible(timeout=WAIT)
    expect(page.locator("body")).to_have_attribute("data-state", "booked")
    assert label[3:] in page.locator(".msg.them .bubble", has_text=BOOKED[locale]).inner_text()
    page.screenshot(path=tmp_path / f"chat-booked-{locale}.png")

    # Reopened: the newest message, not the oldest, is what shows.
    page.reload()
    expect(page.locator(".msg.them .bubble", has_text=BOOKED[locale])).to_have_count(1, timeout=WAIT)
    page.wait_for_function("() => document.getElementById('log').getAttribute('aria-busy') === 'false'")
    at_end = page.evaluate("(() => { const l = document.getElementById('log');"
                           " return l.scrollHeight - l.clientHeight - l.scrollTop; })()")
    assert at_end <= 2, f"{at_end}px left to scroll after a reload"
    expect(page.locator(".quick-reply.chosen")).to_have_text(label)  # the tapped time stays marked
    newest = page.locator("#log .msg").last.bounding_box()
    assert newest["y"] + newest["height"] <= _box(page, "#say")["y"] + 1
    page.screenshot(path=tmp_path / f"chat-reopened-{locale}.png")
    print(f"screenshots in {tmp_path}")
    assert errors == []


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_chat_page_has_no_accessibility_violations(browser, live, locale):  # noqa: F811
    if not AXE.exists():
        pytest.skip("axe-core is not installed (scripts/setup.sh test installs it under node_modules)")
    svc, base = live
    errors: list[str] = []
    page = _open_chat(browser, base, _apply(base, svc, locale), locale, errors)
    assert page.locator("h1").count() == 1
    page.locator("#text").focus()
    page.evaluate(AXE.read_text() + "\n;true")  # through the DevTools protocol: the page's CSP allows no inline script
    found = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']})"
                          ".then(r => r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' ')))")
    assert found == []
    assert errors == []
