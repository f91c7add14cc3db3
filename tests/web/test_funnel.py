"""Today and the funnel (issue 14): step counts and drop-offs, time to first contact, search, filters, paging, CSV,
and what an interviewer sees — on datasets built here, at the tests' fixed clock."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import Session

from bot.core.vocab import RECRUITER_CHANNEL, BookingStatus, Direction, Kind, OutboxStatus, Role
from bot.db.models import Applicant, Booking, MessageLog, Outbox
from bot.service import funnel
from tests.conftest import START
from tests.recruiters import sign_in

JST = timedelta(hours=9)


def add(session, n: int, *, minutes: float | None = None, answered=False, booked=None, confirmed=False,
        job="bakery-staff", channel="sms", source="indeed", name=None, phone=None, email=None, at=None,
        interviewer="sato", start=None, state="greeted", reminded=False) -> Applicant:
    """One application and what happened to it: greeted after `minutes`, a reply, a booking (and its status)."""
    created = at or START - timedelta(days=3)
    a = Applicant(name=name or f"候補者{n}", phone=phone or f"+8190{n:08d}", email=email or f"c{n}@example.com",
                  channel=channel, job_id=job, source=source, state=state, created_at=created, updated_at=created)
    session.add(a)
    session.flush()
    if minutes is not None:
        session.add(Outbox(applicant_id=a.id, channel=channel, kind=Kind.GREETING, due_at=created,
                           status=OutboxStatus.SENT, created_at=created, sent_at=created + timedelta(minutes=minutes)))
    session.add(Outbox(applicant_id=a.id, channel=RECRUITER_CHANNEL, kind=Kind.ALERT, due_at=created,
                       status=OutboxStatus.SENT, created_at=created, sent_at=created))  # never a first contact
    if answered:
        session.add(MessageLog(applicant_id=a.id, direction=Direction.IN, channel=channel, text="はい",
                               created_at=created + timedelta(hours=1)))
    if booked:
        begin = start or created + timedelta(days=2)
        b = Booking(applicant_id=a.id, interviewer=interviewer, start_at=begin, end_at=begin + timedelta(minutes=30),
                    status=booked, created_at=created + timedelta(hours=2),
                    confirmed_at=created + timedelta(hours=5) if confirmed else None,
                    active_slot=f"{interviewer}:{begin.isoformat()}" if booked in ("booked", "confirmed") else None)
        session.add(b)
        session.flush()
        if reminded:
            session.add(Outbox(applicant_id=a.id, booking_id=b.id, channel=channel, kind=Kind.REMINDER_DAY_BEFORE,
                               due_at=begin - timedelta(days=1), status=OutboxStatus.SENT, created_at=created,
                               sent_at=begin - timedelta(days=1)))
    return a


@pytest.fixture
def dataset(svc):
    """10 applications: 9 greeted (1..9 minutes), 6 answered, 5 booked (4 confirmed), 2 attended, 1 no-show."""
    with Session(svc.engine) as s:
        add(s, 1, minutes=1, answered=True, booked=BookingStatus.ATTENDED, confirmed=True)
        add(s, 2, minutes=2, answered=True, booked=BookingStatus.ATTENDED, confirmed=True, job="store-manager")
        add(s, 3, minutes=3, answered=True, booked=BookingStatus.NO_SHOW, confirmed=True, channel="email")
        add(s, 4, minutes=4, answered=True, booked=BookingStatus.CONFIRMED, confirmed=True, interviewer="tanaka")
        add(s, 5, minutes=5, booked=BookingStatus.BOOKED, channel="line")  # booked on their page, never wrote
        add(s, 6, minutes=6, answered=True)
        for n in (7, 8, 9):
            add(s, n, minutes=n, source="form")
        add(s, 10, source="form")  # never greeted
        s.commit()


def test_steps_drop_offs_and_time_to_first_contact_count_each_application_once(svc, dataset):
    with Session(svc.engine) as s:
        total, by_job = funnel.funnel(funnel.journeys(s, funnel.Filters(), svc.settings.tz), "job")
    assert total.counts == {"applied": 10, "greeted": 9, "answered": 6, "booked": 5, "confirmed": 4,
                            "attended": 2, "no_show": 1}
    assert total.drop("greeted") == pytest.approx(0.1) and total.drop("booked") == pytest.approx(1 / 6)
    assert total.drop("confirmed") == pytest.approx(0.2)
    assert total.share("booked") == 0.5
    assert total.contact(0.5) == 5 * 60 and total.contact(0.9) == 9 * 60  # nearest rank of 1..9 minutes
    assert total.booking(0.5) == 2 * 3600
    assert [(r.key, r.counts["applied"]) for r in by_job] == [("bakery-staff", 9), ("store-manager", 1)]


def test_percentiles_are_nearest_rank_and_none_without_values():
    assert funnel.percentile([], 0.5) is None
    assert funnel.percentile([10.0], 0.9) == 10.0
    assert funnel.percentile(list(range(1, 101)), 0.9) == 90


def test_funnel_page_shows_the_figures_the_chart_and_how_we_count(client, svc, dataset):
    sign_in(client)
    page = client.get("/recruiter/funnel").get_data(as_text=True)
    assert '<svg class="chart" id="funnel-chart"' in page and "<title id=\"funnel-chart-t\">" in page
    assert "5 (50%)人" in page  # booked: the figure is text on the chart, not colour alone
    assert "数え方" in page and "初回連絡までの時間" in page and "5分" in page
    by_source = client.get("/recruiter/funnel?by=source").get_data(as_text=True)
    assert 'data-group="form"' in by_source and 'data-group="indeed"' in by_source
    assert '<option value="indeed"' in by_source
    only_form = client.get("/recruiter/funnel?source=form&by=source").get_data(as_text=True)
    assert 'data-group="form"' in only_form and 'data-group="indeed"' not in only_form
    english = client.get("/recruiter/funnel?lang=en").get_data(as_text=True)
    assert "How we count" in english and "Time to first contact" in english


def test_funnel_filters_by_channel_and_date(client, svc, dataset):
    with Session(svc.engine) as s:
        add(s, 11, minutes=1, at=START - timedelta(days=20))
        s.commit()
    sign_in(client)
    with Session(svc.engine) as s:
        recent = funnel.Filters(date_from=(START - timedelta(days=5) + JST).date())
        assert funnel.funnel(funnel.journeys(s, recent, svc.settings.tz))[0].counts["applied"] == 10
        email = funnel.Filters(channel="email")
        assert funnel.funnel(funnel.journeys(s, email, svc.settings.tz))[0].counts["no_show"] == 1
    lines = list(csv.reader(io.StringIO(client.get("/recruiter/funnel.csv?channel=email&by=channel")
                                        .get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0][0] == "連絡手段" and lines[1][:2] == ["合計", "1"] and lines[2][0] == "メール"


def test_search_by_name_japanese_phone_and_email(client, svc):
    with Session(svc.engine) as s:
        add(s, 1, name="山田 花子", phone="+819012345678", email="Hanako@Example.com")
        add(s, 2, name="佐藤 太郎")
        s.commit()
    sign_in(client)
    for q in ("山田", "090-1234-5678", "09012345678", "hanako@example", "+81 90 1234 5678"):
        page = client.get("/recruiter/applicants", query_string={"q": q}).get_data(as_text=True)
        assert "山田 花子" in page and "佐藤 太郎" not in page, q
    assert "条件に合う応募者はいません" in client.get("/recruiter/applicants?q=100%25").get_data(as_text=True)


def test_650_applicants_are_paged_50_at_a_time_with_filters_kept(client, svc):
    with Session(svc.engine) as s:
        for n in range(650):
            s.add(Applicant(name=f"応募{n}", channel="sms" if n % 2 else "email", job_id="bakery-staff",
                            state="greeted", created_at=START - timedelta(minutes=n), updated_at=START))
        s.commit()
    sign_in(client)
    page3 = client.get("/recruiter/applicants?page=3").get_data(as_text=True)
    assert "650件中 101–150件" in page3 and "3 / 13 ページ" in page3
    assert page3.count('data-applicant="') == 50
    last = client.get("/recruiter/applicants?page=7&channel=sms").get_data(as_text=True)
    assert "325件中 301–325件" in last and "7 / 7 ページ" in last and 'id="next"' not in last
    assert last.count('data-applicant="') == 25
    assert "channel=sms" in last.split('id="applicants-csv"')[1].split(">")[0]  # the CSV keeps the filter too
    assert "page=6&amp;channel=sms" in last or "channel=sms&amp;page=6" in last


def test_applicants_csv_has_a_bom_neutralises_formulas_and_applies_filters(client, svc):
    with Session(svc.engine) as s:
        add(s, 1, name="=HYPERLINK(\"http://evil\")", minutes=2)
        add(s, 2, name="@SUM(A1)", email="-x@example.com", channel="email")
        add(s, 3, name="普通の名前", job="store-manager")
        s.commit()
    sign_in(client)
    res = client.get("/recruiter/applicants.csv?job=bakery-staff")
    assert res.status_code == 200 and res.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert res.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(res.data.decode("utf-8-sig"))))
    names = [r[2] for r in rows[1:]]
    assert names == ["'=HYPERLINK(\"http://evil\")", "'@SUM(A1)"]  # the store manager's applicant is filtered out
    assert rows[2][4] == "'-x@example.com" and rows[1][3] == "090-0000-0001"  # as people dial it, no formula
    assert rows[1][-1] == "2.0"  # minutes to first contact
    assert funnel.phone_forms("abc-1234", 81) == []


def test_an_interviewer_sees_only_their_own_candidates_everywhere(client, svc, dataset):
    sign_in(client, email="tanaka@example.com", role=Role.INTERVIEWER)
    listing = client.get("/recruiter/applicants").get_data(as_text=True)
    assert listing.count('data-applicant="') == 1 and "候補者4" in listing
    rows = list(csv.reader(io.StringIO(client.get("/recruiter/applicants.csv").data.decode("utf-8-sig"))))
    assert [r[2] for r in rows[1:]] == ["候補者4"]
    assert 'data-applicant="' not in client.get("/recruiter/applicants?q=候補者1").get_data(as_text=True)
    page = client.get("/recruiter/funnel").get_data(as_text=True)
    assert 'data-step="applied"><th scope="row">応募</th><td class="num">1<' in page
    funnel_rows = list(csv.reader(io.StringIO(client.get("/recruiter/funnel.csv").data.decode("utf-8-sig"))))
    assert funnel_rows[1][1] == "1"
    assert '<option value="sato"' not in listing  # the interviewer filter offers only themselves


def test_today_lists_interviews_with_confirmation_and_who_needs_a_call(client, svc, clock):
    clock.now = START + timedelta(hours=1)  # 10:00 in Tokyo
    today_at = START + timedelta(hours=5)  # 14:00 today
    with Session(svc.engine) as s:
        add(s, 1, name="確認済みさん", minutes=1, booked=BookingStatus.CONFIRMED, confirmed=True, start=today_at)
        add(s, 2, name="未確認さん", minutes=1, booked=BookingStatus.BOOKED, start=today_at + timedelta(hours=1),
            reminded=True, phone="+819011112222")
        add(s, 3, name="明日さん", minutes=1, booked=BookingStatus.BOOKED, start=today_at + timedelta(days=1),
            channel="line", interviewer="tanaka")
        add(s, 4, name="来週さん", minutes=1, booked=BookingStatus.BOOKED, start=today_at + timedelta(days=7))
        lost = add(s, 5, name="不通さん", minutes=1, phone="+819033334444")
        lost.unreachable = True
        blocked = add(s, 6, name="ブロックさん", minutes=1, channel="line")
        blocked.blocked = True
        gone = add(s, 7, name="停止さん", minutes=1)
        gone.unreachable = gone.opted_out = True  # asked for no more messages: no call either
        s.commit()
    sign_in(client)
    page = client.get("/recruiter/today").get_data(as_text=True)
    assert "確認済みさん" in page and "未確認さん" in page and "明日さん" in page and "来週さん" not in page
    today, tomorrow = page.split('id="interviews-1"')[1].split('id="interviews-2"')
    assert "確認済みさん" in today and "明日さん" in tomorrow
    calls = page.split('id="calls"')[1].split("</ul>")[0]
    assert "未確認さん" in calls and 'href="tel:+819011112222"' in calls and "前日リマインド後も未確認" in calls
    assert "確認済みさん" not in calls and "明日さん" not in calls  # tomorrow's reminder has not gone out yet
    lost = page.split('id="lost"')[1].split("</ul>")[0]
    assert "不通さん" in lost and 'href="tel:+819033334444"' in lost and "090-3333-4444" in lost
    assert "ブロックさん" in lost and "LINEでブロック" in lost and "停止さん" not in lost and "未確認さん" not in lost
    assert "03-6820-1234" in page and "LINE" in page and "line →" not in page
    assert "Who needs a call" in client.get("/recruiter/today?lang=en").get_data(as_text=True)
    sign_in(client, email="tanaka@example.com", role=Role.INTERVIEWER)
    mine = client.get("/recruiter/today").get_data(as_text=True)
    assert "明日さん" in mine and "未確認さん" not in mine


def test_the_same_figures_and_search_on_postgresql(pg_url, clock):
    from tests.conftest import make_services
    svc = make_services(pg_url, clock)
    try:
        with Session(svc.engine) as s:
            add(s, 1, minutes=1, answered=True, booked=BookingStatus.ATTENDED, confirmed=True, name="山田 花子",
                phone="+819012345678", email="Hanako@Example.com")
            add(s, 2, minutes=3, booked=BookingStatus.NO_SHOW, name="50%_off")
            add(s, 3)
            s.commit()
        tz = svc.settings.tz
        with Session(svc.engine) as s:
            total, _ = funnel.funnel(funnel.journeys(s, funnel.Filters(), tz), "week")
            assert total.counts == {"applied": 3, "greeted": 2, "answered": 2, "booked": 2, "confirmed": 1,
                                    "attended": 1, "no_show": 1}
            assert total.contact(0.5) == 60 and total.contact(0.9) == 180
            for q, expected in (("090-1234-5678", 1), ("HANAKO@", 1), ("50%", 1), ("%", 1), ("_", 1), ("山田", 1),
                                ("x%y", 0)):
                assert funnel.page(s, funnel.Filters(q=q), tz, 1, 50, 81)[1] == expected, q
            interviewer = funnel.Filters(interviewer="sato", date_to=(START + JST).date())
            assert funnel.page(s, interviewer, tz, 1, 50)[1] == 2
    finally:
        svc.engine.dispose()
