"""Google Calendar after booking: recruiter moves and deletes, sync tokens, reschedule/cancel, errors and outages."""
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlmodel import Session, select

from bot.db.models import CalendarSync, Outbox
from bot.service.calendar_sync import poll
from calendars.google.events import split_ref
from tests.calendars.google_helpers import SATO, google_services, run_worker
from tests.calendars.test_google_flow import bookings, chat_for, google, gsvc  # noqa: F401  (fixtures)

REMINDER_KINDS = ("reminder_day_before", "reminder_soon")


@pytest.fixture
def booked(gsvc):
    """A candidate with a booked interview in Sato's Google calendar (an office job: Sato only)."""
    chat = chat_for(gsvc)
    chat.apply(job="store-manager")
    chat.say("1")
    chat.replies()
    poll(gsvc, force=True)  # the first read stores a sync token
    return chat


def live_booking(svc):
    return next(b for b in bookings(svc) if b.status in ("booked", "confirmed"))


def reminders(svc, booking_id):
    with Session(svc.engine) as s:
        return s.exec(select(Outbox).where(Outbox.booking_id == booking_id, Outbox.kind.in_(REMINDER_KINDS))).all()


def test_recruiter_deletes_the_event_candidate_is_told_and_offered_new_slots(google, gsvc, booked):
    b = live_booking(gsvc)
    assert any(r.status == "pending" for r in reminders(gsvc, b.id))
    google.remove(SATO, split_ref(b.calendar_event_id)[1])
    assert poll(gsvc, force=True) == 1
    text = booked.replies()[-1]["text"]
    assert "面接ができなくなりました" in text and "1)" in text
    assert booked.state() == "greeted"
    assert not [x for x in bookings(gsvc) if x.status in ("booked", "confirmed")]
    assert all(r.status == "cancelled" for r in reminders(gsvc, b.id))
    assert poll(gsvc, force=True) == 0  # the same change read again changes nothing


def test_recruiter_moves_the_event_candidate_is_told_and_reminders_follow(google, gsvc, booked):
    b = live_booking(gsvc)
    old = {r.id: r.due_at for r in reminders(gsvc, b.id)}
    new_start = b.start_at + timedelta(days=2, hours=1)
    google.move(SATO, split_ref(b.calendar_event_id)[1], new_start, new_start + timedelta(minutes=30))
    assert poll(gsvc, force=True) == 1
    text = booked.replies()[-1]["text"]
    assert "移させていただきました" in text and "1)" in text
    moved = live_booking(gsvc)
    assert moved.id == b.id and moved.start_at == new_start and booked.state() == "rescheduling"
    rows = reminders(gsvc, b.id)
    assert all(r.status == "cancelled" for r in rows if r.id in old)
    fresh = [r for r in rows if r.id not in old and r.status == "pending"]
    assert fresh and all(r.due_at < new_start and r.due_at > max(old.values()) for r in fresh)


def test_an_expired_sync_token_triggers_a_full_resync(google, gsvc, booked):
    b = live_booking(gsvc)
    google.expired_sync = True
    google.remove(SATO, split_ref(b.calendar_event_id)[1])
    assert poll(gsvc, force=True) == 1
    lists = [r[2] for r in google.requests if unquote(r[1]).endswith(f"{SATO}/events") and "showDeleted" in r[2]]
    assert "syncToken" in lists[-2] and "syncToken" not in lists[-1]  # 410, then a full read
    with Session(gsvc.engine) as s:
        row = s.exec(select(CalendarSync).where(CalendarSync.calendar == SATO)).one()
    assert row.sync_token and row.last_error is None
    assert booked.state() == "greeted"


def test_reschedule_moves_the_same_event_and_cancel_deletes_it(google, gsvc, booked):
    b = live_booking(gsvc)
    event_id = split_ref(b.calendar_event_id)[1]
    booked.say("変更")
    booked.replies()
    booked.say("2")
    booked.replies()
    new = live_booking(gsvc)
    assert new.id != b.id and split_ref(new.calendar_event_id)[1] == event_id
    [event] = google.live(SATO)
    assert event["start"]["dateTime"].startswith(new.start_at.strftime("%Y-%m-%dT%H:%M"))
    assert event["extendedProperties"]["private"]["sokuresuBooking"] == str(new.id)
    assert any(r[0] == "PATCH" for r in google.requests)
    assert poll(gsvc, force=True) == 0  # our own change is not mistaken for the recruiter's
    booked.say("キャンセル")
    booked.say("はい")  # after "really cancel?"
    booked.replies()
    assert google.live(SATO) == []


