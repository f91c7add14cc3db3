"""Google writes run after the booking commits: never while the applicant's row or the SQLite write lock is held."""
import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from calendars.google.events import split_ref
from tests.calendars.google_helpers import SATO, google_services
from tests.calendars.test_google_flow import bookings, chat_for, google, gsvc  # noqa: F401  (fixtures)

WRITES = ("POST", "PATCH", "DELETE")


def lock_probe(url: str, applicant_id: int):
    """A second connection's view: whether the applicant's row (PostgreSQL) or the write lock (SQLite) is held."""
    if url.startswith("sqlite"):
        def held() -> bool:
            conn = sqlite3.connect(make_url(url).database, timeout=0, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError:
                return True
            finally:
                conn.close()
        return held, lambda: None
    engine = create_engine(url)

    def held() -> bool:
        with engine.connect() as conn:
            try:
                conn.execute(text("SELECT id FROM applicant WHERE id = :id FOR UPDATE NOWAIT"), {"id": applicant_id})
                return False
            except OperationalError:
                return True
            finally:
                conn.rollback()
    return held, engine.dispose


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'writes.sqlite3'}"
    return request.getfixturevalue("pg_url")


def test_booking_moving_and_cancelling_write_to_google_only_after_commit(google, database, clock):
    svc = google_services(google, database, clock)
    try:
        chat = chat_for(svc)
        chat.apply(job="store-manager")
        chat.replies()
        held, close = lock_probe(database, chat.id)
        seen = []

        def observe(method: str, path: str) -> None:
            if method in WRITES and "/events" in path:  # an event inserted, patched or deleted
                seen.append((method, held()))

        google.observer = observe
        chat.say("1")
        [first] = [b for b in bookings(svc) if b.status == "booked"]
        chat.say("変更")
        chat.say("2")
        chat.say("キャンセル")
        chat.say("はい")
        google.observer = None
        close()
        assert [method for method, _ in seen] == ["POST", "PATCH", "DELETE"]  # written at once, not by the worker
        assert not any(locked for _, locked in seen)
        assert split_ref(first.calendar_event_id)[0] == SATO and google.live(SATO) == []
    finally:
        svc.engine.dispose()


def test_an_outage_backs_off_only_after_the_booking_committed(google, db_url, clock):
    svc = google_services(google, db_url, clock)
    chat = chat_for(svc)
    chat.apply(job="store-manager")
    chat.replies()
    held, _ = lock_probe(db_url, chat.id)
    waits = []
    for client in svc.calendar_for._clients.values():
        client.sleep = lambda seconds: waits.append(held())
    google.fail(503, "backendError", "/calendar/v3/", times=1000)  # the offer's free/busy is still in the cache
    chat.say("1")  # the re-check fails once, unretried; the choice is kept
    assert "確定" in chat.replies()[-1]["text"]
    assert len(waits) == 4 and not any(waits)  # the write backed off after the commit, never under the lock
    [b] = bookings(svc)
    assert b.calendar_event_id.startswith("g/pending/")
    svc.engine.dispose()


def test_cancelling_before_a_queued_move_ran_deletes_the_old_event(google, gsvc, clock):
    from tests.calendars.google_helpers import run_worker

    chat = chat_for(gsvc)
    chat.apply(job="store-manager")
    chat.say("1")
    chat.say("変更")
    chat.replies()
    google.fail(503, "backendError", "/calendar/v3/calendars/", times=1000)  # events: down; free/busy: cached
    chat.say("2")  # the new time is kept; moving the event waits for Google
    chat.say("キャンセル")
    chat.say("はい")
    assert [event["id"] for event in google.live(SATO)]  # the event still shows the first time
    google.failures.clear()
    clock.advance(minutes=5)  # past the outbox backoff
    run_worker(gsvc)
    assert google.live(SATO) == [] and not [b for b in bookings(gsvc) if b.status in ("booked", "confirmed")]


def test_a_booking_cancelled_while_its_event_is_written_takes_the_event_back(google, gsvc):
    chat, tab = chat_for(gsvc), chat_for(gsvc)
    chat.apply(job="store-manager")
    tab.token = chat.token  # the same candidate on a second page

    def cancel_meanwhile(method: str, path: str) -> None:
        if method == "POST" and path.endswith("/events") and google.observer is not None:
            google.observer = None
            tab.say("キャンセル")
            tab.say("はい")

    google.observer = cancel_meanwhile
    chat.say("1")
    assert google.observer is None  # the cancellation ran while the event was being inserted
    assert google.live(SATO) == [] and not [b for b in bookings(gsvc) if b.status in ("booked", "confirmed")]


def test_free_busy_is_read_before_a_turn_takes_its_locks(google, database, clock):
    svc = google_services(google, database, clock)
    try:
        chat = chat_for(svc)
        chat.apply(job="store-manager")
        chat.replies()
        held, close = lock_probe(database, chat.id)
        seen = []

        def observe(method: str, path: str) -> None:
            if path.endswith("/freeBusy") or (method == "GET" and path.endswith("/events")):  # a free/busy read
                seen.append((path.rsplit("/", 1)[-1], held()))

        google.observer = observe
        svc.calendar_for.hub.forget(SATO)  # a minute later: the offer's answer is no longer current
        chat.say("12月1日")  # "show me that day's times"
        times, looking = chat.replies()[-1]["text"], list(seen)
        chat.say("1")  # the booking, re-checked against Google first
        google.observer = None
        close()
        assert "1)" in times and "確定" in chat.replies()[-1]["text"]
        assert looking and [where for where, _ in seen[len(looking):]][:2] == ["freeBusy", "events"]
        assert not any(locked for _, locked in seen)
    finally:
        svc.engine.dispose()
