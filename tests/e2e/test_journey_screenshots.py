"""Screenshot journeys: apply -> thank-you page -> greeting -> booked, on a phone and a desktop, Japanese and English.

Not pixel-compared: the screenshots are for a person to look at. They are saved under one folder, printed at the end
of the run (SOKURESU_SCREENSHOTS chooses it; by default a folder under pytest's temporary directory). Each step still
asserts what a candidate must see there, and the journey counts the taps from the greeting to a booked interview.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.test_browser import DESKTOP, PHONE, WAIT, browser, live  # noqa: F401  (fixtures)
from tests.screenshots import SCREENSHOT_FOLDERS

pytestmark = pytest.mark.browser

JOURNEY = {
    "ja": {"name": "山田 花子", "submit": "応募する", "open": "チャットを開く", "booked": "面接のご予約が確定しました",
           "when": "日時:"},
    "en": {"name": "Hanako Yamada", "submit": "Apply", "open": "Open the chat", "booked": "Your interview is booked",
           "when": "When:"},
}


@pytest.fixture(scope="module")
def shots(request, tmp_path_factory) -> Path:
    folder = Path(os.environ.get("SOKURESU_SCREENSHOTS") or tmp_path_factory.mktemp("journeys"))
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[SCREENSHOT_FOLDERS].add(str(folder))
    return folder


def _inside(page, locator) -> bool:
    """Whether the element is wholly inside the viewport as it is (no scrolling)."""
    box = locator.bounding_box()
    view = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= view["height"]


@pytest.mark.parametrize("loc", ["ja", "en"])
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_apply_thanks_greeting_book(browser, live, shots, device, loc):  # noqa: F811
    from playwright.sync_api import expect

    svc, base = live
    words = JOURNEY[loc]
    context = browser.new_context(viewport=PHONE if device == "phone" else DESKTOP,
                                  locale="ja-JP" if loc == "ja" else "en-US", timezone_id="Asia/Tokyo")
    context.set_default_timeout(WAIT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    prefix = f"{device}-{loc}"
    try:
        page.goto(f"{base}/apply/bakery-staff?lang={loc}")
        expect(page.locator("html")).to_have_attribute("lang", loc)
        page.locator("#name").fill(words["name"])
        page.locator("input[name=channel][value=sms]").check()
        page.locator("input[name=phone]").fill("090-1234-5678")
        page.locator("#consent").check()
        page.screenshot(path=shots / f"{prefix}-1-apply.png", full_page=True)
        page.get_by_role("button", name=words["submit"], exact=True).click()

        page.wait_for_url("**/apply/thanks/**")
        expect(page.locator("h1")).to_be_visible()
        expect(page.locator("#call-from")).to_have_text(svc.settings.company.phone)
        page.screenshot(path=shots / f"{prefix}-2-thanks.png", full_page=True)
        page.get_by_role("link", name=words["open"]).click()

        times = page.locator(".quick-reply")
        expect(times.first).to_be_visible(timeout=WAIT)
        expect(page.locator(".msg.them .bubble", has_text=words["name"]).first).to_be_visible()
        if device == "phone":  # the times are on the screen as the chat opens: one tap books
            assert _inside(page, times.first) and _inside(page, times.nth(times.count() - 2)), \
                "the greeting's time buttons should be on screen without scrolling"
        page.screenshot(path=shots / f"{prefix}-3-greeting.png")
        label = times.first.inner_text().strip()
        times.first.click()  # the only tap from the greeting to a booked interview

        booked = page.locator(".msg.them .bubble", has_text=words["booked"])
        expect(booked).to_be_visible(timeout=WAIT)
        when = next(line for line in booked.inner_text().splitlines() if line.startswith(words["when"]))
        # The button says "1) 12月1日(火) 10:00〜…"; the booking names the time without the number.
        chosen = label.split(")", 1)[-1].strip()
        assert when.removeprefix(words["when"]).strip() == chosen
        page.screenshot(path=shots / f"{prefix}-4-booked.png")
        assert errors == [], f"script errors in the pages: {errors}"
    finally:
        context.close()
