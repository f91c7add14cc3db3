"""The apply form with its real protections in Debian's chromium: the vendored ALTCHA widget solves the challenge in
a web worker under the page's CSP, the server takes the solution, and the application goes through."""
from __future__ import annotations

import pytest

from tests.conftest import START, FakeClock
from tests.e2e.test_browser import PHONE, applicant_count, browser, fill_application, open_page, serving  # noqa: F401
from tests.security.formguard import guarded_services

pytestmark = pytest.mark.browser


@pytest.fixture
def live_guarded(db_url):
    """The app with the form's defaults: proof of work on (cost 50 000) and the rate limits."""
    svc = guarded_services(db_url)
    svc.clock = FakeClock(START)
    try:
        with serving(svc) as base:
            yield svc, base
    finally:
        svc.engine.dispose()


def watch(page) -> list[str]:
    """Console errors, which is where chromium reports what the CSP blocked (scripts, workers, styles); an answer
    of 4xx is reported there too ("Failed to load resource"), and is not one."""
    seen: list[str] = []

    def note(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            seen.append(message.text)

    page.on("console", note)
    return seen


def test_the_widget_solves_in_the_page_and_the_application_goes_through(browser, live_guarded, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    svc, base = live_guarded
    errors: list[str] = []
    page = open_page(browser, PHONE, errors)
    console = watch(page)
    # A mistake first: the form comes back with its error, and a new check is solved when it is sent again.
    fill_application(page, base, "12")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="応募する").click()
    assert sent.value.status == 422
    expect(page.locator("#phone-error")).to_be_visible()
    page.get_by_label("携帯電話番号").fill("090-1234-5678")
    with page.expect_response(lambda r: r.url.endswith("/apply/challenge")) as fetched:
        page.get_by_role("button", name="応募する").click()
    assert fetched.value.status == 200
    page.wait_for_url("**/apply/thanks/**")
    expect(page.locator("h1")).to_have_text("ご応募ありがとうございます！")
    page.screenshot(path=tmp_path / "thanks.png", full_page=True)
    assert applicant_count(svc) == 1
    assert errors == [] and console == [], (errors, console)


def test_the_widget_speaks_the_page_language_and_a_refused_post_says_why(browser, live_guarded):  # noqa: F811
    from playwright.sync_api import expect

    svc, base = live_guarded
    errors: list[str] = []
    page = open_page(browser, PHONE, errors)
    console = watch(page)
    page.goto(f"{base}/apply?lang=en")
    widget = page.locator("altcha-widget")
    # The widget's own label, in our words: the widget has read the strings apply.js gave it.
    page.evaluate("document.querySelector('altcha-widget').show()")
    expect(widget.get_by_text("Checking that a person is sending this")).to_have_count(1)
    # A post that skipped the widget (a script, or a page without JavaScript) is told what to do.
    page.evaluate("document.querySelector('altcha-widget').remove()")
    page.get_by_label("Your name").fill("Hanako Yamada")
    page.get_by_label("E-mail", exact=True).check()
    page.get_by_label("E-mail address").fill("hanako@example.com")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Apply").click()
    assert sent.value.status == 422
    expect(page.locator("#altcha-error")).to_have_text("The check before sending did not finish. "
                                                       "Please press Apply again.")
    assert applicant_count(svc) == 0
    assert errors == [] and console == [], (errors, console)
