"""Google Calendar end to end: the real client against the fake API, driven through the sandbox chat."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from bot.db.models import Booking
from tests.calendars.google_helpers import SA_EMAIL, SATO, TANAKA, google_services
from tests.conftest import Chat
from tests.fakes.google_api import FakeGoogleServer

JST = timezone(timedelta(hours=9))


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    return (datetime(2026, 12, day, hour, minute, tzinfo=JST) if day < 30
            else datetime(2026, 11, day, hour, minute, tzinfo=JST))


@pytest.fixture
def google():
    with FakeGoogleServer() as fake:
        yield fake


@pytest.fixture
def gsvc(google, db_url, clock):
    svc = google_services(google, db_url, clock)
    yield svc
    svc.engine.dispose()


def chat_for(svc):
    from bot import create_app

    return Chat(create_app({"TESTING": True}, services=svc).test_client(), svc)


def bookings(svc):
    with Session(svc.engine) as s:
        return s.exec(select(Booking).order_by(Booking.id)).all()


def test_slots_exclude_busy_time_across_two_interviewers(google, gsvc):
    google.freebusy_counts_declined = True  # declined events are dropped by our own reading of the events
    google.put(SATO, jst(30, 11), jst(30, 18))
    google.put(TANAKA, jst(30, 11), jst(30, 15))
    google.put(TANAKA, jst(30, 16), jst(30, 16, 30), transparency="transparent")  # shown as free
    google.put(TANAKA, jst(30, 16, 45), jst(30, 17, 15),
               attendees=[{"email": TANAKA, "self": True, "responseStatus": "declined"}])
    google.put(SATO, jst(1, 0), jst(2, 0), all_day=True, transparency="transparent")  # all-day blocks by setting
    from bot.service.availability import available

    with Session(gsvc.engine) as s:
        cal = gsvc.calendar_for(s)
        monday, _ = available(gsvc.settings, cal, s, "bakery-staff", gsvc.clock(), only_date=jst(30, 0).date())
        tuesday, _ = available(gsvc.settings, cal, s, "bakery-staff", gsvc.clock(), only_date=jst(1, 0).date())
    assert [(x.interviewer, x.start.astimezone(JST).strftime("%H:%M")) for x in monday] == [
        ("tanaka", "15:15"), ("tanaka", "16:00"), ("tanaka", "16:45"), ("tanaka", "17:30")]
    assert tuesday and {x.interviewer for x in tuesday} == {"tanaka"}
    freebusy = [r for r in google.requests if r[1].endswith("/freeBusy")]
    assert len(freebusy) == 1 and SATO in freebusy[0][3] and TANAKA in freebusy[0][3]  # one query, both calendars
    assert google.grants[0]["sub"] == "recruit@example.com" and google.grants[0]["iss"] == SA_EMAIL


def test_free_busy_is_cached_for_a_burst_of_candidates(google, gsvc):
    for n in range(3):
        chat_for(gsvc).apply(name=f"候補者{n}", email=f"c{n}@example.com", phone=f"090-1000-{n:04d}")
    assert len([r for r in google.requests if r[1].endswith("/freeBusy")]) == 1


def test_booking_writes_an_event_with_a_meet_link_that_reaches_the_candidate(google, gsvc):
    chat = chat_for(gsvc)
    chat.apply()
    chat.replies()
    chat.say("1")
    text = chat.replies()[-1]["text"]
    [event] = google.live()
    link = event["hangoutLink"]
    assert link.startswith("https://meet.google.com/") and link in text
    insert = next(r for r in google.requests if r[0] == "POST" and r[1].endswith("/events"))
    assert insert[2]["conferenceDataVersion"] == "1" and insert[2]["sendUpdates"] == "all"
    assert '"hangoutsMeet"' in insert[3]
    [b] = bookings(gsvc)
    assert event["extendedProperties"]["private"]["sokuresuBooking"] == str(b.id)
    assert event["attendees"] == [{"email": "hanako@example.com"}]
    assert b.calendar_id in (SATO, TANAKA) and b.calendar_event_id.endswith("/" + b.calendar_id)
    # The candidate is a guest: Google shows them (and mails them) the description, so it holds nothing
    # internal (issue 13, item 8) — only the interview and where the company's people find the rest.
    shown = event["description"]
    assert f"/recruiter/applicants/{b.applicant_id}" in shown and "面接" in shown
    for internal in ("最初の30秒", "これまでのやりとり", "候補者: 1", "090", "応募経路"):
        assert internal not in shown, internal


def test_without_the_candidate_as_a_guest_the_event_keeps_the_internal_notes(google, db_url, clock):
    svc = google_services(google, db_url, clock, delegated=None)  # a bare service account cannot invite anyone
    try:
        chat = chat_for(svc)
        chat.apply()
        chat.replies()
        chat.say("1")
        chat.replies()
        [event] = google.live()
        assert "attendees" not in event
        assert "最初の30秒" in event["description"] and "これまでのやりとり" in event["description"]
        assert "山田 花子" in event["description"] and "候補者: 1" in event["description"]
    finally:
        svc.engine.dispose()


def test_office_interviews_carry_the_address_and_no_meet(google, gsvc):
    chat = chat_for(gsvc)
    chat.apply(job="store-manager")
    chat.say("1")
    [event] = google.live()
    assert "conferenceData" not in event and "神南" in event["location"]


def test_round_robin_gives_the_next_candidate_the_least_booked_interviewer(google, gsvc):
    first = chat_for(gsvc)
    first.apply(name="一人目", email="one@example.com", phone="090-1000-0001")
    first.say("1")
    [b1] = bookings(gsvc)
    second = chat_for(gsvc)
    second.apply(name="二人目", email="two@example.com", phone="090-1000-0002")
    second.say("1")
    b2 = bookings(gsvc)[1]
    assert {b1.interviewer, b2.interviewer} == {"sato", "tanaka"}
    assert len(google.live(SATO)) == 1 and len(google.live(TANAKA)) == 1


def test_race_for_one_slot_books_exactly_one_and_apologises_to_the_other(google, gsvc):
    a, b = chat_for(gsvc), chat_for(gsvc)
    a.apply(name="先に選ぶ人", email="a@example.com", phone="090-1000-0001", job="store-manager")
    b.apply(name="後から選ぶ人", email="b@example.com", phone="090-1000-0002", job="store-manager")
    a.replies(), b.replies()
    a.say("1")
    b.say("1")
    assert len(google.live(SATO)) == 1 and len([x for x in bookings(gsvc) if x.status == "booked"]) == 1
    apology = b.replies()[-1]["text"]
    assert "ほかの方の予約" in apology and "1)" in apology  # sorry, and fresh slots right away
    assert b.state() == "greeted"


def test_a_slot_filled_in_google_after_the_offer_is_never_double_booked(google, gsvc):
    chat = chat_for(gsvc)
    chat.apply(job="store-manager")
    [offer] = chat.replies()
    with Session(gsvc.engine) as s:
        from bot.db.models import Applicant

        first = s.exec(select(Applicant)).one().offered[0]
    google.put(SATO, datetime.fromisoformat(first["start"]), datetime.fromisoformat(first["end"]))
    chat.say("1")
    assert "ほかの方の予約" in chat.replies()[-1]["text"]
    assert len(google.live(SATO)) == 1  # only the recruiter's own event
    assert not [x for x in bookings(gsvc) if x.status == "booked"]


def test_two_candidates_choosing_the_same_slot_at_the_same_moment_get_one_booking(google, gsvc):
    import threading

    a, b = chat_for(gsvc), chat_for(gsvc)
    a.apply(name="同時A", email="a@example.com", phone="090-1000-0001", job="store-manager")
    b.apply(name="同時B", email="b@example.com", phone="090-1000-0002", job="store-manager")
    go = threading.Barrier(2)

    def choose(chat):
        go.wait()
        chat.say("1")

    threads = [threading.Thread(target=choose, args=(c,)) for c in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(google.live(SATO)) == 1
    assert len([x for x in bookings(gsvc) if x.status == "booked"]) == 1
    assert sorted([a.state(), b.state()]) == ["booked", "greeted"]


def test_a_meet_link_google_makes_a_moment_later_still_reaches_the_confirmation(google, gsvc):
    google.meet_pending = True
    chat = chat_for(gsvc)
    chat.apply()
    chat.say("1")
    [event] = google.live()
    assert event["hangoutLink"] in chat.replies()[-1]["text"]
