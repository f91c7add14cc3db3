"""The candidate's own page (/c/<signed>): one-way SMS and e-mail candidates book, confirm, change and cancel there."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

from bot.db.models import Outbox
from bot.service.candidate_page import REPLY_REQUEST, page_url
from bot.service.shortlinks import unsubscribe_url
from tests.channels.sms.drivers import Phone
from tests.conftest import START as START_AT
from tests.conftest import stored_applicant as _applicant
from tests.conftest import stored_bookings as _bookings


@pytest.fixture
def sms_mode():
    return "auto"  # the product's default: one-way to Japanese numbers


class Page:
    """A candidate's browser on their page: opens it, taps its buttons (each a POST with the form token)."""

    def __init__(self, client, url: str):
        parts = urlsplit(url)
        self.client, self.path = client, parts.path
        self.html = ""

    def open(self, query: str = ""):
        res = self.client.get(self.path + (f"?{query}" if query else ""))
        self.html = res.get_data(as_text=True)
        return res

    def csrf(self) -> str:
        if 'name="csrf"' not in self.html:
            self.open()
        return re.search(r'name="csrf" value="([^"]+)"', self.html).group(1)

    def tap(self, action: str, **form):
        res = self.client.post(f"{self.path}/{action}", data={"csrf": self.csrf(), **form})
        if res.status_code == 303:
            self.open(urlsplit(res.headers["Location"]).query)
        else:
            self.html = res.get_data(as_text=True)
        return res

    def times(self) -> list[str]:
        return re.findall(r'name="slot" value="([^"]+)"', self.html)


def _follow(client, short_url: str) -> str:
    """Open a short /r/ link the way a phone does; return where it leads."""
    res = client.get(urlsplit(short_url).path)
    assert res.status_code == 302, short_url
    return res.headers["Location"]


def _links(body: str) -> list[str]:
    return re.findall(r"https://jobs\.example\.com/r/[\w-]+", body)


def _greeted_page(phone, client) -> Page:
    phone.apply()
    greeting = phone.inbox()[0]
    page = Page(client, _follow(client, _links(greeting.body)[0]))
    assert page.open().status_code == 200
    return page


def test_one_way_candidate_books_confirms_changes_and_cancels_on_the_page(phone, sms_svc, sms_client):
    page = _greeted_page(phone, sms_client)
    assert "山田 花子さん" in page.html and len(page.times()) == 3

    first = page.times()[0]
    assert page.tap("book", slot=first).status_code == 303
    assert "ご予約が確定しました" in page.html and "参加します" in page.html
    (booking,) = _bookings(sms_svc, phone.id)
    assert booking.status == "booked" and _applicant(sms_svc, phone.id).state == "booked"
    (booked,) = phone.inbox()  # the confirmation still comes by SMS, with the page link and no reply asked
    assert "確定" in booked.body and _links(booked.body) and not REPLY_REQUEST.search(booked.body)

    page.tap("confirm")
    assert _applicant(sms_svc, phone.id).state == "confirmed" and 'id="confirmed-mark"' in page.html

    page.tap("change")
    assert _applicant(sms_svc, phone.id).state == "rescheduling" and "今のご予約はそのまま" in page.html
    new = page.times()[1]
    page.tap("book", slot=new)
    assert [b.status for b in _bookings(sms_svc, phone.id)] == ["cancelled", "booked"]

    page.tap("cancel")  # the page asks first; nothing changes yet
    assert "面接をキャンセルしますか" in page.html and _applicant(sms_svc, phone.id).state == "booked"
    page.tap("cancel", sure="yes")
    assert _applicant(sms_svc, phone.id).state == "cancelled"
    assert [b.status for b in _bookings(sms_svc, phone.id)] == ["cancelled", "cancelled"]
    assert "もう一度予約する" in page.html
    for sms in phone.fake.created:
        assert not REPLY_REQUEST.search(sms.body), sms.body


def test_a_tap_without_the_form_token_changes_nothing(phone, sms_svc, sms_client):
    page = _greeted_page(phone, sms_client)
    res = sms_client.post(f"{page.path}/book", data={"slot": page.times()[0]})
    assert res.status_code == 400 and _bookings(sms_svc, phone.id) == []
    res = sms_client.post(f"{page.path}/book", data={"slot": page.times()[0], "csrf": "forged"})
    assert res.status_code == 400 and _bookings(sms_svc, phone.id) == []


