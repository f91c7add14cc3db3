"""Opt-outs belong to the address: STOP, a LINE block or an e-mail unsubscribe hold for every application of
that person, a new one included, until they opt back in from that address; the same person is recognised."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot import create_app
from bot.db.engine import session_scope
from bot.db.models import Applicant, ContactOptOut
from bot.service.delivery import run_once
from bot.service.outbox import enqueue
from tests.conftest import AUTH, START, Chat, FakeClock, application, make_services
from tests.conftest import stored_applicant as _applicant
from tests.conftest import stored_outbox as _rows
from tests.recruiters import sign_in


def _opt_outs(svc) -> list[tuple[str, str, str]]:
    with Session(svc.engine) as s:
        return sorted((r.channel, r.address, r.reason) for r in s.exec(select(ContactOptOut)))


def _recruiter_page(client) -> str:
    sign_in(client)
    res = client.get("/recruiter")
    assert res.status_code == 200
    return res.get_data(as_text=True)


def _words(page: str) -> str:
    """The page's text without its tags (a date may sit in a span that keeps it on one line)."""
    import re

    return re.sub(r"<[^>]+>", "", page)


def _mails_to(smtp_server, address):
    return [mail for _, recipients, mail in smtp_server.inbox.mails if address in recipients]


# --- SMS: STOP holds for the number, START brings it back ------------------------------------------------

def test_stop_by_sms_then_a_new_application_with_that_number_is_greeted_by_email_not_sms(
        phone, sms_client, sms_svc, smtp_server):
    first = phone.apply()
    phone.inbox()
    phone.text("STOP")
    assert _opt_outs(sms_svc) == [("sms", "+819012345678", "stop_word")]

    second = phone.apply(job="store-manager")  # the same number, through the intake API
    assert phone.inbox() == []  # not one SMS: the number said STOP
    (greeting,) = _mails_to(smtp_server, "hanako@example.com")
    assert "山田 花子さん" in greeting.get_body(("plain",)).get_content()
    assert [r.channel for r in _rows(sms_svc, second, kind="greeting")] == ["email"]
    assert not _applicant(sms_svc, second).opted_out  # this application is live, only its SMS is held

    page = _recruiter_page(sms_client)
    assert "SMS停止中 (STOP 2026-11-30)" in _words(page)
    assert '<span class="via">（メールでお送りしています）</span>' in page and "sms →" not in page
    assert f'/recruiter/applicants/{first}">#{first}</a>' in page  # one person, two applications


def _breakable_dates(page: str) -> list[str]:
    """Dates and times of the page's text that sit outside any element kept on one line."""
    import re
    from html.parser import HTMLParser

    moments = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}-\d{2} \d{1,2}:\d{2}")
    found: list[str] = []

    class Walk(HTMLParser):
        stack: list[bool] = []

        def handle_starttag(self, tag, attrs):
            if tag in ("br", "input", "meta", "link", "img"):
                return
            classes = (dict(attrs).get("class") or "").split()
            self.stack.append("nowrap" in classes or "when" in classes or tag == "th")

        def handle_endtag(self, tag):
            if tag not in ("br", "input", "meta", "link", "img") and self.stack:
                self.stack.pop()

        def handle_data(self, data):
            if not any(self.stack):
                found.extend(moments.findall(data))

    Walk().feed(page[page.index("<body"):])
    return found


def test_the_recruiter_page_keeps_every_date_and_time_on_one_line(phone, sms_client, sms_svc, smtp_server):
    phone.apply()
    phone.inbox()
    phone.text("STOP")  # an alert with its time, and "SMS停止中 (STOP 2026-11-30)" in the contact column
    phone.apply(job="store-manager")
    page = _recruiter_page(sms_client)
    assert "SMS停止中 (STOP 2026-11-30)" in _words(page) and "配信停止の連絡" in page
    assert _breakable_dates(page) == []


