"""A person in Debian's chromium: apply on the Japanese form, book in the chat, see it on the recruiter page."""
from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from typing import Iterator

import pytest
from sqlmodel import Session, func, select

from tests.conftest import START, FakeClock, make_services
from tests.recruiters import sign_in_browser

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT = 15_000  # ms: the longest any step may take; nothing here sleeps a fixed time
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
NAME = "山田 花子"


def _missing(reason: str):
    """Skip on a machine without a browser; in CI a missing browser is a broken set-up."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}: scripts/setup.sh test must install it", pytrace=False)
    pytest.skip(reason)


def _chromium_path() -> str:
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    found = shutil.which("chromium")
    if not found:
        _missing("chromium not found (/usr/bin/chromium or on PATH): apt-get install chromium")
    return found


@contextmanager
def serving(svc, *, worker: bool = True) -> Iterator[str]:
    """The real app (and its outbox worker) for `svc` on a free loopback port; yields the base URL."""
    from werkzeug.serving import make_server

    from bot import create_app
    from bot.worker import start_thread

    server = make_server("127.0.0.1", 0, create_app(services=svc), threaded=True)
    web = threading.Thread(target=server.serve_forever, name="browser-test-web", daemon=True)
    web.start()
    sender, stop = start_thread(svc, poll=0.1) if worker else (None, threading.Event())
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        stop.set()
        svc.process.wake.set()
        server.shutdown()
        if sender is not None:
            sender.join(timeout=5)
        web.join(timeout=5)
        server.server_close()


@pytest.fixture
def live(db_url):
    """The real app and outbox worker on a throwaway SQLite file, on a free loopback port, fixed clock."""
    svc = make_services(db_url, clock=FakeClock(START))  # a fixed clock: the times offered never depend on today
    try:
        with serving(svc) as base:
            yield svc, base
    finally:
        svc.engine.dispose()


@pytest.fixture
def browser():
    path = _chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed: pip install -e '.[test]'")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, viewport: dict, errors: list):
    """A fresh browser profile (own cookies), Japanese like the candidates, recording script errors."""
    context = browser.new_context(viewport=viewport, locale="ja-JP", timezone_id="Asia/Tokyo")
    context.set_default_timeout(WAIT)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


def fill_application(page, base: str, phone: str) -> None:
    """Open the form and fill it in as a candidate would (job, name, SMS, phone, the consent box)."""
    from playwright.sync_api import expect

    page.goto(f"{base}/apply")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.get_by_label("応募する仕事").select_option(label="ベーカリースタッフ（パート・アルバイト）")
    page.get_by_label("お名前").fill(NAME)
    page.get_by_label("SMS（ショートメッセージ）").check()
    page.get_by_label("携帯電話番号").fill(phone)
    page.get_by_label("個人情報の取り扱いについて同意します").check()


def applicant_count(svc) -> int:
    from bot.db.models import Applicant

    with Session(svc.engine) as s:
        return s.exec(select(func.count()).select_from(Applicant)).one()


# `browser` comes before `live` so a machine without chromium skips before a server is started.
def test_candidate_applies_books_in_chat_and_recruiter_sees_booked(browser, live, tmp_path):
    from playwright.sync_api import expect

    svc, base = live
    errors: list[str] = []
    page = open_page(browser, PHONE, errors)

    fill_application(page, base, "090-1234-5678")
    page.screenshot(path=tmp_path / "apply.png", full_page=True)
    page.get_by_role("button", name="応募する").click()

    page.wait_for_url("**/apply/thanks/**")
    open_chat = page.locator("#open-chat")
    expect(open_chat).to_have_text("チャットを開く")
    open_chat.click()

    greeting = page.locator(".msg.them .bubble", has_text=f"{NAME}さん").first
    expect(greeting).to_be_visible(timeout=WAIT)
    second = page.locator(".quick-reply").nth(1)  # the greeting's times, under its last bubble
    label = second.inner_text().strip()
    assert label.startswith("2) ") and "〜" in label, f"the second quick reply should be a time, got {label!r}"
    label = label.removeprefix("2) ")  # numbered as a typed "2" counts; the booking says the time alone
    second.click()

    confirmation = page.locator(".msg.them .bubble", has_text="面接のご予約が確定しました")
    expect(confirmation).to_be_visible(timeout=WAIT)
    expect(page.locator(".msg.me .bubble").last).to_have_text(f"2) {label}")
    booked_line = next(line for line in confirmation.inner_text().splitlines() if line.startswith("日時:"))
    assert booked_line == f"日時: {label}"
    page.screenshot(path=tmp_path / "chat.png", full_page=False)

    desk = open_page(browser, DESKTOP, errors)
    sign_in_browser(desk, base, svc)
    row = desk.locator("#applicants tbody tr", has_text=NAME)
    expect(row).to_have_count(1)
    expect(row.locator("td.state")).to_have_attribute("data-state", "booked")
    expect(row.locator("td.state")).to_have_text("予約済み")
    expect(row.locator("td.when")).to_contain_text(label)
    desk.screenshot(path=tmp_path / "recruiter.png", full_page=True)

    assert errors == [], f"script errors in the pages: {errors}"


def test_invalid_phone_shows_japanese_error_and_stores_nothing(browser, live, tmp_path):
    from playwright.sync_api import expect

    svc, base = live
    errors: list[str] = []
    page = open_page(browser, PHONE, errors)

    fill_application(page, base, "12")
    with page.expect_response(lambda r: r.request.method == "POST" and "/apply" in r.url) as sent:
        page.get_by_role("button", name="応募する").click()
    assert sent.value.status == 422

    expect(page.locator("[role=alert] p")).to_have_text("入力内容をご確認ください。")
    expect(page.locator("[role=alert] a")).to_have_text("携帯電話番号")  # a link to the field
    expect(page.get_by_label("携帯電話番号")).to_be_focused()
    expect(page.locator(".field-error")).to_have_text("携帯電話番号を正しく入力してください（例: 090-1234-5678）。")
    expect(page.get_by_label("携帯電話番号")).to_have_value("12")
    expect(page.get_by_label("お名前")).to_have_value(NAME)
    expect(page.get_by_label("SMS（ショートメッセージ）")).to_be_checked()
    page.screenshot(path=tmp_path / "apply-error.png", full_page=True)
    assert applicant_count(svc) == 0
    assert errors == []