def test_forged_or_foreign_signatures_get_a_clear_403_page(phone, sms_svc, sms_client):
    page = _greeted_page(phone, sms_client)
    signed = page.path.removeprefix("/c/")
    token = _applicant(sms_svc, phone.id).token
    unsubscribe = unsubscribe_url(sms_svc.config.secret_key, "", token).removeprefix("/u/")  # same key, other salt
    other_key = urlsplit(page_url("another-secret", "", token)).path.removeprefix("/c/")
    for forged in (signed[:-2] + ("AA" if not signed.endswith("AA") else "BB"), unsubscribe, other_key, "x"):
        res = sms_client.get(f"/c/{forged}")
        assert res.status_code == 403, forged
        assert "このリンクは開けません" in res.get_data(as_text=True) and "03-6820-1234" in res.get_data(as_text=True)
        res = sms_client.post(f"/c/{forged}/book", data={"csrf": page.csrf(), "slot": page.times()[0]})
        assert res.status_code == 403
    assert _bookings(sms_svc, phone.id) == []


def test_the_page_closes_after_the_interview_and_30_days_after_the_last_change(phone, sms_svc, sms_client, clock):
    page = _greeted_page(phone, sms_client)
    clock.advance(days=29)
    assert page.open().status_code == 200
    clock.advance(days=1, minutes=1)
    res = page.open()
    assert res.status_code == 410 and "このページの受付は終了しました" in page.html

    other = Phone(sms_client, sms_svc, phone.fake, number="+819087654321")
    other.apply(phone="090-8765-4321", email="jiro@example.com", name="佐藤 次郎")
    page = Page(sms_client, _follow(sms_client, _links(other.inbox()[0].body)[0]))
    page.open()
    page.tap("book", slot=page.times()[0])
    (booking,) = _bookings(sms_svc, other.id)
    clock.now = booking.end_at - timedelta(minutes=1)
    assert page.open().status_code == 200
    csrf = page.csrf()
    clock.now = booking.end_at
    assert page.open().status_code == 410
    assert sms_client.post(f"{page.path}/confirm", data={"csrf": csrf}).status_code == 410
    assert _applicant(sms_svc, other.id).state == "booked"


def test_a_page_shows_only_its_own_candidate_and_books_only_what_it_offered(phone, sms_svc, sms_client):
    hanako = _greeted_page(phone, sms_client)
    jiro = Phone(sms_client, sms_svc, phone.fake, number="+819087654321")
    jiro.apply(phone="090-8765-4321", email="jiro@example.com", name="佐藤 次郎", locale="en")
    jiro_page = Page(sms_client, _follow(sms_client, _links(jiro.inbox()[0].body)[0]))
    jiro_page.open()
    assert "佐藤 次郎" in jiro_page.html and "山田 花子" not in jiro_page.html and 'lang="en"' in jiro_page.html
    jiro_page.tap("book", slot=jiro_page.times()[2])
    (jiro_booking,) = _bookings(sms_svc, jiro.id)

    hanako.open()
    assert "佐藤 次郎" not in hanako.html and 'id="booked-when"' not in hanako.html
    hanako.tap("book", slot=f"nobody@{jiro_booking.start_at:%Y%m%dT%H%MZ}X")  # not a time on her page
    assert _bookings(sms_svc, phone.id) == [] and _bookings(sms_svc, jiro.id) == [jiro_booking]


def test_english_page_and_language_switch(phone, sms_svc, sms_client):
    page = _greeted_page(phone, sms_client)
    assert '<html lang="ja">' in page.html and "English" in page.html
    page.open("lang=en")
    assert '<html lang="en">' in page.html and "Please choose a time that suits you" in page.html
    page.tap("book", slot=page.times()[0], lang="en")
    assert "Your interview is booked" in page.html and "I&#39;ll be there" in page.html
    when = re.sub(r"<[^>]+>|\s+", " ", re.search(r'id="booked-when">(.*?)</dd>', page.html, re.S).group(1)).split()
    assert re.fullmatch(r"\w{3} \d{1,2} \w{3} \d\d:\d\d–\d\d:\d\d", " ".join(when)), when  # the day once, then the time


