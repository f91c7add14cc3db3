"""The router's Google backend (scheme `google`): free/busy through the process's hub, and the interview events."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime
from typing import Sequence

from calendars.base import BookingRequest, Interval, SlotTaken
from calendars.errors import CalendarError, Conflict, NotFound
from calendars.google.events import (
    booking_of,
    declined_by_owner,
    event_ref,
    interview_body,
    is_all_day,
    meeting_url,
    split_ref,
)
from calendars.google.hub import GoogleHub

PENDING = "pending"  # the event id of a booking whose event is not written yet


class GoogleBackend:
    """Calendars in Google; an event is stored as the ref `g/<event id>/<calendar id>` (events.event_ref)."""

    def __init__(self, hub: GoogleHub):
        self.hub = hub

    def owns(self, ref: str) -> bool:
        return split_ref(ref) is not None

    def pending(self, calendar_id: str) -> str:
        """The ref a booking keeps until its event is written."""
        return event_ref(calendar_id, PENDING)

    def written(self, ref: str) -> bool:
        return split_ref(ref)[1] != PENDING

    def movable(self, old_ref: str, cal: str) -> bool:
        """Whether move() can patch this event in place: written, and in calendar `cal`."""
        old = split_ref(old_ref)
        return old is not None and old[1] != PENDING and old[0] == cal

    def busy(self, calendar_ids: Sequence[str], start: datetime, end: datetime,
             since: float | None = None) -> dict[str, list[Interval]]:
        return self.hub.busy(calendar_ids, start, end, since=since)

    def clashes(self, cals: Sequence[str], start: datetime, end: datetime, ignore: str | None = None,
                retry: bool = True, since: float | None = None) -> bool:
        """Whether [start, end) is busy now in any of these calendars (no cache, or what was read since `since`:
        see GoogleHub.busy); `ignore` is our own event's ref."""
        old = split_ref(ignore) if ignore else None
        if old is None:
            fresh = self.hub.busy(cals, start, end, fresh=True, retry=retry, since=since)
            return any(Interval(start, end).overlaps(b) for c in cals for b in fresh[c])
        # Moving our own event: its current span must not count against the new one.
        for cal in cals:
            events = self.hub.events(cal, start, end, since) if since is not None else None
            if events is None:
                events = self.hub.client_for(cal).events_between(cal, start, end, retry=retry and since is None)
            for e in events:
                shown_busy = (e.get("transparency") != "transparent"
                              or (is_all_day(e) and self.hub.options.all_day_blocks))
                if e["id"] != old[1] and shown_busy and not declined_by_owner(e):
                    return True
        return False

    def write(self, request: BookingRequest, cal: str, members: Sequence[str]) -> str:
        """Re-check, then insert the event (a panel's other members invited); raise SlotTaken if the time is gone."""
        client, slot, opts = self.hub.client_for(cal), request.slot, self.hub.options
        event_id = self._event_id(request, cal)
        if self.clashes(members, slot.start, slot.end):
            existing = self._ours(client, cal, event_id, request.booking_id)
            if existing is None:
                raise SlotTaken(slot.key)
            return existing
        # Only a user (delegated, or a personal account) may invite guests or open a Meet;
        # a bare service account may not.
        invite = getattr(client, "acts_as_user", True)
        meet = invite and request.location in opts.meet_places
        body = interview_body(request if invite else replace(request, attendee_email=None), meet=meet,
                              location="" if meet else request.location)
        body["id"] = event_id
        if len(members) > 1:  # a panel: the other interviewers are invited to the lead's event
            body.setdefault("attendees", []).extend({"email": m} for m in members[1:] if "@" in m)
        try:
            event = client.insert(cal, body, opts.send_updates)
        except Conflict:
            found = client.get(cal, event_id)
            if found.get("status") == "cancelled" or booking_of(found) != request.booking_id:
                body["id"] = event_id + secrets.token_hex(4)
                event = client.insert(cal, body, opts.send_updates)
            else:
                event = found
        if meet and not meeting_url(event):  # Google makes Meet links asynchronously; a second look usually has it
            try:
                event = client.get(cal, event["id"])
            except CalendarError:
                pass
        for member in members:
            self.hub.forget(member)
        ref = event_ref(cal, event["id"])
        self.hub.remember_link(ref, meeting_url(event))
        return ref

    def move(self, old_ref: str, request: BookingRequest, cal: str) -> str | None:
        """Patch our event to the new time when it stays in calendar `cal`; None when it cannot be patched
        (another calendar, never written). Raises SlotTaken, or CalendarError when Google fails."""
        if not self.movable(old_ref, cal):
            return None
        old = split_ref(old_ref)
        if self.clashes([cal], request.slot.start, request.slot.end, ignore=old_ref):
            raise SlotTaken(request.slot.key)
        client = self.hub.client_for(cal)
        invite = getattr(client, "acts_as_user", True)
        body = interview_body(request if invite else replace(request, attendee_email=None), meet=False)
        body.pop("status")
        event = client.patch(cal, old[1], body, self.hub.options.send_updates)
        self.hub.forget(cal)
        self.hub.remember_link(old_ref, meeting_url(event))
        return old_ref

    def delete(self, ref: str) -> None:
        """Delete the event; one never written (pending) or already gone is fine."""
        cal, event_id = split_ref(ref)
        if event_id == PENDING:
            return
        self.hub.client_for(cal).delete(cal, event_id, self.hub.options.send_updates)
        self.hub.forget(cal)

    def meeting_url(self, ref: str) -> str | None:
        """The Meet link of an event we wrote in this process, when Google made one."""
        return self.hub.links.get(ref)

    @staticmethod
    def _event_id(request: BookingRequest, cal: str) -> str:
        # Deterministic, so a retried insert finds the event the lost answer created (base32hex alphabet).
        return "sk" + hashlib.sha256(f"{request.booking_id}|{request.slot.key}|{cal}".encode()).hexdigest()[:30]

    @staticmethod
    def _ours(client, cal: str, event_id: str, booking_id: str) -> str | None:
        try:
            event = client.get(cal, event_id)
        except NotFound:
            return None
        live = event.get("status") != "cancelled" and booking_of(event) == booking_id
        return event_ref(cal, event_id) if live else None
