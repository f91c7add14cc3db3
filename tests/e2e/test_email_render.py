"""The candidate's e-mails as they arrive (a real SMTP server on loopback, aiosmtpd): both parts carry every time,
a time link opens the page with that time chosen (a GET never books), one press there books; the reminder's
confirm / change / cancel links work the same way; and the HTML seen in Chromium on a phone."""
from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, select

from bot.core.messages import format_slot
from bot.db.models import Outbox
from tests.conftest import Chat
from tests.conftest import stored_applicant as _applicant
from tests.conftest import stored_bookings as _bookings
from tests.e2e.test_browser import browser  # noqa: F401  (a fixture)

SHOTS = Path("/tmp/shots")


class Anchors(HTMLParser):
    """Every link of an HTML part, with the words it shows."""

    def __init__(self, html: str):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[str] | None = None
        self._href = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href, self._open = dict(attrs).get("href", ""), []

    def handle_data(self, data):
        if self._open is not None:
            self._open.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            self.links.append((self._href, " ".join("".join(self._open).split())))
            self._open = None


def _parts(mail) -> tuple[str, str]:
    return mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()


def _form(html: str, button_id: str) -> tuple[str, dict]:
    """The form holding the button `button_id`: its action and its fields, as the browser would post them."""
    start = html.rindex("<form", 0, html.index(f'id="{button_id}"'))
    form = html[start:html.index("</form>", start)]
    action = re.search(r'action="([^"]+)"', form).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    return action, {k: v.replace("&amp;", "&") for k, v in fields.items()}


def _email_candidate(client, svc, **fields) -> Chat:
    chat = Chat(client, svc)
    chat.apply(channel="email", **fields)
    chat.replies()
    return chat


def _press(client, html: str, button_id: str):
    """One press of a button on the page (a POST with the page's own form token); returns the page it leads to."""
    action, fields = _form(html, button_id)
    res = client.post(action, data=fields)
    assert res.status_code == 303, res.get_data(as_text=True)[:500]
    target = urlsplit(res.headers["Location"])
    return client.get(target.path + "?" + target.query).get_data(as_text=True)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_offered_time_is_in_both_parts_and_a_time_link_books_after_one_press(sms_client, sms_svc, smtp_server,
                                                                                  locale):
    chat = _email_candidate(sms_client, sms_svc, locale=locale)
    text, html = _parts(smtp_server.mails[0])
    offered = _applicant(sms_svc, chat.id).offered
    assert len(offered) == 3
    time_links = [(href, label) for href, label in Anchors(html).links if "?slot=" in href]
    assert len(time_links) == len(offered)
    for slot, (href, label) in zip(offered, time_links):
        shown = format_slot(datetime.fromisoformat(slot["start"]), sms_svc.settings.tz, locale,
                            datetime.fromisoformat(slot["end"]))
        assert " ".join(shown.split()) in label  # the button says the time it opens
        assert shown in text and href in text  # the plain part: the same time with the same link
    assert '<meta name="viewport"' in html and f'<html lang="{locale}">' in html and "<script" not in html
    preheader = re.search(r'<div style="display:none[^"]*">(.*?)&#847;', html, re.S).group(1)
    assert re.sub(r"[^\w:]", "", time_links[0][1]) in re.sub(r"[^\w:]", "", preheader)  # the inbox line shows a time
    lead = {"ja": "ご都合のよい日時を押してください。", "en": "Please tap the time that suits you."}[locale]
    assert lead in text and lead in html and "ボタンを押すだけ" not in text + html  # no buttons claimed it has not

    href, label = time_links[1]
    link = urlsplit(href)
    page = sms_client.get(f"{link.path}?{link.query}")  # the tap in the mail (and any mail scanner's GET)
    assert page.status_code == 200 and _bookings(sms_svc, chat.id) == []
    body = page.get_data(as_text=True)
    assert 'id="book-chosen"' in body and "autofocus" in body
    chosen = " ".join(re.sub(r"<[^>]+>", " ", re.search(r'id="chosen-when">(.*?)</p>', body, re.S).group(1)).split())
    bare = lambda words: re.sub(r"[^\w:]", "", words)  # noqa: E731  (the same day and hours, however spaced)
    assert bare(chosen) in bare(label)  # the page shows the very time the link named
    after = _press(sms_client, body, "book-chosen")  # tap 2: the page's one clearly labelled button
    (booking,) = _bookings(sms_svc, chat.id)
    wanted = parse_qs(link.query)["slot"][0]
    assert booking.status == "booked" and booking.active_slot.rpartition("@")[2] == wanted
    assert 'id="booked-when"' in after  # two taps from the mail to a booked interview