def test_other_days_and_a_day_pick_go_through_the_conversation(phone, sms_svc, sms_client):
    page = _greeted_page(phone, sms_client)
    page.tap("other")
    days = re.findall(r'name="day" value="([^"]+)"', page.html)
    assert days, page.html
    page.tap("day", day=days[1])
    times = page.times()
    assert times and all(days[1].replace("-", "") in key for key in times)
    page.tap("book", slot=times[0])
    assert _applicant(sms_svc, phone.id).state == "booked"


def test_browsing_times_and_days_on_the_page_sends_no_sms_only_what_changes_does(phone, sms_svc, sms_client):
    page = _greeted_page(phone, sms_client)
    phone.inbox()  # the greeting's content follow-up
    page.tap("other")
    days = re.findall(r'name="day" value="([^"]+)"', page.html)
    page.tap("day", day=days[1])
    # the page shows the days and times; an SMS saying "see the page" is noise
    assert page.times() and phone.inbox() == []
    page.tap("book", slot=page.times()[0])
    (booked,) = phone.inbox()
    assert "確定" in booked.body
    page.tap("change")
    assert "今のご予約はそのまま" in page.html and phone.inbox() == []
    page.tap("other")
    assert phone.inbox() == []
    page.tap("cancel", sure="yes")
    (cancelled,) = phone.inbox()
    assert _applicant(sms_svc, phone.id).state == "cancelled"
    page.tap("again")
    assert page.times() and phone.inbox() == []


def test_email_greeting_carries_one_page_link_per_time_and_a_link_only_chooses(sms_client, sms_svc, smtp_server):
    from tests.conftest import Chat

    chat = Chat(sms_client, sms_svc)
    chat.apply(channel="email")
    chat.replies()
    mail = smtp_server.mails[0]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    links = re.findall(r"https://jobs\.example\.com/c/[\w.-]+\?slot=[\w%@.-]+", text)
    assert len(links) == 3 and len(set(links)) == 3
    assert all(link.replace("&", "&amp;") in html for link in links)
    assert not REPLY_REQUEST.search(text.split("\n--\n")[0])
    page = Page(sms_client, links[1])
    assert page.open(urlsplit(links[1]).query).status_code == 200  # a mail scanner's GET books nothing
    assert "cp-chosen" in page.html and _bookings(sms_svc, chat.id) == []
    # The chosen time comes first, with one clearly labelled button that books it (tap 2 from the mail).
    chosen = re.search(r'id="chosen".*?name="slot" value="([^"]+)">.*?<button type="submit" class="cp-btn cp-primary"'
                       r' id="book-chosen" autofocus>この日時で予約する</button>', page.html, re.S).group(1)
    page.tap("book", slot=chosen)
    (booking,) = _bookings(sms_svc, chat.id)
    assert booking.active_slot.rpartition("@")[2] == chosen.rpartition("@")[2]  # that time (any free colleague)


def test_link_mode_reminders_carry_confirm_and_change_links(phone, sms_svc, sms_client, clock):
    page = _greeted_page(phone, sms_client)
    page.tap("book", slot=page.times()[-1])
    phone.inbox()
    with Session(sms_svc.engine) as s:
        reminders = s.exec(select(Outbox).where(Outbox.applicant_id == phone.id, Outbox.channel == "sms",
                                                Outbox.kind.like("reminder%"))).all()
    assert reminders
    for row in reminders:
        body = row.payload["sms"]
        assert "参加します→" in body and "変更→" in body and not REPLY_REQUEST.search(body), body
        confirm, change = _links(body)[:2]
        assert urlsplit(_follow(sms_client, confirm)).query == "do=confirm"
        assert urlsplit(_follow(sms_client, change)).query == "do=change"
    confirm_page = Page(sms_client, _follow(sms_client, _links(reminders[0].payload["sms"])[0]))
    confirm_page.open("do=confirm")
    assert "cp-focus" in confirm_page.html and "autofocus" in confirm_page.html
    confirm_page.tap("confirm")
    assert _applicant(sms_svc, phone.id).state == "confirmed"


def test_a_cancel_confirmed_on_the_page_cancels_without_asking_again():
    from datetime import datetime, timezone

    from bot.core.conversation import Context, State, decide
    from bot.core.events import Cancel, CancelBooking, Send

    ctx = Context(State.CONFIRMED, datetime(2030, 1, 7, tzinfo=timezone.utc), has_booking=True)
    decision = decide(ctx, Cancel(sure=True))
    assert decision.state == State.CANCELLED and CancelBooking() in decision.actions
    assert [a.kind for a in decision.actions if isinstance(a, Send)] == ["cancelled"]
    assert decide(ctx, Cancel()).state == State.CONFIRMED  # a typed "cancel" still gets the question