def test_stop_by_sms_holds_for_an_application_through_the_web_form_too(phone, sms_client, sms_svc, smtp_server):
    phone.apply()
    phone.inbox()
    phone.text("STOP")
    form = sms_client.get("/apply/store-manager").get_data(as_text=True)
    csrf = form.split('name="csrf" value="')[1].split('"')[0]
    res = sms_client.post("/apply/store-manager", data={
        "csrf": csrf, "name": "山田 花子", "channel": "sms", "phone": "090 1234 5678", "email": "hanako@example.com",
        "window_days": "any", "window_from": "09:00", "window_to": "21:00", "consent": "yes"})
    assert res.status_code == 303
    assert phone.inbox() == []
    # The form reads only the chosen channel's address (the e-mail typed with SMS chosen is not kept), so no
    # other channel of theirs is known to greet them on.
    assert _mails_to(smtp_server, "hanako@example.com") == []


def test_start_by_sms_brings_sms_back_for_every_application_of_that_number(phone, sms_svc, smtp_server):
    first = phone.apply()
    phone.inbox()
    phone.text("STOP")
    second = phone.apply(job="store-manager")
    assert phone.inbox() == []

    phone.text("START")  # Twilio routes the number's replies to its latest application
    assert _opt_outs(sms_svc) == []
    phone.text("1")
    (booked,) = phone.inbox()  # the answer for the new application comes by SMS again
    assert "確定" in booked.body
    assert _applicant(sms_svc, second).state == "booked"
    assert _applicant(sms_svc, first).state == "opted_out"  # the application that was stopped stays quiet

    third = phone.apply(job="bakery-staff", external_id="again-3")
    assert phone.inbox() == []  # greeted today already: the conversation about the interview goes on
    assert _applicant(sms_svc, third).person_id == first and _applicant(sms_svc, third).state == "new"


def test_the_outbox_refuses_an_opted_out_number_whatever_application_wrote_the_message(phone, sms_svc):
    first = phone.apply()
    phone.inbox()
    second = phone.apply(job="store-manager")  # kept without a greeting: the number was greeted today
    phone.inbox()
    phone.text("STOP")  # reaches the application that talks with them; the number is what stopped
    with session_scope(sms_svc.engine) as s:
        row = enqueue(s, sms_svc, s.get(Applicant, second), {"kind": "help", "text": "テスト"}, channel="sms")
    assert phone.inbox() == []
    (refused,) = _rows(sms_svc, second, id=row.id)
    assert refused.status == "cancelled" and "sms address opted out (stop_word, 2026-11-30)" in refused.last_error
    assert _applicant(sms_svc, first).opted_out and not _applicant(sms_svc, second).opted_out


def test_twilio_21610_holds_the_number_for_a_new_application(phone, sms_svc, fake_twilio, smtp_server):
    fake_twilio.blocked.add(phone.number)  # the number opted out at the carrier before we knew
    phone.apply()
    assert phone.inbox() == []
    assert _opt_outs(sms_svc) == [("sms", "+819012345678", "carrier")]
    second = phone.apply(job="store-manager")
    assert phone.inbox() == [] and len(fake_twilio.created) == 0
    assert [r.channel for r in _rows(sms_svc, second, kind="greeting")] == ["email"]


# --- LINE: a block holds for the LINE user until they follow again ----------------------------------------

def _apply_on_line(line_user, **fields):
    res = line_user.client.post("/api/applications", headers=AUTH,
                                json=application(channel="line", line_user_id=line_user.user_id, **fields))
    assert res.status_code == 201, res.get_json()  # a second application of the same LINE user, not a 422
    return res.get_json()["id"]


def test_line_unfollow_then_a_new_application_for_that_line_user_gets_no_line_push(line_user, line_svc, fake_line):
    first = _apply_on_line(line_user)
    assert len(line_user.inbox()) == 1
    line_user.unfollow()
    assert line_user.inbox() == []  # the worker runs the event
    assert _opt_outs(line_svc) == [("line", line_user.user_id, "blocked")]

    second = _apply_on_line(line_user, job="store-manager")
    assert line_user.inbox() == []  # no push to a user who blocked us
    assert [r.channel for r in _rows(line_svc, second, kind="greeting")] == ["sandbox"]  # e-mail, no transport here
    assert _applicant(line_svc, second).line_user_id == line_user.user_id  # the newest application has LINE now
    assert _applicant(line_svc, first).line_user_id is None
    assert _applicant(line_svc, second).person_id == first

    line_user.follow()  # back in: the conversation picks up on LINE
    assert len(line_user.inbox()) == 1
    assert _opt_outs(line_svc) == []


