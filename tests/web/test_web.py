"""Every page and endpoint answers bad input with a clear 4xx, never a 500, and writes nothing."""
import re

import pytest
from sqlmodel import Session, func, select

from bot.db.models import Applicant, InboundEvent, MessageLog
from tests.recruiters import sign_in


def count(svc, model):
    with Session(svc.engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_healthz_answers_when_the_database_does(client):
    res = client.get("/healthz")
    assert res.status_code == 200 and res.get_json()["database"] == "ok"


def test_healthz_says_503_when_the_database_is_gone(client, svc):
    from sqlalchemy import create_engine
    svc.engine = create_engine("sqlite:////nonexistent-dir/x.sqlite3")
    assert client.get("/healthz").status_code == 503


def test_apply_form_is_japanese_by_default_and_english_on_request(client):
    ja = client.get("/apply").get_data(as_text=True)
    assert "応募フォーム" in ja and "連絡がつきやすい時間帯" in ja
    en = client.get("/apply?lang=en").get_data(as_text=True)
    assert "How would you like us to contact you?" in en
    assert "Apply" in client.get("/apply", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)


def test_apply_for_an_unknown_job_is_404(client):
    assert client.get("/apply/astronaut").status_code == 404


def _csrf(client, path="/apply"):
    return client.get(path).get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]


def test_form_application_redirects_to_thanks_with_a_chat_link(client, svc):
    res = client.post("/apply/bakery-staff", data={"csrf": _csrf(client, "/apply/bakery-staff"), "name": "田中 一郎",
                      "channel": "sms", "phone": "080-1111-2222", "window_days": "weekdays",
                      "window_from": "18:00", "window_to": "21:00", "consent": "yes"})
    assert res.status_code == 303
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "チャットを開く" in page
    with Session(svc.engine) as s:
        a = s.exec(select(Applicant)).one()
    assert a.phone == "+818011112222" and a.source == "web-form" and a.contact_window["from"] == "18:00"


def test_form_errors_are_shown_in_japanese_and_nothing_is_stored(client, svc):
    res = client.post("/apply", data={"csrf": _csrf(client), "name": "", "channel": "sms", "phone": "12",
                                      "job": "bakery-staff"})
    assert res.status_code == 422
    page = res.get_data(as_text=True)
    assert "お名前を入力してください" in page and "携帯電話番号を正しく入力してください" in page
    assert count(svc, Applicant) == 0


def test_form_post_without_its_token_is_refused(client, svc):
    res = client.post("/apply", data={"name": "x", "channel": "sms", "phone": "09012345678", "job": "bakery-staff"})
    assert res.status_code == 400 and count(svc, Applicant) == 0


@pytest.mark.parametrize("body", [None, "text", [], {}, {"text": ""}, {"text": 5}, {"postback": ""},
                                  {"text": "x" * 2001}, {"text": "hi", "id": 5}, {"text": "hi", "id": "x" * 65}])
def test_chat_say_refuses_bad_bodies_and_stores_nothing(chat, client, svc, body):
    chat.apply()
    res = client.post(f"/chat/{chat.token}/say", json=body) if body is not None else \
        client.post(f"/chat/{chat.token}/say", data="{", content_type="application/json")
    assert res.status_code == 400 and res.get_json()["reason"]
    assert count(svc, MessageLog) == 0 and count(svc, InboundEvent) == 0


def test_unknown_chat_and_bad_cursor_are_4xx(chat, client):
    chat.apply()
    assert client.get("/chat/nope").status_code == 404
    assert client.post("/chat/nope/say", json={"text": "1"}).status_code == 404
    assert client.get(f"/chat/{chat.token}/messages?after=abc").status_code == 400


def test_recruiter_page_needs_signing_in(client):
    assert client.get("/recruiter").headers["Location"].endswith("/recruiter/sign-in")
    assert client.get("/recruiter/sign-in/guess").status_code == 410
    sign_in(client)
    assert client.get("/recruiter").status_code == 200


def test_recruiter_actions_need_the_form_token(chat, client):
    chat.apply()
    chat.replies()
    chat.say("1")
    sign_in(client)
    assert client.post(f"/recruiter/applicants/{chat.id}/resume", data={}).status_code == 400
    client.get("/recruiter")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    assert client.post(f"/recruiter/applicants/{chat.id}/explode", data={"csrf": csrf}).status_code == 404
    assert client.post("/recruiter/applicants/9999/resume", data={"csrf": csrf}).status_code == 404


def test_unknown_feed_and_booking_tokens_are_404(client):
    assert client.get("/calendar/guess.ics").status_code == 404
    assert client.get("/booking/guess.ics").status_code == 404


