"""Reminders and nudges through the whole service: outbox rows, confirmation by '1', reschedule, quiet hours."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.db.models import Applicant, Booking, Outbox
from tests.conftest import Chat, RecordingChannel

TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo(*args):
    return datetime(*args, tzinfo=TOKYO).astimezone(timezone.utc)


@pytest.fixture
def sms(svc):
    svc.channels["sms"], svc.channels["email"] = RecordingChannel(), RecordingChannel()
    return svc.channels["sms"]


@pytest.fixture
def cand(client, svc, sms):
    """A candidate who applied by SMS (with an e-mail too) on Monday 30 November, 09:00 in Tokyo."""
    chat = Chat(client, svc)
    chat.apply()
    chat.replies()
    return chat


def rows(svc, **where):
    with Session(svc.engine) as s:
        query = select(Outbox).order_by(Outbox.due_at, Outbox.id)
        for key, value in where.items():
            query = query.where(getattr(Outbox, key) == value)
        return s.exec(query).all()


def kinds(svc, status="pending"):
    return sorted(r.kind for r in rows(svc, status=status) if r.kind != "content")


def booking(svc):
    with Session(svc.engine) as s:
        return s.exec(select(Booking).order_by(Booking.id.desc())).first()


def applicant(svc, chat):
    with Session(svc.engine) as s:
        return s.get(Applicant, chat.id)


def test_booking_schedules_reminders_that_carry_the_booking_id(cand, svc):
    cand.say("2")  # Tuesday 1 December 13:00
    cand.replies()
    b = booking(svc)
    planned = {r.kind: r for r in rows(svc, status="pending", booking_id=b.id)}
    assert set(planned) == {"reminder_day_before", "unconfirmed_nudge", "unconfirmed_alert", "reminder_soon",
                            "outcome_request"}
    assert planned["outcome_request"].due_at == tokyo(2026, 12, 1, 14)  # half an hour after the interview
    assert planned["reminder_day_before"].due_at == tokyo(2026, 11, 30, 18)  # inside the 18:00-21:00 window
    assert planned["reminder_soon"].due_at == tokyo(2026, 12, 1, 10)
    assert planned["unconfirmed_nudge"].channel == "email" and planned["reminder_soon"].channel == "sms"
    assert [b["data"] for b in planned["reminder_day_before"].payload["buttons"]] == ["confirm", "reschedule", "cancel"]


def test_a_late_booking_gets_only_the_short_reminder(cand, svc):
    cand.say("1")  # today 11:30, two and a half hours away
    cand.replies()
    soon = [r for r in rows(svc, status="pending", booking_id=booking(svc).id) if r.channel != "recruiter"]
    assert [(r.kind, r.due_at) for r in soon] == [("reminder_soon", tokyo(2026, 11, 30, 10, 15))]


def test_reschedule_cancels_pending_reminders_and_schedules_new(cand, svc):
    cand.say("2")
    cand.replies()
    old = booking(svc)
    cand.say("変更")
    cand.replies()
    cand.say("3")
    cand.replies()
    new = booking(svc)
    assert new.id != old.id
    assert {r.status for r in rows(svc, booking_id=old.id)
            if r.kind.startswith(("reminder", "unconfirmed"))} == {"cancelled"}
    assert {r.kind for r in rows(svc, booking_id=new.id, status="pending")} >= {"reminder_day_before", "reminder_soon"}


def test_cancel_cancels_every_pending_reminder(cand, svc):
    cand.say("2")
    cand.replies()
    cand.say("キャンセル")
    cand.say("はい")  # after "really cancel?"
    cand.replies()
    assert rows(svc, booking_id=booking(svc).id, status="pending") == []


def test_answering_1_to_the_reminder_confirms_and_never_books(cand, svc, clock, sms):
    cand.say("2")
    cand.replies()
    clock.now = tokyo(2026, 11, 30, 18)
    reminder = cand.replies()[-1]
    assert "明日はいよいよ面接" in reminder["text"] and "「1」" in reminder["text"]
    cand.say("1")
    assert "ご返信ありがとうございます" in cand.replies()[-1]["text"]
    assert cand.state() == "confirmed"
    with Session(svc.engine) as s:
        assert len(s.exec(select(Booking)).all()) == 1
    b = booking(svc)
    assert b.status == "confirmed" and b.confirmed_at == clock.now
    assert {r.status for r in rows(svc, booking_id=b.id) if r.kind.startswith("unconfirmed")} == {"cancelled"}
    clock.now = tokyo(2026, 12, 1, 8)
    cand.replies()
    assert svc.channels["email"].sent == []


def test_answering_2_to_the_reminder_offers_new_times_and_keeps_the_booking(cand, svc, clock):
    cand.say("2")
    cand.replies()
    clock.now = tokyo(2026, 11, 30, 18)
    cand.replies()
    cand.say("2")
    assert "日程の変更ですね" in cand.replies()[-1]["text"]
    assert cand.state() == "rescheduling" and booking(svc).status == "booked"


def test_the_confirm_button_confirms(cand, svc, clock):
    cand.say("2")
    cand.replies()
    clock.now = tokyo(2026, 11, 30, 18)
    cand.replies()
    cand.say(postback="confirm")
    cand.replies()
    assert cand.state() == "confirmed"


def test_before_any_reminder_a_bare_number_does_not_confirm(cand, svc):
    cand.say("2")
    cand.replies()
    cand.say("1")
    assert "すでにご予約済み" in cand.replies()[-1]["text"]
    assert cand.state() == "booked"


def test_unconfirmed_candidate_gets_a_nudge_by_email_and_the_recruiter_an_alert(cand, svc, clock):
    cand.say("2")
    cand.replies()
    clock.now = tokyo(2026, 11, 30, 18)
    cand.replies()
    clock.now = tokyo(2026, 11, 30, 21)
    cand.replies()
    alert = rows(svc, kind="unconfirmed_alert")[0]
    assert (alert.status == "sent" and alert.payload["reason"] == "unconfirmed"
            and "03-6820-1234" in alert.payload["text"])
    assert svc.channels["email"].sent == []  # quiet hours: the candidate's nudge waits for the morning
    clock.now = tokyo(2026, 12, 1, 8)
    cand.replies()
    [mail] = svc.channels["email"].sent
    assert mail.payload["kind"] == "unconfirmed_nudge" and "「1」" in mail.payload["text"]


def test_the_unconfirmed_alert_speaks_of_a_missing_confirmation_not_a_reply(cand, svc, clock):
    cand.say("2")
    cand.replies()
    clock.now = tokyo(2026, 11, 30, 21)
    cand.replies()
    text = rows(svc, kind="unconfirmed_alert")[0].payload["text"]
    # One-way SMS and e-mail candidates confirm on their page and can never reply: "no reply yet" misleads.
    assert "返信" not in text and "参加の確認がまだありません" in text and "03-6820-1234" in text


def test_the_unconfirmed_alert_for_a_candidate_without_a_phone_asks_for_an_email_not_a_call(client, svc, clock, sms):
    chat = Chat(client, svc)
    chat.apply(channel="email", phone="")
    chat.replies()
    chat.say("2")
    chat.replies()
    clock.now = tokyo(2026, 11, 30, 21)
    chat.replies()
    text = rows(svc, kind="unconfirmed_alert")[0].payload["text"]
    assert "hanako@example.com" in text and "お電話で確認" not in text and "電話 -" not in text


def test_no_reply_nudges_rotate_channels_then_mark_unreachable(cand, svc, clock, sms):
    greeted = len(sms.sent)
    clock.now = tokyo(2026, 11, 30, 18)
    cand.replies()
    assert [m.payload["kind"] for m in sms.sent[greeted:]] == ["nudge"]
    clock.now = tokyo(2026, 12, 1, 18)
    cand.replies()
    assert [m.payload["kind"] for m in svc.channels["email"].sent] == ["nudge"]
    assert not applicant(svc, cand).unreachable
    clock.now = tokyo(2026, 12, 2, 18)
    cand.replies()
    assert applicant(svc, cand).unreachable
    assert rows(svc, kind="unreachable")[0].status == "sent"


def test_a_reply_stops_the_nudges(cand, svc, clock, sms):
    cand.say("ヘルプ")
    cand.replies()
    assert "nudge" not in kinds(svc)
    sent = len(sms.sent)
    clock.now = tokyo(2026, 12, 3, 18)
    cand.replies()
    assert len(sms.sent) == sent and not applicant(svc, cand).unreachable


def test_an_opted_out_candidate_gets_nothing_more(cand, svc, clock, sms):
    cand.say("2")
    cand.replies()
    cand.say("配信停止")
    cand.replies()
    sent = len(sms.sent)
    clock.now = tokyo(2026, 12, 1, 12)
    cand.replies()
    assert len(sms.sent) == sent and svc.channels["email"].sent == []


def test_a_nudge_the_worker_reaches_in_quiet_hours_waits_for_the_morning(cand, svc, clock, sms):
    sent = len(sms.sent)
    clock.now = tokyo(2026, 11, 30, 21, 30)  # the worker was down from 18:00 until now
    cand.replies()
    assert len(sms.sent) == sent
    nudge = rows(svc, kind="nudge", channel="sms")[0]
    assert nudge.status == "pending" and nudge.due_at == tokyo(2026, 12, 1, 8) and nudge.attempts == 0


def test_the_first_greeting_goes_out_at_once_even_at_night(client, svc, clock, sms):
    clock.now = tokyo(2026, 11, 30, 23, 40)
    chat = Chat(client, svc)
    chat.apply()
    chat.replies()
    assert sms.sent[0].payload["kind"] == "greeting"


def test_a_booking_without_reminders_gets_them_from_the_periodic_check(cand, svc, clock):
    from bot.service.followups import backfill

    cand.say("2")
    cand.replies()
    b = booking(svc)
    with Session(svc.engine) as s:  # as if the booking came from elsewhere (another path, or an old release)
        for r in s.exec(select(Outbox).where(Outbox.booking_id == b.id, Outbox.status == "pending")).all():
            s.delete(r)
        s.commit()
    clock.advance(minutes=5)
    assert backfill(svc) > 0
    assert backfill(svc) == 0
    assert {r.kind for r in rows(svc, booking_id=b.id, status="pending")} >= {"reminder_day_before", "reminder_soon"}


def test_recruiter_page_shows_upcoming_reminders_and_the_unconfirmed_alert(cand, svc, clock, client):
    from tests.recruiters import sign_in

    cand.say("2")
    cand.replies()
    sign_in(client)
    page = client.get("/recruiter/").get_data(as_text=True)
    assert "前日リマインド" in page and "直前リマインド" in page
    assert "前日リマインドに未返信" not in page  # not due yet: not an alert
    clock.now = tokyo(2026, 11, 30, 21)
    cand.replies()
    sign_in(client)  # twelve hours on, the morning's session has lapsed
    page = client.get("/recruiter/").get_data(as_text=True)
    assert "前日リマインドに未返信" in page and "+819012345678" in page and "03-6820-1234 から" in page


def test_the_outcome_link_in_the_recruiter_mail_marks_a_no_show(cand, svc, clock, client):
    cand.say("1")  # today 11:30-12:00
    cand.replies()
    clock.now = tokyo(2026, 11, 30, 12, 30)
    cand.replies()
    [ask] = rows(svc, kind="outcome_request")
    assert ask.status == "sent" and ask.channel == "recruiter"
    links = {link["title"]: link["url"].removeprefix("http://localhost") for link in ask.payload["links"]}
    no_show = links["不参加 / No-show"]
    assert "「不参加」として記録する" in client.get(no_show).get_data(as_text=True)
    assert cand.state() == "booked"  # opening the link (a mail scanner would) changes nothing
    forged = no_show.rsplit("/", 1)[0] + "/" + "0" * 32
    assert client.post(forged).status_code == 403
    page = client.get(no_show).get_data(as_text=True)
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    assert "記録しました" in client.post(no_show, data={"csrf": csrf, "confirm": "yes"}).get_data(as_text=True)
    assert cand.state() == "no_show"
    clock.advance(minutes=svc.settings.undo_minutes)  # the candidate hears once the recruiter can no longer undo
    assert "お会いできず残念" in cand.replies()[-1]["text"]
    assert "すでに記録済み" in client.get(links["参加 / Attended"]).get_data(as_text=True)


def test_marking_the_outcome_on_the_page_drops_the_mail_request(cand, svc, clock):
    from bot.core.events import Marked
    from bot.service.turn import handle

    cand.say("1")
    cand.replies()
    clock.now = tokyo(2026, 11, 30, 12, 5)
    handle(svc, cand.id, Marked("attended"))
    clock.now = tokyo(2026, 11, 30, 13)
    cand.replies()
    assert rows(svc, kind="outcome_request")[0].status == "cancelled"


def test_opting_back_in_brings_the_reminders_back(cand, svc, clock, sms):
    from bot.service.followups import backfill

    cand.say("2")
    cand.replies()
    cand.say("配信停止")
    cand.replies()
    clock.advance(minutes=5)
    assert backfill(svc) == 0  # stopped: nothing is planned for them
    cand.say("配信再開")
    cand.replies()
    assert backfill(svc) > 0
    assert "reminder_day_before" in kinds(svc)


def test_the_followups_command_lists_what_is_scheduled(cand, svc, db_url, monkeypatch):
    from click.testing import CliRunner

    from bot.cli import main

    cand.say("2")
    cand.replies()
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-0123456789abcdef")
    out = CliRunner().invoke(main, ["followups"]).output
    assert "reminder_day_before" in out and "2026-11-30 18:00 JST" in out
    assert "山田" not in out  # no personal data on the console
