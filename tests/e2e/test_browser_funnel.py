"""Today, the funnel, a filtered search and its CSV in Debian's chromium, at 1280 px and on a 390×844 phone, over the
demo's six weeks of history at the tests' fixed clock. Screenshots go to the test's tmp_path (or SCREENSHOTS)."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from bot.service import demo_history
from tests.conftest import START, FakeClock, make_services
from tests.e2e.test_browser import DESKTOP, PHONE, browser, open_page, serving  # noqa: F401  (browser is a fixture)
from tests.recruiters import sign_in_browser

pytestmark = pytest.mark.browser


@pytest.fixture
def live(db_url):
    svc = make_services(db_url, clock=FakeClock(START))
    assert demo_history.seed(svc) > 200
    try:
        with serving(svc, worker=False) as base:  # the history is made up: no worker sends anything for it
            yield svc, base
    finally:
        svc.engine.dispose()


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_today_funnel_filter_and_csv_in_a_browser(browser, live, tmp_path, viewport):  # noqa: F811
    svc, base = live
    shots = Path(os.environ.get("SCREENSHOTS") or tmp_path)
    width = viewport["width"]
    errors: list = []
    page = open_page(browser, viewport, errors)
    sign_in_browser(page, base, svc)

    page.goto(f"{base}/recruiter/today")
    page.wait_for_selector("#calls")
    assert page.locator("li.interview").count() > 0
    assert "今日" in page.inner_text("h2#day-1") and "明日" in page.inner_text("h2#day-2")
    _fits(page, width)
    page.screenshot(path=str(shots / f"today-{width}.png"), full_page=True)

    page.goto(f"{base}/recruiter/funnel")
    chart = page.locator("#funnel-chart")
    assert chart.is_visible() and "応募" in chart.text_content() and "初回連絡" in page.inner_text("#first-contact")
    assert chart.bounding_box()["width"] <= width
    _fits(page, width)
    page.screenshot(path=str(shots / f"funnel-{width}.png"), full_page=True)
    page.click("#lang-switch")  # English, the filters and grouping kept
    page.wait_for_selector("text=How we count")
    assert "Time to first contact" in page.inner_text("#first-contact")
    _fits(page, width)
    page.screenshot(path=str(shots / f"funnel-en-{width}.png"), full_page=True)
    page.goto(f"{base}/recruiter/funnel")
    page.click("#by-week")
    page.wait_for_selector('#groups tr[data-group]')
    assert "の週" in page.inner_text("#groups")

    page.goto(f"{base}/recruiter/applicants")
    page.select_option("#channel", "line")
    page.fill("#q", "佐藤")
    page.click("#apply-filters")
    page.wait_for_url(lambda url: "channel=line" in url)
    shown = page.locator("#applicant-list li").count()
    assert shown > 0 and all("LINE" in t for t in page.locator("#applicant-list li .meta").all_inner_texts()[:1])
    _fits(page, width)
    page.screenshot(path=str(shots / f"applicants-{width}.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#applicants-csv")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) - 1 == shown or shown == 50
    assert all(r[7] == "LINE" and "佐藤" in r[2] for r in rows[1:])
    assert errors == []
