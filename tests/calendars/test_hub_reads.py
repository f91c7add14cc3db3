"""The hub's cache as a turn reads it under its locks: what was fetched beforehand, never a call with sleeps."""
from datetime import datetime, timedelta, timezone

import pytest

from calendars.base import Interval
from calendars.errors import CalendarUnavailable
from calendars.google.hub import GoogleHub

T0 = datetime(2026, 11, 30, tzinfo=timezone.utc)
CAL = "sato@example.com"


class Client:
    """A Google client that answers from a list of busy times and counts what it was asked."""

    tz = timezone.utc

    def __init__(self):
        self.busy, self.asked, self.down = [Interval(T0 + timedelta(hours=2), T0 + timedelta(hours=3))], [], False

    def freebusy(self, cals, start, end, retry=True):
        self.asked.append(("freebusy", start, end, retry))
        if self.down:
            raise CalendarUnavailable("HTTP 503 backendError")
        return {cal: list(self.busy) for cal in cals}, {}

    def events_between(self, cal, start, end, retry=True):
        self.asked.append(("events", start, end, retry))
        return []


@pytest.fixture
def hub():
    ticks = iter(range(1000))
    client = Client()
    found = GoogleHub(lambda cal: client, clock=lambda: float(next(ticks)))
    found.client = client
    return found


def test_a_turn_reads_an_answer_however_old_without_asking(hub):
    fetched = hub.busy([CAL], T0, T0 + timedelta(days=14))
    hub.client.busy = []  # changed in Google since: the turn still reads what was fetched
    later = hub.clock() + 10_000  # far past cache_seconds, and no read of this calendar since
    assert hub.busy([CAL], T0, T0 + timedelta(days=2), since=later) == fetched
    assert len(hub.client.asked) == 2  # the first read's free/busy and events only


def test_a_re_check_reads_the_answer_fetched_before_the_turn_and_asks_once_without_one(hub):
    since = hub.clock()
    hub.busy([CAL], T0, T0 + timedelta(days=14), fresh=True, retry=False)  # the turn's prefetch
    asked = len(hub.client.asked)
    assert hub.busy([CAL], T0 + timedelta(hours=2), T0 + timedelta(hours=3), fresh=True, since=since)[CAL]
    assert len(hub.client.asked) == asked
    hub.busy([CAL], T0 + timedelta(hours=2), T0 + timedelta(hours=3), fresh=True, since=hub.clock())
    assert [retry for *_, retry in hub.client.asked[asked:]] == [False, False]  # asked once, never backed off


def test_a_read_that_failed_before_the_turn_is_not_asked_again_under_its_lock(hub):
    hub.client.down = True
    since = hub.clock()
    with pytest.raises(CalendarUnavailable):
        hub.busy([CAL], T0, T0 + timedelta(days=14), fresh=True, retry=False)
    asked = len(hub.client.asked)
    with pytest.raises(CalendarUnavailable):  # the re-check is unanswered: the turn keeps the choice
        hub.busy([CAL], T0 + timedelta(hours=2), T0 + timedelta(hours=3), fresh=True, since=since)
    assert hub.busy([CAL], T0, T0 + timedelta(days=2), since=since) == {CAL: [Interval(T0, T0 + timedelta(days=2))]}
    assert len(hub.client.asked) == asked


def test_a_re_check_does_not_push_out_the_answer_for_the_whole_horizon(hub):
    hub.busy([CAL], T0, T0 + timedelta(days=14))
    hub.busy([CAL], T0 + timedelta(days=3), T0 + timedelta(days=3, hours=1), fresh=True)  # the writer's re-check
    asked = len(hub.client.asked)
    hub.busy([CAL], T0 + timedelta(minutes=1), T0 + timedelta(days=14))
    assert len(hub.client.asked) == asked  # still answered from the cache