def test_rate_limit_403_is_retried_with_backoff(google, gsvc):
    google.fail(403, "rateLimitExceeded", "/freeBusy", times=2)
    chat = chat_for(gsvc)
    chat.apply()
    assert "1)" in chat.replies()[0]["text"]
    assert len(gsvc.sleeps) == 2 and gsvc.sleeps[1] > gsvc.sleeps[0] / 2


def test_server_errors_are_retried_too(google, gsvc):
    google.fail(503, "backendError", "/events", times=1)
    chat = chat_for(gsvc)
    chat.apply(job="store-manager")
    chat.say("1")
    assert len(google.live(SATO)) == 1 and len(gsvc.sleeps) == 1


def test_a_google_outage_never_loses_the_choice(google, gsvc, clock):
    chat = chat_for(gsvc)
    chat.apply(job="store-manager")
    chat.replies()
    google.fail(503, "backendError", "/calendar/v3/", times=1000)
    gsvc.calendar_for.hub._cache.clear()  # no earlier answer to fall back on: the re-check itself fails
    chat.say("1")
    assert "確定" in chat.replies()[-1]["text"]  # the candidate hears back at once
    b = live_booking(gsvc)
    assert b.calendar_event_id.startswith("g/pending/") and google.live(SATO) == []
    google.failures.clear()
    clock.advance(minutes=5)  # past the outbox backoff
    run_worker(gsvc)
    [event] = google.live(SATO)
    b = live_booking(gsvc)
    assert split_ref(b.calendar_event_id) == (SATO, event["id"])


def test_a_permission_error_is_not_retried_and_shows_where_the_recruiter_looks(google, gsvc, clock):
    google.calendars[SATO]["writable"] = False
    chat = chat_for(gsvc)
    chat.apply(job="store-manager")
    chat.say("1")
    assert "確定" in chat.replies()[-1]["text"]
    assert gsvc.sleeps == []  # 403 requiredAccessLevel: no backoff, a person must fix the sharing
    with Session(gsvc.engine) as s:
        row = s.exec(select(Outbox).where(Outbox.channel == "calendar")).one()
    assert "403" in (row.last_error or "")
    google.calendars[SATO]["readable"] = False
    poll(gsvc, force=True)
    with Session(gsvc.engine) as s:
        assert "403" in s.exec(select(CalendarSync).where(CalendarSync.calendar == SATO)).one().last_error


def test_a_write_given_up_on_is_queued_again_by_the_poll_once_the_sharing_is_fixed(google, gsvc, clock):
    google.calendars[SATO]["writable"] = False
    chat = chat_for(gsvc)
    chat.apply(job="store-manager")
    chat.say("1")
    with Session(gsvc.engine) as s:  # its retries ran out
        row = s.exec(select(Outbox).where(Outbox.channel == "calendar")).one()
        assert "403" in row.last_error
        row.status = "failed"
        s.commit()
    assert google.live(SATO) == []
    google.calendars[SATO]["writable"] = True  # the recruiter shared the calendar after all
    poll(gsvc, force=True)  # sees the live booking still waiting for its event, and queues the write again
    clock.advance(minutes=1)
    run_worker(gsvc)
    [event] = google.live(SATO)
    [b] = bookings(gsvc)
    assert split_ref(b.calendar_event_id) == (SATO, event["id"])


def test_after_an_outage_the_meet_link_follows_the_confirmation(google, gsvc, clock):
    chat = chat_for(gsvc)
    chat.apply()
    chat.replies()
    google.fail(503, "backendError", "/events", times=1000)
    chat.say("1")
    assert "meet.google.com" not in chat.replies()[-1]["text"]
    google.failures.clear()
    clock.advance(minutes=5)
    [message] = chat.replies()
    [event] = google.live()
    assert event["hangoutLink"] in message["text"] and "参加用リンク" in message["text"]


def test_on_postgresql_a_race_books_once_and_a_recruiter_delete_reaches_the_candidate(google, pg_url, clock):
    import threading

    svc = google_services(google, pg_url, clock)
    try:
        a, b = chat_for(svc), chat_for(svc)
        a.apply(name="PG一人目", email="a@example.com", job="store-manager")
        b.apply(name="PG二人目", email="b@example.com", job="store-manager")
        threads = [threading.Thread(target=c.say, args=("1",)) for c in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(google.live(SATO)) == 1
        winner = a if a.state() == "booked" else b
        poll(svc, force=True)
        google.remove(SATO, split_ref(live_booking(svc).calendar_event_id)[1])
        assert poll(svc, force=True) == 1
        assert winner.state() == "greeted" and "面接ができなくなりました" in winner.replies()[-1]["text"]
    finally:
        svc.engine.dispose()
