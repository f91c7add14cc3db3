"""A recruiter signs in on a 390-wide phone in Debian's chromium: the e-mail form, the mailed link, its button, the
list; and the people page of an admin on a desktop. Screenshots go to the test's tmp_path."""
from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest

from bot.core.vocab import Role
from bot.service import accounts
from tests.conftest import START, FakeClock, make_services
from tests.e2e.test_browser import DESKTOP, PHONE, browser, open_page, serving  # noqa: F401  (browser is a fixture)
from tests.recruiters import sign_in_browser

pytestmark = pytest.mark.browser
EMAIL = "yamada@example.com"


@pytest.fixture
def live_mail(db_url, smtp_server):
    """The app on loopback, mailing through the fake SMTP server, on a fixed clock."""
    svc = make_services(db_url, clock=FakeClock(START), env={"SMTP_URL": smtp_server.url})
    try:
        with serving(svc) as base:
            svc.config = replace(svc.config, public_base_url=base)  # the links in the mail lead here
            yield svc, base
    finally:
        svc.engine.dispose()


def _fits(page, width: int) -> None:
    """Nothing is wider than the screen (no sideways scrolling on a phone)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _mailed_link(smtp_server, base: str) -> str:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for mail in smtp_server.mails:
            found = re.search(re.escape(base) + r"/recruiter/sign-in/[\w-]+", mail.get_content())
            if found:
                return found.group(0)
        time.sleep(0.05)
    raise AssertionError("no sign-in mail arrived")


def test_a_recruiter_signs_in_by_the_mailed_link_on_a_phone(browser, live_mail, smtp_server, tmp_path):  # noqa: F811
    svc, base = live_mail
    accounts.invite(svc, EMAIL, Role.RECRUITER, "山田 太郎")
    errors: list = []
    page = open_page(browser, PHONE, errors)
    page.goto(f"{base}/recruiter")  # not signed in: the sign-in page
    page.wait_for_selector("#send-link")
    _fits(page, PHONE["width"])
    page.screenshot(path=str(tmp_path / "sign-in-form-390.png"), full_page=True)
    page.get_by_label("メールアドレス").fill(EMAIL)
    page.click("#send-link")
    page.wait_for_selector("#sent")
    _fits(page, PHONE["width"])
    page.screenshot(path=str(tmp_path / "sign-in-sent-390.png"), full_page=True)

    link = _mailed_link(smtp_server, base)
    phone = open_page(browser, PHONE, errors)  # the mail app opens the link in a browser of its own
    phone.goto(link)
    phone.wait_for_selector("#sign-in")
    _fits(phone, PHONE["width"])
    button = phone.locator("#sign-in").bounding_box()
    assert button["width"] >= 300 and button["height"] >= 44  # one big button to press with a thumb
    phone.screenshot(path=str(tmp_path / "sign-in-link-390.png"), full_page=True)
    phone.click("#sign-in")
    phone.wait_for_selector("#applicants")
    assert "山田 太郎（採用担当）" in phone.inner_text("#me")
    phone.screenshot(path=str(tmp_path / "signed-in-390.png"))

    again = open_page(browser, PHONE, errors)  # the same link a second time
    again.goto(link)
    assert "すでに使われています" in again.inner_text("#refused")
    _fits(again, PHONE["width"])
    assert errors == []


def test_an_admin_removes_a_person_from_the_people_page(browser, live_mail, tmp_path):  # noqa: F811
    svc, base = live_mail
    admin = open_page(browser, DESKTOP, [])
    sign_in_browser(admin, base, svc)
    colleague = open_page(browser, PHONE, [])
    sign_in_browser(colleague, base, svc, EMAIL, Role.RECRUITER)
    admin.click("#nav-people")
    admin.wait_for_selector("#people")
    assert EMAIL in admin.inner_text("#people")
    admin.screenshot(path=str(tmp_path / "people-1280.png"), full_page=True)
    admin.locator(f'tr[data-email="{EMAIL}"] button.remove').click()
    admin.wait_for_selector(f'tr[data-email="{EMAIL}"]', state="detached")
    colleague.reload()
    colleague.wait_for_selector("#send-link")  # signed out at once: the sign-in page
    admin.click("#nav-audit")
    assert "アクセスを削除" in admin.inner_text("#audit")
    admin.screenshot(path=str(tmp_path / "audit-1280.png"), full_page=True)