def test_a_one_way_candidate_stops_and_restarts_messages_on_the_page(phone, sms_svc, sms_client):
    page = _greeted_page(phone, sms_client)
    page.tap("book", slot=page.times()[0])
    phone.inbox()
    page.tap("stop")
    applicant = _applicant(sms_svc, phone.id)
    assert applicant.opted_out and applicant.state == "opted_out" and "配信を停止しました" in page.html
    assert 'id="confirm"' not in page.html and 'id="start"' in page.html
    for sms in phone.inbox():
        assert not REPLY_REQUEST.search(sms.body), sms.body
    page.tap("start")
    assert not _applicant(sms_svc, phone.id).opted_out and _applicant(sms_svc, phone.id).state == "booked"
    assert _bookings(sms_svc, phone.id)[0].status == "booked"


def test_a_cancel_link_only_asks_and_only_the_pages_post_cancels(phone, sms_svc, sms_client):
    page = _greeted_page(phone, sms_client)
    page.tap("book", slot=page.times()[0])
    assert page.open("do=cancel").status_code == 200  # an e-mail's or a scanner's GET
    assert "面接をキャンセルしますか" in page.html and _applicant(sms_svc, phone.id).state == "booked"
    page.tap("cancel", sure="yes")
    assert _applicant(sms_svc, phone.id).state == "cancelled"


def test_email_buttons_become_page_links_and_no_sentence_asks_for_a_reply(sms_svc):
    from bot.channels.email.adapter import MailChannel
    from bot.core.transport import Outgoing

    payload = {"kind": "confirm_cancel", "facts": {"company": "そよかぜ"},
               "text": "12月1日(火)の面接を、本当にキャンセルしてよろしいですか？\n"
                       "キャンセルされる場合は「はい」とお送りください。",
               "buttons": [{"label": "はい、キャンセルします", "data": "cancel:yes"},
                           {"label": "いいえ", "data": "keep"}]}
    mail = MailChannel(sms_svc.config).compose(Outgoing("email", {"email": "hanako@example.com", "token": "tok"},
                                                        payload, "key-1", "ja", {"written_at": START_AT}))
    text = mail.get_body(("plain",)).get_content()
    assert "本当にキャンセルしてよろしいですか" in text and "お送りください" not in text
    assert "はい、キャンセルします\n  https://jobs.example.com/c/" in text and "?do=cancel" in text
    assert "https://jobs.example.com/c/" in mail.get_body(("html",)).get_content()


def test_an_empty_message_is_an_error_tied_to_its_field_which_gets_the_focus(phone, sms_svc, sms_client):
    page = _greeted_page(phone, sms_client)
    res = sms_client.post(f"{page.path}/write", data={"csrf": page.csrf(), "text": "  "})
    assert res.status_code == 303 and "write=write_empty" in res.headers["Location"]
    page.open(urlsplit(res.headers["Location"]).query)
    field = re.search(r"<textarea[^>]*>", page.html).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="write-error"' in field and "autofocus" in field
    assert 'id="write-error"' in page.html and "メッセージをご入力ください。" in page.html
    page.open()
    assert "aria-invalid" not in page.html  # no error, no mark


def test_the_page_has_the_company_header_one_h1_and_landmarks(phone, sms_svc, sms_client):
    page = _greeted_page(phone, sms_client)
    assert page.html.count("<h1") == 1
    header = page.html[page.html.index("<header"):page.html.index("</header>")]
    assert "株式会社そよかぜベーカリー" in header and 'hreflang="en"' in header
    assert page.html.index("</header>") < page.html.index("<main") < page.html.index("</main>") < page.html.index(
        "<footer")


def test_an_old_mail_link_to_a_time_no_longer_offered_says_so_and_books_nothing(phone, sms_svc, sms_client):
    page = _greeted_page(phone, sms_client)
    page.open("slot=20991231T0100Z")
    assert 'id="book-chosen"' not in page.html and "ただいまご案内できなくなりました" in page.html
    assert len(page.times()) == 3 and _bookings(sms_svc, phone.id) == []

