"""Route each interviewer to the local calendar or a Google calendar, with a short free/busy cache."""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import replace
from datetime import datetime
from typing import Callable, Mapping, Sequence

from calendars.base import BookingRequest, Calendar, Interval, SlotTaken
from calendars.errors import CalendarError, Conflict, NotFound
from calendars.google.events import (booking_of, event_ref, split_ref, declined_by_owner, interview_body, is_all_day,
                                     meeting_url)
from calendars.google.hub import GoogleHub

log = logging.getLogger("sokuresu.calendar")
LOCAL = "local"


class CalendarRouter:
    """The Calendar interface over a local calendar and Google calendars, chosen per interviewer."""

    def __init__(self, hub: GoogleHub, local: Calendar, routes: Mapping[str, str],
                 defer: Callable[[str, dict], None] | None = None,
                 booked: Callable[[Sequence[str], datetime, datetime], dict[str, list[Interval]]] | None = None):
        self.hub, self.local, self.routes, self.defer = hub, local, routes, defer
        # Our own live bookings count as busy too: a write still waiting for Google, or a cache a moment old.
        self.booked = booked

    def calendar_of(self, interviewer: str) -> str:
        return self.routes.get(interviewer, LOCAL)

    def busy(self, interviewers: Sequence[str], start: datetime, end: datetime) -> dict[str, list[Interval]]:
        """Busy time of each interviewer; members of a panel are busy whenever any member is."""
        local = [w for w in interviewers if self.calendar_of(w) == LOCAL]
        result = self.local.busy(local, start, end) if local else {}
        remote = [w for w in interviewers if w not in local]
        if remote:
            found = self.hub.busy([self.calendar_of(w) for w in remote], start, end)
            ours = self.booked(remote, start, end) if self.booked else {}
            result.update({w: sorted([*found[self.calendar_of(w)], *ours.get(w, [])]) for w in remote})
        if tuple(interviewers) in self.hub.options.panels:
            # The first interviewer leads: free only when everyone is; the event goes in the lead's calendar.
            joined = sorted(i for w in interviewers for i in result.get(w, []))
            result = {w: [Interval(start, end)] for w in interviewers}
            result[interviewers[0]] = joined
        return result

    def _event_id(self, request: BookingRequest, cal: str) -> str:
        # Deterministic, so a retried insert finds the event the lost answer created (base32hex alphabet).
        return "sk" + hashlib.sha256(f"{request.booking_id}|{request.slot.key}|{cal}".encode()).hexdigest()[:30]

    def _panel_of(self, interviewer: str) -> tuple[str, ...]:
        return next((p for p in self.hub.options.panels if p and p[0] == interviewer), (interviewer,))

    def book(self, request: BookingRequest) -> str:
        """Re-check free/busy, then write the event; a Google outage defers the write (the choice is kept)."""
        cal = self.calendar_of(request.slot.interviewer)
        if cal == LOCAL:
            return self.local.book(request)
        try:
            return self._write(request, cal)
        except CalendarError as exc:  # down, rate-limited or refused: keep the choice, write it later
            if self.defer is None:
                raise
            log.warning("booking %s: calendar write deferred: %s", request.booking_id, exc)
            slot = request.slot
            self.defer("book", {"booking_id": request.booking_id, "start": slot.start.isoformat(),
                                "end": slot.end.isoformat(), "interviewer": slot.interviewer,
                                "summary": request.summary, "description": request.description,
                                "location": request.location, "attendee_email": request.attendee_email})
            return event_ref(cal, "pending")

    def _write(self, request: BookingRequest, cal: str) -> str:
        client, slot, opts = self.hub.client_for(cal), request.slot, self.hub.options
        event_id = self._event_id(request, cal)
        members = [self.calendar_of(w) for w in self._panel_of(slot.interviewer)]
        if self._clashes(members, slot.start, slot.end):
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
            body.setdefault("attendees", []).extend({"email": m} for m in members[1:] if m != LOCAL and "@" in m)
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

    def _clashes(self, cals: list[str], start: datetime, end: datetime, ignore: str | None = None) -> bool:
        fresh = self.hub.busy(cals, start, end, fresh=True)
        if ignore is None:
            return any(Interval(start, end).overlaps(b) for c in cals for b in fresh[c])
        # Moving our own event: its current span must not count against the new one.
        for cal in cals:
            client = self.hub.client_for(cal)
            for e in client.events_between(cal, start, end):
                shown_busy = (e.get("transparency") != "transparent"
                              or (is_all_day(e) and self.hub.options.all_day_blocks))
                if e["id"] != ignore and shown_busy and not declined_by_owner(e):
                    return True
        return False

    def _ours(self, client, cal: str, event_id: str, booking_id: str) -> str | None:
        try:
            event = client.get(cal, event_id)
        except NotFound:
            return None
        live = event.get("status") != "cancelled" and booking_of(event) == booking_id
        return event_ref(cal, event_id) if live else None

    def reschedule(self, old_ref: str, request: BookingRequest) -> str:
        """Move the interview: patch the event when it stays in the same calendar, else write new and delete old."""
        old = split_ref(old_ref)
        cal = self.calendar_of(request.slot.interviewer)
        if old is None or old[0] != cal or old[1] == "pending":
            new_ref = self.book(request)
            self.cancel(old_ref)
            return new_ref
        try:
            if self._clashes([cal], request.slot.start, request.slot.end, ignore=old[1]):
                raise SlotTaken(request.slot.key)
            client = self.hub.client_for(cal)
            invite = getattr(client, "acts_as_user", True)
            body = interview_body(request if invite else replace(request, attendee_email=None), meet=False)
            body.pop("status")
            event = client.patch(cal, old[1], body, self.hub.options.send_updates)
        except CalendarError:
            new_ref = self.book(request)  # Google is down or refuses: a deferred write and a deferred delete
            self.cancel(old_ref)
            return new_ref
        self.hub.forget(cal)
        self.hub.remember_link(old_ref, meeting_url(event))
        return old_ref

    def cancel(self, event_id: str) -> None:
        """Delete the event (Google) or mark it cancelled (local); an outage defers the delete."""
        ref = split_ref(event_id)
        if ref is None:
            return self.local.cancel(event_id)
        cal, google_id = ref
        if google_id == "pending":
            return  # never written; the pending write is cancelled with the booking's outbox rows
        try:
            self.hub.client_for(cal).delete(cal, google_id, self.hub.options.send_updates)
            self.hub.forget(cal)
        except CalendarError as exc:
            if self.defer is None:
                raise
            log.warning("calendar delete deferred: %s", exc)
            self.defer("cancel", {"event": event_id})

    def meeting_url(self, event_id: str | None) -> str | None:
        """The Meet link of a booked event, when Google made one."""
        return self.hub.links.get(event_id) if event_id else None
