"""E-mail through a real SMTP server on loopback (aiosmtpd): multipart, UTF-8, unsubscribe, .ics."""
from __future__ import annotations

import pytest
from icalendar import Calendar
from sqlmodel import Session, select

from bot.channels.email.adapter import MailChannel
from bot.core.transport import Outgoing, PermanentError, TemporaryError
from bot.db.models import Applicant, Booking, Outbox
from tests.conftest import Chat


def _email_chat(sms_client, sms_svc, **fields) -> Chat:
    chat = Chat(sms_client, sms_svc)
    chat.apply(channel="email", **fields)
    return chat


def test_greeting_mail_is_multipart_japanese_with_unsubscribe(sms_client, sms_svc, smtp_server):
    chat = _email_chat(sms_client, sms_svc)
    (greeting,) = chat.replies()
    assert "山田 花子さん" in greeting["text"]
    ((sender, recipients, mail),) = smtp_server.inbox.mails
    assert sender == "saiyo@soyokaze.example" and recipients == ["hanako@example.com"]
    assert str(mail["Subject"]) == "ご応募ありがとうございます（株式会社そよかぜベーカリー）"
    assert "=?utf-8?" in mail.as_string().split("\n\n")[0].lower()  # headers encoded, not raw UTF-8
    assert mail["From"].addresses[0].display_name == "株式会社そよかぜベーカリー"
    assert mail["To"].addresses[0].display_name == "山田 花子"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "山田 花子さん" in text and "1) " in text and "https://jobs.example.com/c/" in text  # the page, not a reply
    assert '<a href="https://video.example.com/soyokaze-day" style=' in html  # the content as a list of links
    assert '<meta name="viewport"' in html and '<html lang="ja">' in html
    assert mail["List-Unsubscribe"].startswith("<https://jobs.example.com/u/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with Session(sms_svc.engine) as s:
        row = s.exec(select(Outbox).where(Outbox.kind == "greeting")).one()
        assert row.status == "sent" and row.provider_message_id == mail["Message-ID"]
        assert row.idempotency_key in mail["Message-ID"]


def test_booking_confirmation_carries_an_ics_invitation(sms_client, sms_svc, smtp_server):
    chat = _email_chat(sms_client, sms_svc)
    chat.replies()
    chat.say("1")
    (booked,) = chat.replies()
    assert "確定" in booked["text"]
    mail = smtp_server.mails[-1]
    assert "面接のご予約が確定しました" in str(mail["Subject"]) and mail.get_content_type() == "multipart/mixed"
    (invite,) = [part for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert invite.get_filename() == "interview.ics" and invite.get_param("method") == "REQUEST"
    cal = Calendar.from_ical(invite.get_content())
    (event,) = cal.walk("VEVENT")
    with Session(sms_svc.engine) as s:
        booking = s.exec(select(Booking)).one()
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"booking-{booking.token}@sokuresu"
    assert event.decoded("DTSTART") == booking.start_at and event.decoded("DTEND") == booking.end_at
    assert str(event["ORGANIZER"]) == "mailto:saiyo@soyokaze.example"
    assert str(event["ATTENDEE"]) == "mailto:hanako@example.com"
    assert "株式会社そよかぜベーカリー 面接" == str(event["SUMMARY"])


def test_one_click_unsubscribe_opts_out_but_a_scanner_opening_the_link_does_not(sms_client, sms_svc, smtp_server):
    chat = _email_chat(sms_client, sms_svc)
    chat.replies()
    link = smtp_server.mails[0]["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("https://jobs.example.com")
    assert sms_client.get(path).status_code == 200
    with Session(sms_svc.engine) as s:
        assert not s.get(Applicant, chat.id).opted_out
    res = sms_client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert res.status_code == 200 and "配信を停止しました" in res.get_data(as_text=True)
    with Session(sms_svc.engine) as s:
        assert s.get(Applicant, chat.id).opted_out
    assert sms_client.post(path[:-3] + "xyz").status_code == 404


def test_english_mail(sms_client, sms_svc, smtp_server):
    chat = _email_chat(sms_client, sms_svc, locale="en", name="Hanako Yamada")
    chat.replies()
    mail = smtp_server.mails[0]
    assert str(mail["Subject"]) == "Thank you for applying to Soyokaze Bakery Co."
    text = mail.get_body(("plain",)).get_content()
    assert "This address does not receive mail" in text and "Please tap the time that suits you." in text
    assert '<html lang="en">' in mail.get_body(("html",)).get_content()


def _message(**address) -> Outgoing:
    return Outgoing("email", {"email": "hanako@example.com", "token": "t", "name": "山田 花子", **address},
                    {"kind": "help", "text": "テスト", "facts": {"company": "そよかぜ"}}, "key-1", "ja")


def test_refused_recipient_fails_with_the_reason(sms_svc, smtp_server):
    smtp_server.inbox.refuse.add("hanako@example.com")
    channel = sms_svc.channels["email"]
    try:
        channel.send(_message())
    except PermanentError as exc:
        assert "550" in str(exc)
    else:
        raise AssertionError("a 550 must be permanent")


def test_unreachable_server_is_retried(sms_svc):
    from dataclasses import replace

    from tests.fakes.smtp_server import free_port

    channel = MailChannel(replace(sms_svc.config, smtp_url=f"smtp://127.0.0.1:{free_port()}"), timeout=2)
    try:
        channel.send(_message())
    except TemporaryError as exc:
        assert "unreachable" in str(exc)
    else:
        raise AssertionError("a closed port must be temporary")


def test_no_address_is_permanent(sms_svc):
    try:
        sms_svc.channels["email"].send(_message(email=None))
    except PermanentError as exc:
        assert "no e-mail address" in str(exc)


def test_smtp_url_credentials_and_scheme_are_read(sms_svc):
    from dataclasses import replace

    channel = MailChannel(replace(sms_svc.config, smtp_url="smtps://user%40corp:p%3Ass@mail.example.com:2465"))
    assert (channel.url.scheme, channel.url.hostname, channel.url.port) == ("smtps", "mail.example.com", 2465)
    assert channel.url.username == "user%40corp"  # percent-decoded only when logging in


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback only
def test_login_uses_the_percent_decoded_credentials_from_smtp_url(sms_svc):
    from dataclasses import replace

    from tests.fakes.smtp_server import SmtpServer

    server = SmtpServer(login=("saiyo@soyokaze.example", "p@ss:word")).start()
    try:
        good = f"smtp://saiyo%40soyokaze.example:p%40ss%3Aword@127.0.0.1:{server.port}"
        MailChannel(replace(sms_svc.config, smtp_url=good)).send(_message())
        assert len(server.mails) == 1
        bad = f"smtp://saiyo%40soyokaze.example:wrong@127.0.0.1:{server.port}"
        try:
            MailChannel(replace(sms_svc.config, smtp_url=bad)).send(_message())
        except TemporaryError as exc:  # a wrong password is fixed in the settings; the mail waits
            assert "login refused" in str(exc)
        else:
            raise AssertionError("a refused login must be temporary")
    finally:
        server.stop()


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_thank_you_after_an_attended_interview_does_not_point_to_the_closed_page(sms_svc, locale):
    channel = sms_svc.channels["email"]
    thanks = Outgoing("email", {"email": "hanako@example.com", "token": "t", "name": "山田 花子"},
                      {"kind": "thanks_after", "text": "ありがとうございました。", "facts": {"company": "そよかぜ"}},
                      "key-2", locale)
    mail = channel.compose(thanks)
    text = mail.get_body(("plain",)).get_content()
    assert "/c/" not in text and "/c/" not in mail.get_body(("html",)).get_content()  # the page is closed (410) now
    assert "/u/" in text  # the way to stop messages stays
    assert "/c/" in channel.compose(_message()).get_body(("plain",)).get_content()  # other mails keep the page link


def test_a_mail_never_speaks_of_buttons_or_answers_and_a_date_menu_links_to_the_page(sms_svc):
    payload = {"kind": "date_menu", "facts": {"company": "Soyokaze"},
               "text": "These days still have free times. Which would you like? Reply with its number or a date "
                       "(e.g. Thu 3 Dec).\n1) Thu 3 Dec\n2) Fri 4 Dec\nOr just press a button below.",
               "buttons": [{"label": "1) Thu 3 Dec", "data": "date:2026-12-03"},
                           {"label": "2) Fri 4 Dec", "data": "date:2026-12-04"}]}
    mail = sms_svc.channels["email"].compose(Outgoing("email", {"email": "hanako@example.com", "token": "t"},
                                                      payload, "key-3", "en"))
    text = mail.get_body(("plain",)).get_content().split("\n--\n")[0]
    assert "Which would you like?" in text and "Thu 3 Dec)" not in text  # "e.g." ends no sentence
    assert "button" not in text.lower() and "Reply with" not in text
    assert "See the free days\n  https://jobs.example.com/c/" in text