def test_a_line_users_earlier_application_keeps_line_while_its_interview_is_booked(line_user, line_svc):
    first = _apply_on_line(line_user)
    line_user.inbox()
    line_user.say("3")  # the latest time offered, two days ahead
    line_user.inbox()
    line_svc.clock.advance(hours=25)  # the next day: a greeting a day (the same day, the second would be kept quiet)
    second = _apply_on_line(line_user, job="store-manager")
    assert _applicant(line_svc, first).line_user_id == line_user.user_id
    assert _applicant(line_svc, second).line_user_id is None and _applicant(line_svc, second).person_id == first
    assert [r.payload["reason"] for r in _rows(line_svc, second, channel="recruiter")] == ["line_kept"]
    assert [r.channel for r in _rows(line_svc, second, kind="greeting")] == ["sandbox"]  # by e-mail instead


def _apply_on_the_web_for_line(line_user, **fields):
    res = line_user.client.post("/api/applications", headers=AUTH, json=application(channel="line", **fields))
    assert res.status_code == 201, res.get_json()
    return res.get_json()["id"], res.get_json()["line_link_code"]


def test_a_line_user_who_applies_again_on_the_web_moves_the_conversation_with_the_new_code(line_user, line_svc):
    first = _apply_on_line(line_user)
    line_user.inbox()
    second, code = _apply_on_the_web_for_line(line_user, job="store-manager")
    line_user.say(code)  # not a question for a person: the code of their new application
    [greeting] = line_user.inbox()  # one push: the greeting in its parts, the times last
    assert "山田 花子さん" in greeting[0]["text"] and "quickReply" in greeting[-1]
    assert _applicant(line_svc, second).line_user_id == line_user.user_id
    assert _applicant(line_svc, first).line_user_id is None and _applicant(line_svc, first).state == "greeted"
    assert _applicant(line_svc, second).person_id == first


def test_a_new_code_while_an_interview_is_booked_keeps_line_on_that_interview(line_user, line_svc):
    first = _apply_on_line(line_user)
    line_user.inbox()
    line_user.say("1")
    line_user.inbox()
    second, code = _apply_on_the_web_for_line(line_user, job="store-manager")
    line_user.say(code)
    [[answer]] = line_user.inbox()
    assert "ご予約中の面接が終わるまで" in answer["text"]
    assert _applicant(line_svc, first).line_user_id == line_user.user_id
    assert _applicant(line_svc, first).state == "booked"
    # Greeted today by phone and e-mail already: the recruiter hears of both, the person of the interview booked.
    reasons = [r.payload["reason"] for r in _rows(line_svc, second, channel="recruiter")]
    assert reasons == ["applied_again", "line_kept"]


# --- E-mail: an unsubscribed address gets no mail until the person resubscribes ----------------------------

def _to_candidates(smtp_server) -> list:
    """Mails to candidates, without the recruiters' alerts (bot/service/notify.py) the admin signed in gets."""
    return [m for m in smtp_server.mails if not m["To"].startswith("admin@")]


def _unsubscribe_path(smtp_server) -> str:
    return smtp_server.mails[-1]["List-Unsubscribe"].strip("<>").removeprefix("https://jobs.example.com")


