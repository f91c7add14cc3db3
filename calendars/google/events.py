"""Calendar API event bodies and fields, read and written as plain dicts (no vendor import here)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from calendars.base import BookingRequest, CalendarChange

BOOKING_KEY = "sokuresuBooking"  # extendedProperties.private key holding our booking id
UTC = timezone.utc


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: dict, tz: ZoneInfo) -> datetime:
    """An event's start/end ({'dateTime'} or all-day {'date'}) as an aware UTC datetime."""
    if "dateTime" in value:
        return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00")).astimezone(UTC)
    day = datetime.fromisoformat(value["date"])
    return day.replace(tzinfo=ZoneInfo(value.get("timeZone") or str(tz))).astimezone(UTC)


def is_all_day(event: dict) -> bool:
    return "date" in event.get("start", {})


def declined_by_owner(event: dict) -> bool:
    return any(a.get("self") and a.get("responseStatus") == "declined" for a in event.get("attendees", ()))


def booking_of(event: dict) -> str | None:
    """Our booking id stored on the event, or None for events we did not write."""
    return event.get("extendedProperties", {}).get("private", {}).get(BOOKING_KEY)


def meeting_url(event: dict) -> str | None:
    """The Meet link of an event, once Google has created the conference."""
    for entry in event.get("conferenceData", {}).get("entryPoints", ()):
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return entry["uri"]
    return event.get("hangoutLink")


def event_ref(calendar_id: str, event_id: str) -> str:
    """Our stored id of a Google event: Google event ids never contain '/', so it splits back cleanly."""
    return f"g/{event_id}/{calendar_id}"


def split_ref(ref: str) -> tuple[str, str] | None:
    """(calendar id, event id) of a Google ref, None for a local UID."""
    if not ref.startswith("g/"):
        return None
    _, event_id, calendar_id = ref.split("/", 2)
    return calendar_id, event_id


def change_of(calendar_id: str, event: dict, tz: ZoneInfo) -> CalendarChange:
    """One events.list item (with showDeleted) as a calendar change."""
    cancelled = event.get("status") == "cancelled"
    raw = f"{event['id']}:{event.get('updated', '')}:{event.get('status', '')}"
    return CalendarChange(calendar_id, event["id"], event_ref(calendar_id, event["id"]), booking_of(event),
                          None if cancelled else parse_time(event["start"], tz),
                          None if cancelled else parse_time(event["end"], tz),
                          cancelled, hashlib.sha1(raw.encode()).hexdigest())


def interview_body(request: BookingRequest, *, meet: bool, location: str = "") -> dict:
    """The events.insert/patch body for one interview."""
    # A guest (the candidate) reads the description, and Google mails it to them; otherwise only the company does.
    shown = request.description if request.attendee_email else request.for_company()
    body: dict[str, Any] = {
        "summary": request.summary, "description": shown,
        "start": {"dateTime": rfc3339(request.slot.start)}, "end": {"dateTime": rfc3339(request.slot.end)},
        "extendedProperties": {"private": {BOOKING_KEY: request.booking_id}},
        "transparency": "opaque", "status": "confirmed",
    }
    if location:
        body["location"] = location
    if request.attendee_email:
        body["attendees"] = [{"email": request.attendee_email}]
    if meet:
        # requestId is per create request: a retried insert with the same id is not a second conference.
        body["conferenceData"] = {"createRequest": {"requestId": f"sokuresu-{request.booking_id}-{request.slot.key}",
                                                    "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    return body