def test_candidate_calendar_file_parses_and_goes_away_when_cancelled(chat, client):
    import icalendar

    chat.apply()
    chat.replies()
    chat.say("1")
    link = next(w for w in chat.replies()[-1]["text"].split() if "/booking/" in w)
    path = link.replace("http://localhost", "")
    ics = client.get(path)
    assert ics.status_code == 200
    event = icalendar.Calendar.from_ical(ics.data).walk("VEVENT")[0]
    assert "面接" in str(event["SUMMARY"])
    chat.say("キャンセル")
    assert client.get(path).status_code == 200  # asked first: nothing is cancelled yet
    chat.say("はい")
    assert client.get(path).status_code == 410


def test_recruiter_reads_a_conversation_without_speaking_as_the_candidate(chat, client):
    chat.apply()
    chat.replies()
    chat.say("1")
    chat.replies()
    assert client.get(f"/recruiter/applicants/{chat.id}").status_code == 302  # to the sign-in page
    sign_in(client)
    page = client.get(f"/recruiter/applicants/{chat.id}").get_data(as_text=True)
    assert "予約済み" in page and "山田 花子さん、はじめまして" in page and "確定しました" in page
    assert "<form" not in page.split("</nav>", 1)[1]  # the bar above has sign-out; the conversation has no form
    assert client.get("/recruiter/applicants/999").status_code == 404


def test_after_cancelling_one_tap_books_again(chat):
    chat.apply()
    chat.replies()
    chat.say("1")
    chat.replies()
    chat.say("キャンセル")
    chat.say(postback="cancel:yes")
    button = chat.replies()[-1]["buttons"][0]
    assert button == {"label": "もう一度予約する", "data": "book"}
    chat.say(postback="book")
    assert chat.state() == "greeted"


def test_a_served_app_settles_its_memory_after_start_and_a_test_app_does_not(tmp_path):
    """A real web process (services from the environment) freezes what it loaded and collects young
    objects less often; an app built around handed-in services (tests) leaves the collector alone."""
    import json
    import os
    import subprocess
    import sys

    script = ("import gc, json; from bot import create_app; before = gc.get_threshold(); create_app(); "
              "print(json.dumps([gc.get_freeze_count() > 0, gc.get_threshold()[0], before[0]]))")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
           "SECRET_KEY": "test-secret-key-0123456789abcdef"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert done.returncode == 0, done.stderr
    frozen, threshold, before = json.loads(done.stdout.strip().splitlines()[-1])
    assert frozen and threshold == 20_000 and before == 700
    import gc

    assert gc.get_threshold()[0] != 20_000  # this test process built its apps with handed-in services


def test_the_recruiters_conversation_view_keeps_phone_numbers_dates_and_times_on_one_line(chat, client):
    chat.apply(locale="en", email="<b>x</b>@example.com")
    chat.replies()
    chat.say("Is 03-6820-1234 <b>your</b> number?")
    chat.replies()
    sign_in(client)
    page = client.get(f"/recruiter/applicants/{chat.id}").get_data(as_text=True)
    assert '<span class="nowrap">03-6820-1234</span>' in page  # the number we call from, in the greeting
    assert re.search(r'<span class="nowrap">(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\xa0\d{1,2}\xa0[A-Z][a-z]{2},', page)
    assert "&lt;b&gt;your&lt;/b&gt;" in page and "<b>" not in page  # the candidate's words stay text


def test_a_hand_off_the_recruiter_closed_is_marked_answered_in_the_alerts(chat, client):
    chat.apply()
    chat.replies()
    chat.say("駐車場はありますか？")
    chat.replies()
    sign_in(client)
    page = client.get("/recruiter/").get_data(as_text=True)
    alerts = page.split('id="alerts"')[1].split("</ul>")[0]
    assert "駐車場はありますか？" in alerts and "対応済み" not in alerts
    with client.session_transaction() as session:
        token = session["csrf"]
    assert client.post(f"/recruiter/applicants/{chat.id}/resume", data={"csrf": token}).status_code == 303
    alerts = client.get("/recruiter/").get_data(as_text=True).split('id="alerts"')[1].split("</ul>")[0]
    assert "駐車場はありますか？" in alerts and "対応済み" in alerts  # still there to read, no longer waiting


def test_the_recruiter_list_shows_the_latest_interview_when_every_booking_was_cancelled(chat, client, svc):
    from bot.core.messages import format_slot
    from bot.db.models import Booking

    chat.apply()
    chat.say("1")
    chat.say("変更")
    chat.say("1")  # the first time of the new offer: a second booking, the first one cancelled
    chat.say("キャンセル")
    chat.say("はい")
    with Session(svc.engine) as s:
        first, second = s.exec(select(Booking).order_by(Booking.id)).all()
    assert first.status == second.status == "cancelled" and first.start_at != second.start_at
    sign_in(client)
    row = client.get("/recruiter/").get_data(as_text=True).split('<td class="when">')[1].split("</td>")[0]
    assert format_slot(second.start_at, svc.settings.tz, "ja", second.end_at) in row and "キャンセル" in row
