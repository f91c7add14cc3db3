"""The inbox in Debian's chromium: a recruiter answers a waiting candidate at 1280 px (list, conversation and
panel side by side; a saved reply inserted, sent, shown under their name; the candidate's next words appear
without a reload), and the same inbox on a 390×844 phone, stacked. Screenshots go to the test's tmp_path."""
from __future__ import annotations

import pytest
import requests
from sqlmodel import Session

from bot.core.vocab import Role
from bot.db.models import Applicant
from tests.conftest import AUTH, application
from tests.e2e.test_browser import DESKTOP, PHONE, browser, live, open_page  # noqa: F401  (fixtures)
from tests.recruiters import link_for

pytestmark = pytest.mark.browser
QUESTION = "駐車場はありますか？車で伺いたいのですが、近くに停められる場所があれば教えてください。"


def _apply(svc, base: str, name: str, phone: str) -> tuple[int, str]:
    res = requests.post(f"{base}/api/applications", headers=AUTH, timeout=10,
                        json=application(name=name, phone=phone, email=None))
    assert res.status_code == 201, res.text
    applicant_id = res.json()["id"]
    with Session(svc.engine) as s:
        return applicant_id, s.get(Applicant, applicant_id).token


def _say(base: str, token: str, text: str) -> None:
    assert requests.post(f"{base}/chat/{token}/say", json={"text": text}, timeout=10).status_code == 202


def _sign_in(page, base: str, svc) -> None:
    from urllib.parse import urlsplit

    page.goto(base + urlsplit(link_for(svc, "admin@example.com", Role.ADMIN, "採用 花子")).path)
    page.click("#sign-in")
    page.wait_for_url(lambda url: "/sign-in" not in url)


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def waiting(live):  # noqa: F811
    svc, base = live
    asking, token = _apply(svc, base, "佐藤 一郎", "090-1111-2222")
    _say(base, token, QUESTION)
    booked, other = _apply(svc, base, "鈴木 花", "090-3333-4444")
    _say(base, other, "1")
    _apply(svc, base, "高橋 健", "090-5555-6666")
    svc.clock.advance(minutes=14)
    return svc, base, asking, token


def test_a_recruiter_answers_a_waiting_candidate_at_1280(browser, waiting, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    svc, base, asking, token = waiting
    errors: list = []
    page = open_page(browser, DESKTOP, errors)
    _sign_in(page, base, svc)
    page.goto(f"{base}/recruiter/inbox")
    expect(page.locator("#waiting .conv")).to_have_count(1)
    expect(page.locator("#waiting")).to_contain_text("14分待ち")
    page.screenshot(path=str(tmp_path / "inbox-list-1280.png"), full_page=True)
    page.click(f"#waiting .conv[data-id='{asking}'] a")
    page.wait_for_selector("#reply-form")
    lists, thread, panel = (page.locator(s).bounding_box() for s in ("#inbox-list", ".inbox-thread", "#panel"))
    assert lists["x"] < thread["x"] < panel["x"] and abs(lists["y"] - panel["y"]) < 2  # side by side
    _fits(page, DESKTOP["width"])
    expect(page.locator("#call")).to_have_attribute("href", "tel:+819011112222")
    expect(page.locator("#call-hint")).to_contain_text("03-6820-1234")

    page.click("#saved a.chip >> nth=0")  # 受付のお礼, inserted without leaving the page
    expect(page.locator("#reply-text")).to_have_value(
        "佐藤 一郎様\n株式会社そよかぜベーカリー採用担当でございます。ご連絡いただき、誠にありがとうございます。"
        "内容を確認のうえ、改めてご連絡いたします。今しばらくお待ちくださいませ。")
    page.fill("#reply-text", "佐藤 一郎様\n駐車場はございませんが、向かいのコインパーキングをご利用いただけます。")
    page.click("#send")
    expect(page.locator("#thread .item-staff").last).to_contain_text("コインパーキング")
    expect(page.locator("#thread .item-staff .who").last).to_have_text("採用 花子")

    _say(base, token, "ありがとうございます。では電車で伺います。")  # the candidate answers meanwhile
    expect(page.locator("#thread .item-in").last).to_contain_text("電車で伺います", timeout=15000)  # no reload
    page.locator(".note-box summary").click()
    page.fill("#note-text", "電車で来社予定。駅からの道順を当日案内する")
    page.click("#add-note")
    page.wait_for_selector("#thread .item-note")
    page.screenshot(path=str(tmp_path / "inbox-conversation-1280.png"), full_page=True)

    page.click(".inbox-lang")  # English
    expect(page.locator("#conv-title")).to_contain_text("needs a person")
    expect(page.locator("label[for=reply-text]")).to_have_text("Reply by Web chat")
    expect(page.locator("#waiting")).to_contain_text("waiting 14 min")
    page.screenshot(path=str(tmp_path / "inbox-conversation-1280-en.png"), full_page=True)
    assert errors == []


def test_the_inbox_on_a_390_phone(browser, waiting, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    svc, base, asking, token = waiting
    errors: list = []
    page = open_page(browser, PHONE, errors)
    _sign_in(page, base, svc)
    page.goto(f"{base}/recruiter/inbox")
    expect(page.locator("#waiting .conv")).to_have_count(1)
    _fits(page, PHONE["width"])
    page.screenshot(path=str(tmp_path / "inbox-list-390.png"), full_page=True)
    page.click(f"#waiting .conv[data-id='{asking}'] a")
    page.wait_for_selector("#reply-form")
    assert not page.locator("#inbox-list").is_visible()  # the conversation has the screen; "← 一覧へ" goes back
    expect(page.locator(".back-link")).to_be_visible()
    thread, panel = page.locator(".inbox-thread").bounding_box(), page.locator("#panel").bounding_box()
    assert panel["y"] > thread["y"] and thread["width"] > 340  # stacked, full width
    _fits(page, PHONE["width"])
    send = page.locator("#send").bounding_box()
    assert send["height"] >= 40
    page.screenshot(path=str(tmp_path / "inbox-conversation-390.png"), full_page=True)
    page.fill("#reply-text", "佐藤 一郎様、駐車場はございます。")
    page.click("#send")
    expect(page.locator("#thread .item-staff").last).to_contain_text("駐車場はございます")
    page.screenshot(path=str(tmp_path / "inbox-replied-390.png"))

    # The candidate answers on their own page (as a one-way SMS or e-mail candidate does), on their phone.
    from bot.core.vocab import KeyPurpose
    from bot.service.candidate_page import page_url

    mine = open_page(browser, PHONE, errors)
    mine.goto(page_url(svc.keys.current(KeyPurpose.LINKS), base, token) + "#write")
    expect(mine.locator("#exchange")).to_contain_text("駐車場はございます")
    mine.fill("#write-text", "承知しました。当日はよろしくお願いいたします。")
    _fits(mine, PHONE["width"])
    mine.screenshot(path=str(tmp_path / "candidate-page-write-390.png"), full_page=True)
    mine.click("#write-send")
    expect(mine.locator("#notice")).to_contain_text("担当者が確認してお返事いたします")
    expect(page.locator("#thread .item-in").last).to_contain_text("当日はよろしくお願いいたします", timeout=15000)
    expect(page.locator("#thread .item-in .meta").last).to_contain_text("ご本人のページから")
    assert errors == []
