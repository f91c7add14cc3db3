"""iCalendar (RFC 5545) output: an interviewer's subscribable feed and a candidate's single event."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable

from icalendar import Alarm, Calendar, Event, vDuration

PRODID = "-//Sokuresu//Sokuresu//EN"
REFRESH = timedelta(minutes=15)


@dataclass(frozen=True)
class Entry:
    """What feed() reads from each event; LocalEvent has the same attributes and fits too."""

    uid: str
    start_at: datetime
    end_at: datetime
    summary: str
    description: str
    location: str
    status: str
    sequence: int
    updated_at: datetime


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def _calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal


def _event(uid: str, start: datetime, end: datetime, summary: str, description: str, location: str,
           stamp: datetime, status: str = "CONFIRMED", sequence: int = 0) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", _utc(stamp))
    event.add("dtstart", _utc(start))
    event.add("dtend", _utc(end))
    event.add("summary", summary)
    if description:
        event.add("description", description)
    if location:
        event.add("location", location)
    event.add("status", status)
    event.add("sequence", sequence)
    return event


def feed(name: str, events: Iterable[Entry], tz_name: str, stamp: datetime) -> bytes:
    """Render events as a subscribable iCalendar feed (times in UTC, cancelled ones kept so clients drop them)."""
    cal = _calendar("PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz_name)
    # RFC 7986 requires the VALUE parameter on REFRESH-INTERVAL; X-PUBLISHED-TTL is Outlook's name for it.
    cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    for item in events:
        event = _event(item.uid, item.start_at, item.end_at, item.summary, item.description, item.location,
                       stamp, status=item.status.upper(), sequence=item.sequence)
        event.add("last-modified", _utc(item.updated_at))
        cal.add_component(event)
    return cal.to_ical()


def single_event(uid: str, start: datetime, end: datetime, summary: str, description: str, location: str,
                 stamp: datetime, url: str | None = None, method: str = "PUBLISH", sequence: int = 0) -> bytes:
    """Render one interview as an .ics file with a display reminder an hour before it starts."""
    cal = _calendar(method)
    status = "CANCELLED" if method == "CANCEL" else "CONFIRMED"
    event = _event(uid, start, end, summary, description, location, stamp,
                   status=status, sequence=sequence)
    if url:
        event.add("url", url)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", timedelta(hours=-1))
    event.add_component(alarm)
    cal.add_component(event)
    return cal.to_ical()