def test_email_unsubscribe_then_a_new_application_gets_no_email(sms_client, sms_svc, smtp_server, fake_twilio):
    chat = Chat(sms_client, sms_svc)
    chat.apply(channel="email", phone=None)
    chat.replies()
    path = _unsubscribe_path(smtp_server)
    assert sms_client.post(path).status_code == 200
    assert _opt_outs(sms_svc) == [("email", "hanako@example.com", "unsubscribed")]
    mails = len(smtp_server.mails)

    again = Chat(sms_client, sms_svc)
    # same address, other case
    again.apply(channel="email", email="Hanako@Example.com", phone=None, job="store-manager")
    again.replies()
    assert len(smtp_server.mails) == mails  # nothing by e-mail
    assert _rows(sms_svc, again.id, kind="greeting") == []  # and no other address to use: no message at all
    (alert,) = _rows(sms_svc, again.id, channel="recruiter")
    assert alert.payload["reason"] == "all_opted_out"
    assert "メール配信停止中 (配信停止リンク 2026-11-30)" in _words(_recruiter_page(sms_client))
    again.say("面接を予約したい")  # on their own chat page: answered there, still no e-mail (the admin's alert aside)
    assert again.replies() and len(_to_candidates(smtp_server)) == mails

    with_phone = Chat(sms_client, sms_svc)
    with_phone.apply(channel="email", job="store-manager", external_id="with-phone")
    with_phone.replies()
    assert len(_to_candidates(smtp_server)) == mails
    assert [sms.to for sms in fake_twilio.created] == ["+819012345678"] * 2


def test_the_resubscribe_button_brings_email_back(sms_client, sms_svc, smtp_server):
    chat = Chat(sms_client, sms_svc)
    chat.apply(channel="email", phone=None)
    chat.replies()
    path = _unsubscribe_path(smtp_server)
    page = sms_client.post(path).get_data(as_text=True)
    assert f'action="{path}/resume"' in page
    assert sms_client.post(f"{path}/resume").status_code == 200
    assert _opt_outs(sms_svc) == [] and not _applicant(sms_svc, chat.id).opted_out
    chat.replies()
    assert "おかえりなさい" in str(smtp_server.mails[-1]["Subject"]) + smtp_server.mails[-1].get_body(
        ("plain",)).get_content()


# --- The same person applying twice -----------------------------------------------------------------------

def test_the_same_phone_applying_twice_is_one_person_with_two_applications_on_the_recruiter_page(client, svc):
    first = Chat(client, svc)
    first.apply(email="hanako@example.com")
    second = Chat(client, svc)
    second.apply(email="other@example.com", phone="+81 90-1234-5678", job="store-manager")  # written differently
    stranger = Chat(client, svc)
    stranger.apply(name="佐藤 次郎", email="jiro@example.com", phone="080-9999-0000")
    assert _applicant(svc, first.id).person_id == first.id
    assert _applicant(svc, second.id).person_id == first.id
    assert _applicant(svc, stranger.id).person_id == stranger.id

    page = _recruiter_page(client)
    assert page.count("同じ方の1件目の応募") == 1 and page.count("同じ方の2件目の応募") == 1
    assert f'/recruiter/applicants/{second.id}">#{second.id}</a>' in page
    assert f'/recruiter/applicants/{first.id}">#{first.id}</a>' in page


def test_the_same_email_in_another_case_is_the_same_person(client, svc):
    first = Chat(client, svc)
    first.apply(phone=None, channel="email")
    second = Chat(client, svc)
    second.apply(phone=None, channel="email", email="HANAKO@example.com")
    assert _applicant(svc, second.id).person_id == first.id


# --- PostgreSQL -------------------------------------------------------------------------------------------

@pytest.mark.postgres
def test_stop_then_a_new_application_on_postgresql(pg_url):
    svc = make_services(pg_url, FakeClock(START))
    try:
        client = create_app(services=svc).test_client()
        first = Chat(client, svc)
        first.apply(external_id="pg-stop-1")
        first.replies()
        first.say("配信停止")
        assert _opt_outs(svc) == [("sms", "+819012345678", "stop_word")]
        second = Chat(client, svc)
        second.apply(external_id="pg-stop-2", job="store-manager")
        assert [r.channel for r in _rows(svc, second.id, kind="greeting")] == ["sandbox"]  # e-mail, no transport
        assert _applicant(svc, second.id).person_id == first.id
        while run_once(svc, "pg-worker"):
            pass
    finally:
        svc.engine.dispose()