def _reminder_mail(chat, svc, clock, smtp_server, kind: str):
    with Session(svc.engine) as s:
        row = s.exec(select(Outbox).where(Outbox.applicant_id == chat.id, Outbox.kind == kind)).one()
    clock.now = row.due_at
    before = len(smtp_server.mails)
    chat.replies()
    assert len(smtp_server.mails) == before + 1, f"no {kind} mail"
    return smtp_server.mails[-1]


def _book_by_mail(client, svc, smtp_server, chat) -> str:
    _, html = _parts(smtp_server.mails[0])
    href = [h for h, _ in Anchors(html).links if "?slot=" in h][-1]  # the last time: a day-before reminder is due
    link = urlsplit(href)
    _press(client, client.get(f"{link.path}?{link.query}").get_data(as_text=True), "book-chosen")
    chat.replies()
    return link.path


def test_the_booked_mail_has_the_facts_and_change_and_cancel_links(sms_client, sms_svc, smtp_server):
    chat = _email_candidate(sms_client, sms_svc)
    _book_by_mail(sms_client, sms_svc, smtp_server, chat)
    booked = smtp_server.mails[-1]
    assert "面接のご予約が確定しました" in str(booked["Subject"])
    text, html = _parts(booked)
    (booking,) = _bookings(sms_svc, chat.id)
    when = format_slot(booking.start_at, sms_svc.settings.tz, "ja", booking.end_at)
    for part in (text, html):
        assert when in part and "面接担当" in part and "持ち物" in part and "場所" in part
        assert f"/booking/{booking.token}.ics" in part
    labels = {label: href for href, label in Anchors(html).links}
    assert "?do=change" in labels["日程を変更"] and "?do=cancel" in labels["キャンセル"]
    assert "カレンダーに追加" in labels and "お送りください" not in text.split("\n--\n")[0]
    assert text.count("面接担当") == 1  # the text's own "面接担当: …" line gave way to the table's row


def test_the_reminder_links_confirm_change_and_cancel_only_after_a_press_on_the_page(sms_client, sms_svc, smtp_server,
                                                                                    clock):
    chat = _email_candidate(sms_client, sms_svc)
    _book_by_mail(sms_client, sms_svc, smtp_server, chat)
    mail = _reminder_mail(chat, sms_svc, clock, smtp_server, "reminder_day_before")
    assert str(mail["Subject"]) == "明日の面接のご案内（株式会社そよかぜベーカリー）"
    text, html = _parts(mail)
    links = {parse_qs(urlsplit(h).query).get("do", [""])[0]: h for h, _ in Anchors(html).links if "?do=" in h}
    assert set(links) == {"confirm", "change", "cancel"}
    assert all(url in text for url in links.values())  # the plain part has the same three links
    (booking,) = _bookings(sms_svc, chat.id)
    assert f"/booking/{booking.token}.ics" in html and f"/booking/{booking.token}.ics" in text
    pages = {}
    for action, url in links.items():  # a scanner opening all three links changes nothing
        link = urlsplit(url)
        res = sms_client.get(f"{link.path}?{link.query}")
        assert res.status_code == 200
        pages[action] = res.get_data(as_text=True)
    assert _applicant(sms_svc, chat.id).state == "booked" and _bookings(sms_svc, chat.id)[0].status == "booked"
    assert "面接をキャンセルしますか" in pages["cancel"]

    _press(sms_client, pages["confirm"], "confirm")
    assert _applicant(sms_svc, chat.id).state == "confirmed"
    _press(sms_client, pages["cancel"], "cancel-yes")
    assert _applicant(sms_svc, chat.id).state == "cancelled"
    assert [b.status for b in _bookings(sms_svc, chat.id)] == ["cancelled"]


def test_the_change_link_of_a_reminder_keeps_the_booking_until_a_new_time_is_pressed(sms_client, sms_svc,
                                                                                   smtp_server, clock):
    chat = _email_candidate(sms_client, sms_svc, locale="en", name="Hanako Yamada")
    _book_by_mail(sms_client, sms_svc, smtp_server, chat)
    mail = _reminder_mail(chat, sms_svc, clock, smtp_server, "reminder_day_before")
    _, html = _parts(mail)
    change = urlsplit(next(h for h, _ in Anchors(html).links if "?do=change" in h))
    page = sms_client.get(f"{change.path}?{change.query}").get_data(as_text=True)
    assert _applicant(sms_svc, chat.id).state == "booked"
    _press(sms_client, page, "change")
    assert _applicant(sms_svc, chat.id).state == "rescheduling"
    assert [b.status for b in _bookings(sms_svc, chat.id)] == ["booked"]


