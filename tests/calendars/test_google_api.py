"""The Google adapter on its own: batching, paging, error classes and retries, idempotent writes."""
from datetime import datetime, timedelta, timezone

import pytest

from calendars.base import BookingRequest, Interval, Slot
from calendars.errors import CalendarError, CalendarPermissionError, CalendarUnavailable
from calendars.google.backend import GoogleCalendar, service_account_credentials
from calendars.google.events import split_ref
from calendars.google.hub import GoogleHub, GoogleOptions
from calendars.google.remote import GoogleBackend
from calendars.router import CalendarRouter, routes_of
from tests.calendars.google_helpers import SATO, service_account_info
from tests.fakes.google_api import FakeGoogleServer

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def google():
    with FakeGoogleServer() as fake:
        fake.add_calendar(SATO)
        yield fake


def client(fake, delegated="recruit@example.com", sleeps=None):
    creds = service_account_credentials(service_account_info(fake), delegated, fake.origin + "/token")
    return GoogleCalendar(creds, fake.origin, sleep=(sleeps if sleeps is not None else []).append,
                          acts_as_user=bool(delegated))


def router(fake, gc):
    hub = GoogleHub(lambda cal: gc, GoogleOptions(meet_places=frozenset({"online"})))
    return CalendarRouter(None, routes_of({"sato": SATO}, ("google",)), {"google": GoogleBackend(hub)})


def request(booking_id="7", location="online", email="cand@example.com"):
    return BookingRequest(booking_id, Slot(T0, T0 + timedelta(minutes=30), "sato"), "面接", "メモ", location, email)


def test_free_busy_asks_at_most_fifty_calendars_per_query(google):
    ids = [f"room{n}@example.com" for n in range(120)]
    for cal in ids:
        google.add_calendar(cal)
    google.put(ids[100], T0, T0 + timedelta(hours=1))
    busy, errors = client(google).freebusy(ids, T0 - timedelta(hours=1), T0 + timedelta(hours=2))
    assert len([r for r in google.requests if r[1].endswith("/freeBusy")]) == 3
    assert busy[ids[100]] and not busy[ids[0]] and errors == {}


def test_changes_follow_every_page(google):
    for n in range(260):
        google.put(SATO, T0 + timedelta(hours=n), T0 + timedelta(hours=n, minutes=30))
    events, token = client(google).changes(SATO, None, T0 - timedelta(days=1))
    assert len(events) == 260 and token.startswith("sync-")


@pytest.mark.parametrize("status, reason", [(403, "rateLimitExceeded"), (403, "userRateLimitExceeded"),
                                            (429, "rateLimitExceeded"), (500, "backendError"), (503, "backendError")])
def test_rate_limits_and_server_errors_back_off_and_succeed(google, status, reason):
    sleeps = []
    google.fail(status, reason, "/events", times=2)
    client(google, sleeps=sleeps).events_between(SATO, T0, T0 + timedelta(days=1))
    assert len(sleeps) == 2 and sleeps[1] >= sleeps[0] * 0.5


def test_retries_end_in_unavailable(google):
    sleeps = []
    google.fail(503, "backendError", "/events", times=99)
    with pytest.raises(CalendarUnavailable):
        client(google, sleeps=sleeps).events_between(SATO, T0, T0 + timedelta(days=1))
    assert len(sleeps) == 4


@pytest.mark.parametrize("status, reason, error", [(403, "forbidden", CalendarPermissionError),
                                                   (401, "authError", CalendarPermissionError),
                                                   (400, "badRequest", CalendarError)])
def test_permission_and_request_errors_are_not_retried(google, status, reason, error):
    sleeps = []
    google.fail(status, reason, "/events", times=5)  # a lone 401 is absorbed by google-auth refreshing the token
    with pytest.raises(error) as caught:
        client(google, sleeps=sleeps).events_between(SATO, T0, T0 + timedelta(days=1))
    assert sleeps == [] and not isinstance(caught.value, CalendarUnavailable) and reason in str(caught.value)


def test_a_refused_key_is_a_permission_error(google):
    gc = client(google)
    google.public_keys.clear()
    with pytest.raises(CalendarPermissionError, match="token refused"):
        gc.events_between(SATO, T0, T0 + timedelta(days=1))


def test_a_retried_insert_finds_its_own_event_instead_of_writing_twice(google):
    r = router(google, client(google))
    first = r.book(request())
    r.backends["google"].hub.forget(SATO)
    assert r.book(request()) == first and len(google.live(SATO)) == 1


def test_deleting_twice_is_harmless(google):
    r = router(google, client(google))
    ref = r.book(request())
    r.cancel(ref)
    r.cancel(ref)
    assert google.live(SATO) == [] and split_ref(ref)[0] == SATO


def test_without_delegation_no_guest_and_no_meet_are_asked_for(google):
    r = router(google, client(google, delegated=None))
    r.book(request())
    [event] = google.live(SATO)
    assert "attendees" not in event and "conferenceData" not in event
    assert google.grants[-1].get("sub") is None


def test_a_broken_key_is_a_permission_error_not_a_crash(db_url, clock):
    from tests.calendars.google_helpers import google_settings
    from tests.conftest import make_services

    svc = make_services(db_url, clock, env={"GOOGLE_SERVICE_ACCOUNT_JSON": "{not json"}, settings=google_settings())
    with pytest.raises(CalendarPermissionError, match="credentials unreadable"):
        svc.calendar_for.client_for(SATO)
    from tests.calendars.test_google_flow import chat_for

    chat = chat_for(svc)
    chat.apply()
    assert chat.state() == "needs_human"  # nobody is offered a time we could not check


def test_a_calendar_shared_as_free_busy_only_still_gives_its_busy_time(google):
    google.add_calendar("room@example.com", details=False)
    google.put("room@example.com", T0, T0 + timedelta(hours=1))
    hub = GoogleHub(lambda cal: client(google))
    busy = hub.busy(["room@example.com"], T0 - timedelta(hours=1), T0 + timedelta(hours=3))
    assert busy["room@example.com"] == [Interval(T0, T0 + timedelta(hours=1))]


def test_error_texts_never_carry_an_address():
    import httplib2
    from googleapiclient.errors import HttpError

    from calendars.google.backend import classify

    resp = httplib2.Response({"status": 400})
    resp.reason = "Bad Request"
    error = classify(HttpError(
        resp, b'{"error": {"code": 400, "message": "Invalid attendee email: cand@example.com"}}'))
    assert "cand@example.com" not in str(error) and "<address>" in str(error)
