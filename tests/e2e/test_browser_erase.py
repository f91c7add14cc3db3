"""An admin deletes a person's data in Debian's chromium, at 1280 px and on a 390×844 phone: the conversation's
link, the confirm step naming what goes, the button, the result; the list no longer has them. Screenshots go to
the test's tmp_path."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.db.models import Applicant
from tests.conftest import START, Chat, FakeClock, make_services
from tests.e2e.test_browser import DESKTOP, PHONE, browser, open_page, serving  # noqa: F401  (browser is a fixture)
from tests.recruiters import sign_in_browser

pytestmark = pytest.mark.browser
NAME = "削除 希望子"


@pytest.fixture
def live(db_url):
    svc = make_services(db_url, clock=FakeClock(START))
    try:
        with serving(svc) as base:
            yield svc, base
    finally:
        svc.engine.dispose()


def _applicant(svc, base) -> int:
    from bot import create_app

    chat = Chat(create_app({"TESTING": True}, services=svc).test_client(), svc)
    chat.apply(name=NAME, email="kiboko@example.com", phone="090-5555-0909")
    chat.replies()
    chat.say("1")
    chat.replies()
    return chat.id


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_an_admin_deletes_a_person_after_the_confirm_step(browser, live, viewport, tmp_path):  # noqa: F811
    svc, base = live
    applicant_id = _applicant(svc, base)
    errors: list = []
    page = open_page(browser, viewport, errors)
    sign_in_browser(page, base, svc)
    width = viewport["width"]
    page.goto(f"{base}/recruiter/applicants/{applicant_id}")
    page.click("#erase-link")
    page.wait_for_selector("#erase-confirm")
    assert NAME in page.inner_text("#erase-who")
    assert "自動削除: 無効" in page.inner_text("#retention")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    button = page.locator("#erase-confirm").bounding_box()
    assert button["height"] >= 40
    page.screenshot(path=str(tmp_path / f"erase-confirm-{width}.png"), full_page=True)

    page.click("#erase-confirm")
    page.wait_for_selector("#erase-done")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(tmp_path / f"erase-done-{width}.png"), full_page=True)
    with Session(svc.engine) as s:
        assert s.exec(select(Applicant).where(Applicant.name == NAME)).all() == []
    page.goto(f"{base}/recruiter")
    assert NAME not in page.content()
    page.goto(f"{base}/recruiter/audit")
    assert "個人データを削除" in page.inner_text("body") and NAME not in page.content()
    page.screenshot(path=str(tmp_path / f"erase-audit-{width}.png"), full_page=True)
    assert errors == []