def test_the_plain_part_carries_every_link_of_the_html_part(sms_client, sms_svc, smtp_server, clock):
    chat = _email_candidate(sms_client, sms_svc)
    _book_by_mail(sms_client, sms_svc, smtp_server, chat)
    _reminder_mail(chat, sms_svc, clock, smtp_server, "reminder_day_before")
    assert len(smtp_server.mails) == 3  # greeting, booked, reminder
    for mail in smtp_server.mails:
        text, html = _parts(mail)
        hrefs = {href.replace("&amp;", "&") for href, _ in Anchors(html).links if not href.startswith("tel:")}
        assert hrefs and all(href in text for href in hrefs), (mail["Subject"], hrefs - {h for h in hrefs if h in text})


def test_a_name_with_markup_is_escaped_in_the_html_part(sms_client, sms_svc, smtp_server):
    _email_candidate(sms_client, sms_svc, name='<script>alert("x")</script><img src=x onerror=alert(1)>')
    text, html = _parts(smtp_server.mails[0])
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert '<script>alert("x")</script>' in text  # plain text shows what was typed, as text


def test_the_logo_is_an_absolute_https_address_or_left_out():
    from bot.channels.email.prepare import logo_url

    assert logo_url("brand/logo.png", "https://jobs.example.com") == "https://jobs.example.com/static/brand/logo.png"
    assert logo_url("https://cdn.example.com/l.png", "http://localhost") == "https://cdn.example.com/l.png"
    assert logo_url("brand/logo.png", "http://localhost:5000") == ""  # a mail client cannot reach it
    assert logo_url("brand/soyokaze.svg", "https://jobs.example.com") == ""  # Gmail and Outlook show no SVG
    assert logo_url("", "https://jobs.example.com") == ""


def test_a_pale_brand_colour_never_reaches_the_mail():
    from bot.channels.email.view import DEFAULT_COLOUR, contrast, usable_colour

    assert usable_colour("#06c755") == DEFAULT_COLOUR  # LINE green: white on it is 2.2:1
    assert usable_colour("#a8501e") == "#a8501e" and contrast("#a8501e", "#ffffff") >= 4.5
    assert usable_colour("red; background:url(x)") == DEFAULT_COLOUR


# --- The HTML in a browser: a phone-sized window, as a mail app shows it ---------------------------------------

@pytest.mark.browser
@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_greeting_mail_reads_well_on_a_phone(browser, sms_client, sms_svc, smtp_server, locale):  # noqa: F811
    _email_candidate(sms_client, sms_svc, locale=locale)
    _, html = _parts(smtp_server.mails[0])
    _look_at(browser, html, f"mail-greeting-{locale}")


@pytest.mark.browser
def test_the_reminder_mail_reads_well_on_a_phone(browser, sms_client, sms_svc, smtp_server, clock):  # noqa: F811
    chat = _email_candidate(sms_client, sms_svc)
    _book_by_mail(sms_client, sms_svc, smtp_server, chat)
    _look_at(browser, _parts(smtp_server.mails[-1])[1], "mail-booked-ja")
    mail = _reminder_mail(chat, sms_svc, clock, smtp_server, "reminder_day_before")
    _look_at(browser, _parts(mail)[1], "mail-reminder-ja")


def _look_at(browser, html: str, name: str) -> None:
    """Show the mail at 390x844 without network (as a mail app that blocks images): nothing wider than the screen,
    every link a thumb-sized target, no text below 4.5:1 (axe-core, when installed)."""
    from tests.e2e.test_browser import PHONE

    context = browser.new_context(viewport=PHONE, java_script_enabled=True)
    context.route("**/*", lambda route: route.abort())  # a mail app shows no remote image unless asked
    page = context.new_page()
    page.set_content(html, wait_until="domcontentloaded")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-phone.png", full_page=True)
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the mail is wider than the phone: {width}"
    small = page.evaluate("""() => [...document.querySelectorAll('a[href*="?slot="], a[href*="?do="]')]
        .map(a => a.getBoundingClientRect()).filter(r => r.height < 24).length""")
    assert small == 0
    buttons = page.evaluate("""() => [...document.querySelectorAll('a[href*="?slot="]')]
        .map(a => Math.round(a.getBoundingClientRect().height))""")
    assert all(h >= 44 for h in buttons), buttons
    axe = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
    if axe.exists():
        page.evaluate(axe.read_text() + "\n;true")
        found = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})"
                              ".then(r => r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' ')))")
        assert found == [], found
    context.close()
    print(f"screenshot: {SHOTS / (name + '-phone.png')}")
