"""The embedded calendar backend on a real SQLite file, and its iCalendar output."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, create_engine, select

from calendars.base import BookingRequest, Interval, Slot, SlotTaken
from calendars.ics import feed, single_event
from calendars.local import LocalCalendar, LocalEvent
from calendars.slots import local_day_bounds

UTC = timezone.utc
TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY = date(2026, 3, 2)
WRITTEN = datetime(2026, 2, 20, 9, 30, tzinfo=UTC)  # the calendar's clock when it wrote events


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TOKYO)


def slot(hour: int, minute: int = 0, who: str = "sato", day: date = MONDAY, length: int = 30) -> Slot:
    start = at(hour, minute, day).astimezone(UTC)
    return Slot(start, start + timedelta(minutes=length), who)


def request(s: Slot, booking_id: str = "b1") -> BookingRequest:
    return BookingRequest(booking_id=booking_id, slot=s, summary="Interview: Yamada", description="Role: barista",
                          location="Shibuya store")


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'calendar.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session


@pytest.fixture
def calendar(session):
    return LocalCalendar(session, lambda: WRITTEN)


def whole_monday() -> Interval:
    return local_day_bounds(MONDAY, TOKYO)


def astuple(interval: Interval) -> tuple[datetime, datetime]:
    return interval.start, interval.end


def interviews(engine) -> list[LocalEvent]:
    with Session(engine) as other:
        return list(other.exec(select(LocalEvent).where(LocalEvent.kind == "interview")))


def test_booked_interview_shows_as_busy(calendar):
    uid = calendar.book(request(slot(10)))
    busy = calendar.busy(["sato", "kato"], *astuple(whole_monday()))
    assert uid.endswith("@sokuresu")
    assert busy == {"sato": [Interval(slot(10).start, slot(10).end)], "kato": []}
    assert busy["sato"][0].start.tzinfo is not None


def test_second_booking_of_the_same_slot_is_refused_and_the_first_survives(calendar, session, engine):
    first = calendar.book(request(slot(10), "b1"))
    with pytest.raises(SlotTaken):
        calendar.book(request(slot(10), "b2"))
    calendar.block("sato", at(15), at(16))  # the caller's session carries on after the refusal
    session.commit()
    assert [(e.uid, e.booking_ref) for e in interviews(engine)] == [(first, "b1")]


def test_database_refuses_a_clash_the_recheck_cannot_see(calendar, session, engine):
    # A row with the same slot key on another calendar stands in for a concurrent writer's row.
    session.add(LocalEvent(calendar="elsewhere", start_at=at(9), end_at=at(9, 30), active_key=slot(10).key,
                           created_at=WRITTEN, updated_at=WRITTEN))
    session.flush()
    with pytest.raises(SlotTaken):
        calendar.book(request(slot(10)))
    calendar.book(request(slot(11), "b2"))
    session.commit()
    assert sorted(e.calendar for e in interviews(engine)) == ["elsewhere", "sato"]


def test_live_slot_key_is_unique_in_the_table(session):
    session.add(LocalEvent(calendar="sato", start_at=at(10), end_at=at(10, 30), active_key="k",
                           created_at=WRITTEN, updated_at=WRITTEN))
    session.flush()
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.add(LocalEvent(calendar="sato", start_at=at(10), end_at=at(10, 30), active_key="k",
                           created_at=WRITTEN, updated_at=WRITTEN))
            session.flush()


def test_overlapping_booking_with_a_different_start_is_refused(calendar):
    calendar.book(request(slot(10)))
    with pytest.raises(SlotTaken):
        calendar.book(request(slot(10, 15), "b2"))
    calendar.book(request(slot(10, 30), "b3"))  # touching is not overlapping


def test_same_slot_of_another_interviewer_is_free(calendar):
    calendar.book(request(slot(10, who="sato"), "b1"))
    calendar.book(request(slot(10, who="kato"), "b2"))


def test_retried_booking_returns_the_same_event(calendar):
    assert calendar.book(request(slot(10), "b1")) == calendar.book(request(slot(10), "b1"))


def test_cancel_frees_the_slot_and_it_can_be_booked_again(calendar):
    uid = calendar.book(request(slot(10), "b1"))
    calendar.cancel(uid)
    calendar.cancel(uid)  # cancelling twice changes nothing more
    calendar.cancel("unknown@sokuresu")
    assert calendar.busy(["sato"], *astuple(whole_monday())) == {"sato": []}
    again = calendar.book(request(slot(10), "b2"))
    old, new = calendar.events("sato")
    assert (old.uid, old.status, old.active_key, old.sequence) == (uid, "cancelled", None, 1)
    assert (new.uid, new.status, new.active_key) == (again, "confirmed", slot(10).key)


def test_block_makes_time_busy_and_refuses_bookings_inside_it(calendar):
    calendar.block("sato", at(10), at(12), "Team meeting")
    assert calendar.busy(["sato"], *astuple(whole_monday()))["sato"] == [Interval(at(10), at(12))]
    with pytest.raises(SlotTaken):
        calendar.book(request(slot(11)))


def test_calendar_never_commits_the_callers_transaction(calendar, session, engine):
    calendar.busy(["sato"], *astuple(whole_monday()))  # a read first: pysqlite has not begun yet
    calendar.book(request(slot(10)))
    with pytest.raises(SlotTaken):
        calendar.book(request(slot(10), "b2"))
    calendar.block("sato", at(15), at(16))
    session.rollback()
    assert interviews(engine) == []
    with Session(engine) as other:
        assert other.exec(select(LocalEvent)).all() == []


def test_bookings_per_day_counts_live_interviews_by_local_date(calendar):
    tuesday = MONDAY + timedelta(days=1)
    calendar.book(request(slot(8, 30), "b1"))  # Sunday 23:30 UTC, but Monday in Tokyo
    calendar.book(request(slot(10), "b2"))
    calendar.cancel(calendar.book(request(slot(11), "b3")))
    calendar.book(request(slot(10, day=tuesday), "b4"))
    calendar.book(request(slot(10, who="kato"), "b5"))
    calendar.block("sato", at(14), at(15))
    counts = calendar.bookings_per_day(["sato"], TOKYO, at(0), at(0, day=MONDAY + timedelta(days=7)))
    assert counts == {("sato", MONDAY): 2, ("sato", tuesday): 1}


def test_events_lists_every_status_since_a_moment_and_filters_by_kind(calendar):
    calendar.book(request(slot(9), "b1"))
    calendar.cancel(calendar.book(request(slot(11), "b2")))
    calendar.block("sato", at(13), at(14))
    assert [e.start_at for e in calendar.events("sato", since=at(10))] == [at(11), at(13)]
    assert [e.kind for e in calendar.events("sato", kind="interview")] == ["interview", "interview"]


def vevents(raw: bytes) -> list:
    return [c for c in icalendar.Calendar.from_ical(raw).walk("VEVENT")]


def test_feed_parses_back_with_utc_times_and_status(calendar):
    kept = calendar.book(request(slot(10), "b1"))
    calendar.cancel(calendar.book(request(slot(14), "b2")))
    raw = feed("Sato's interviews", calendar.events("sato"), "Asia/Tokyo", WRITTEN + timedelta(hours=1))
    parsed = icalendar.Calendar.from_ical(raw)
    assert str(parsed["PRODID"]) == "-//Sokuresu//Sokuresu//EN"
    assert ((str(parsed["VERSION"]), str(parsed["METHOD"]), str(parsed["X-WR-TIMEZONE"]))
            == ("2.0", "PUBLISH", "Asia/Tokyo"))
    assert str(parsed["X-WR-CALNAME"]) == "Sato's interviews"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n" in raw and b"X-PUBLISHED-TTL:PT15M\r\n" in raw
    by_uid = {str(e["UID"]): e for e in vevents(raw)}
    live = by_uid[kept]
    assert live["DTSTART"].dt == slot(10).start and live["DTSTART"].dt.utcoffset() == timedelta(0)
    assert b"DTSTART:20260302T010000Z\r\n" in raw
    assert live["DTEND"].dt == slot(10).end
    assert [str(e["STATUS"]) for e in by_uid.values()] == ["CONFIRMED", "CANCELLED"]
    assert [int(e["SEQUENCE"]) for e in by_uid.values()] == [0, 1]
    assert all(e["DTSTAMP"].dt == WRITTEN + timedelta(hours=1) for e in by_uid.values())
    assert all(e["LAST-MODIFIED"].dt == WRITTEN for e in by_uid.values())  # the calendar's clock, not the wall's
    assert str(live["LOCATION"]) == "Shibuya store"


def test_feed_uses_crlf_and_folds_long_lines():
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    event = LocalEvent(uid="long@sokuresu", calendar="sato", start_at=start, end_at=start + timedelta(hours=1),
                       summary="面接：山田太郎さん（カフェスタッフ・渋谷店）" * 5,
                       description="一行目\n二行目; 三行目, 終",
                       created_at=WRITTEN, updated_at=WRITTEN)
    raw = feed("佐藤", [event], "Asia/Tokyo", WRITTEN)
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n") and all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    (parsed,) = vevents(raw)
    assert str(parsed["SUMMARY"]) == event.summary and str(parsed["DESCRIPTION"]) == event.description


def test_single_event_parses_and_reminds_an_hour_before():
    s = slot(10)
    raw = single_event("one@sokuresu", s.start, s.end, "Interview at Cafe", "Bring nothing", "Shibuya",
                       WRITTEN, url="https://example.test/b/abc")
    (event,) = vevents(raw)
    assert str(event["UID"]) == "one@sokuresu" and event["DTSTART"].dt == s.start
    assert str(event["URL"]) == "https://example.test/b/abc"
    (alarm,) = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["TRIGGER"].dt == timedelta(hours=-1)
    assert str(icalendar.Calendar.from_ical(raw)["METHOD"]) == "PUBLISH"
