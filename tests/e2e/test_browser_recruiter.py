"""The recruiter's list in Debian's chromium on a 1280-wide desktop: every column, the actions included, in view."""
from __future__ import annotations

import secrets

import pytest
import requests
from twilio.request_validator import RequestValidator

from bot.core.events import ChooseSlot
from bot.service.turn import handle
from tests.channels.sms.drivers import TWILIO_TOKEN
from tests.conftest import AUTH, application
from tests.e2e.test_browser import browser, open_page  # noqa: F401  (browser is a fixture)
from tests.e2e.test_browser_candidate_page import live_sms  # noqa: F401  (a fixture)
from tests.recruiters import sign_in_browser
from tests.web.test_colours import AA, contrast

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}


def _apply(base: str, **fields) -> int:
    res = requests.post(f"{base}/api/applications", json=application(**fields), headers=AUTH, timeout=10)
    assert res.status_code == 201, res.text
    return res.json()["id"]


def _text(base: str, number: str, body: str) -> None:
    url = f"{base}/webhooks/twilio/sms"
    form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": number,
            "To": "+815012345678", "Body": body, "NumMedia": "0"}
    sig = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    assert requests.post(url, data=form, headers={"X-Twilio-Signature": sig}, timeout=10).status_code == 200


def test_the_recruiter_list_shows_every_column_on_a_desktop_and_disabled_buttons_look_disabled(
        browser, live_sms):  # noqa: F811
    svc, base = live_sms
    _apply(base, channel="sms")
    _text(base, "+819012345678", "STOP")  # "SMS停止中 (STOP 2026-11-30)" in the contact column
    _apply(base, channel="sms", job="store-manager")
    booked = _apply(base, channel="email", name="佐藤 次郎", email="jiro@example.com", phone="080-9999-0000")
    handle(svc, booked, ChooseSlot(number=1))  # before its start: the outcome buttons are there but disabled

    page = open_page(browser, DESKTOP, [])
    sign_in_browser(page, base, svc)
    page.wait_for_selector("#applicants")
    assert "SMS停止中" in page.inner_text("#applicants")
    wrap = page.evaluate("""() => { const w = document.querySelector('.table-wrap');
        return [w.scrollWidth, w.clientWidth]; }""")
    assert wrap[0] <= wrap[1], f"the list scrolls sideways on a desktop; the actions are out of view: {wrap}"
    disabled = page.locator("#applicants button[disabled]").first
    assert float(disabled.evaluate("b => getComputedStyle(b).opacity")) < 0.8  # not the look of a live button


# Small kana, the prolonged sound mark and closing punctuation never start a line in Japanese (kinsoku).
NO_LINE_START = set("ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶー、。，．）」』】")


def _line_starts(page, selector: str) -> list[str]:
    """The first character of each line after the first, in the elements matching selector."""
    return page.evaluate("""(sel) => {
        const starts = [];
        for (const el of document.querySelectorAll(sel)) {
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            let top = null;
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                for (let i = 0; i < node.length; i++) {
                    const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                    const rect = r.getClientRects()[0];
                    if (!rect || !node.data[i].trim()) continue;
                    if (top !== null && rect.top > top + 2) starts.push(node.data[i]);
                    top = rect.top;
                }
            }
        }
        return starts; }""", selector)


def test_japanese_headings_on_a_phone_never_start_a_line_with_a_small_kana(browser, live_sms):  # noqa: F811
    svc, base = live_sms
    page = open_page(browser, {"width": 390, "height": 844}, [])
    page.goto(f"{base}/apply")
    starts = _line_starts(page, "h1, p, label")
    assert starts and not NO_LINE_START.intersection(starts), starts  # "応募フ" / "ォーム" on a 390 phone


def _rgb_hex(computed: str) -> str:
    """rgb(10, 122, 60) as #0a7a3c."""
    return "#" + "".join(f"{int(n):02x}" for n in computed[computed.index("(") + 1:].rstrip(")").split(",")[:3])


def test_the_words_inside_a_button_are_as_readable_as_the_button_itself(browser, live_sms):  # noqa: F811
    from datetime import timedelta

    from sqlmodel import Session, select

    from bot.db.models import Booking

    svc, base = live_sms
    booked = _apply(base, channel="email", email="jiro@example.com")
    handle(svc, booked, ChooseSlot(number=1))
    with Session(svc.engine) as s:
        start = s.exec(select(Booking)).one().start_at
    svc.clock.now = start + timedelta(minutes=10)  # the interview has started: the confirm step shows its button
    page = open_page(browser, DESKTOP, [])
    sign_in_browser(page, base, svc)
    page.goto(f"{base}/recruiter/applicants/{booked}/outcome/attended")
    colours = page.locator("#outcome-confirm").evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b.querySelector('small')).color,"
        " getComputedStyle(b).backgroundColor]")
    assert colours[0] == colours[1], colours  # grey "Record" on green could hardly be read
    text, background = (_rgb_hex(c) for c in (colours[0], colours[2]))
    assert contrast(text, background) >= AA, colours  # white on the brand's #06c755 was 2.3:1
