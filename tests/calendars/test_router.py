"""The router picks each interviewer's backend by the scheme of their calendar setting."""
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import pytest

from calendars.base import BookingRequest, Interval, Slot
from calendars.router import LOCAL, CalendarRouter, Route, UnknownCalendar, parse_route, routes_of
from tests.calendars.google_helpers import SATO, TANAKA, google_services, google_settings
from tests.calendars.test_google_flow import bookings, chat_for, google  # noqa: F401  (fixture)

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("setting, route", [
    ("local", Route(LOCAL, LOCAL)),
    ("google:c_0123@group.calendar.google.com", Route("google", "c_0123@group.calendar.google.com")),
    ("sato@example.com", Route("google", "sato@example.com")),  # a bare id is Google's, as it always was
    ("primary", Route("google", "primary")),
    ("m365:room-1@contoso.com", Route("m365", "room-1@contoso.com")),
])
def test_a_calendar_setting_names_its_backend_by_scheme(setting, route):
    assert parse_route(setting) == route


def test_an_unknown_scheme_names_the_interviewer():
    with pytest.raises(UnknownCalendar, match="'tanaka'.*'m365'"):
        routes_of({"sato": "google:sato@example.com", "tanaka": "m365:tanaka@contoso.com"}, ("google",))


def test_an_unknown_scheme_stops_the_start(db_url, clock):
    from bot.core.settings import SettingsError
    from tests.conftest import make_services

    settings = google_settings()
    odd = {**settings.interviewers, "tanaka": replace(settings.interviewers["tanaka"], calendar="m365:t@contoso.com")}
    with pytest.raises(SettingsError, match="tanaka"):
        make_services(db_url, clock, settings=replace(settings, interviewers=odd))


def test_google_scheme_books_as_the_bare_id_does(google, db_url, clock):
    settings = google_settings()
    schemed = {k: replace(v, calendar=f"google:{v.calendar}") for k, v in settings.interviewers.items()}
    svc = google_services(google, db_url, clock, settings=replace(settings, interviewers=schemed))
    chat = chat_for(svc)
    chat.apply(job="store-manager")
    chat.say("1")
    [b] = bookings(svc)
    assert b.calendar_id == SATO and b.calendar_event_id.endswith("/" + SATO)
    assert len(google.live(SATO)) == 1 and google.live(TANAKA) == []
    assert svc.calendar_for.feed_calendars() == [SATO, TANAKA]
    svc.engine.dispose()


@dataclass
class FakeBackend:
    """A provider backend that records what the router asks of it."""

    busy_at: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)

    def owns(self, ref):
        return ref.startswith("fake/")

    def pending(self, cal):
        return f"fake/pending/{cal}"

    def written(self, ref):
        return not ref.startswith("fake/pending/")

    def movable(self, old_ref, cal):
        return False

    def busy(self, cals, start, end, since=None):
        self.calls.append(("busy", tuple(cals)))
        return {c: self.busy_at.get(c, []) for c in cals}

    def clashes(self, cals, start, end, ignore=None, retry=True, since=None):
        self.calls.append(("clashes", tuple(cals), retry))
        return False

    def write(self, request, cal, members):
        self.calls.append(("write", cal))
        return f"fake/{request.booking_id}/{cal}"

    def move(self, old_ref, request, cal):
        return None

    def delete(self, ref):
        self.calls.append(("delete", ref))

    def meeting_url(self, ref):
        return None


class FakeLocal:
    def busy(self, interviewers, start, end):
        return {w: [Interval(start, start + timedelta(minutes=5))] for w in interviewers}

    def book(self, request):
        return "local-uid"

    def cancel(self, event_id):
        pass


def test_a_new_provider_is_one_more_backend_under_its_scheme():
    other = FakeBackend(busy_at={"room": [Interval(T0, T0 + timedelta(hours=1))]})
    routes = routes_of({"ito": "m365:room", "sato": "local"}, ("m365",))
    queued = []
    router = CalendarRouter(FakeLocal(), routes, {"m365": other}, defer=lambda op, data: queued.append(op))
    busy = router.busy(["ito", "sato"], T0, T0 + timedelta(days=1))
    assert busy["ito"] == [Interval(T0, T0 + timedelta(hours=1))] and len(busy["sato"]) == 1
    request = BookingRequest("9", Slot(T0 + timedelta(hours=2), T0 + timedelta(hours=3), "ito"), "面接")
    assert router.book(request) == "fake/pending/room" and queued == ["book"]  # a turn only queues the write
    assert ("clashes", ("room",), False) in other.calls  # after one unretried re-check
    writer = CalendarRouter(FakeLocal(), routes, {"m365": other})
    ref = writer.book(request)
    writer.cancel(ref)
    assert ("write", "room") in other.calls and ("delete", ref) in other.calls
    assert router.calendar_of("ito") == "room" and router.book(replace(request, slot=replace(
        request.slot, interviewer="sato"))) == "local-uid"
