"""Route each interviewer to a calendar backend by the scheme of their calendar setting.

`local` is the embedded calendar, `google:<calendar id>` (or a bare Google calendar id, as settings have
always written it) a Google calendar; a new provider is one more backend under its own scheme.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Collection, Mapping, Protocol, Sequence

from calendars.base import BookingRequest, Calendar, Interval, SlotTaken
from calendars.errors import CalendarError

log = logging.getLogger("sokuresu.calendar")
LOCAL = "local"
BARE = "google"  # the scheme of a setting that names none
SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):(.+)")  # no "@" before the colon: an address is never a scheme


class UnknownCalendar(ValueError):
    """An interviewer's calendar setting names a scheme no backend serves."""


@dataclass(frozen=True)
class Route:
    """Where one interviewer's calendar lives: the backend's scheme and that backend's own calendar id."""

    scheme: str
    calendar: str


def parse_route(setting: str) -> Route:
    """`local`, `google:<id>`, `<scheme>:<id>`; anything else is a bare Google calendar id."""
    if setting == LOCAL:
        return Route(LOCAL, LOCAL)
    if found := SCHEME.fullmatch(setting):
        return Route(found[1], found[2])
    return Route(BARE, setting)


def routes_of(calendars: Mapping[str, str], schemes: Collection[str]) -> dict[str, Route]:
    """Each interviewer's route (interviewer -> calendar setting); UnknownCalendar names one no backend serves."""
    routes = {}
    for who, setting in calendars.items():
        route = parse_route(setting)
        if route.scheme != LOCAL and route.scheme not in schemes:
            known = ", ".join(sorted({LOCAL, *schemes}))
            raise UnknownCalendar(f"interviewer {who!r}: calendar {setting!r} names the unknown calendar scheme "
                                  f"{route.scheme!r} (known: {known})")
        routes[who] = route
    return routes


class Backend(Protocol):
    """A provider's calendars as the router uses them; events are stored as refs the backend recognises."""

    def owns(self, ref: str) -> bool: ...
    def pending(self, calendar_id: str) -> str: ...  # the ref of an event not written yet
    def written(self, ref: str) -> bool: ...
    def movable(self, old_ref: str, cal: str) -> bool: ...  # move() can patch it in place
    # since: the caller holds a lock and fetched its reads beforehand, at or after that time (GoogleHub.busy)
    def busy(self, calendar_ids: Sequence[str], start: datetime, end: datetime,
             since: float | None = None) -> dict[str, list[Interval]]: ...
    def clashes(self, cals: Sequence[str], start: datetime, end: datetime, ignore: str | None = None,
                retry: bool = True, since: float | None = None) -> bool: ...
    def write(self, request: BookingRequest, cal: str, members: Sequence[str]) -> str: ...
    def move(self, old_ref: str, request: BookingRequest, cal: str) -> str | None: ...
    def delete(self, ref: str) -> None: ...
    def meeting_url(self, ref: str) -> str | None: ...


class CalendarRouter:
    """The Calendar interface over the local calendar and provider backends, chosen per interviewer.

    With `defer` (a turn, inside its transaction) a provider write is re-checked and handed to
    `defer(op, data)`, which queues it to run once the transaction has committed; the booking keeps the
    backend's pending ref meanwhile. Without it (the calendar writer, outside any transaction) it is written
    at once and errors are raised. Local writes are database rows: they stay in the caller's transaction.
    With `since` (a turn, whose provider reads were fetched before its transaction from that time on) the
    provider reads answer from what was fetched (Backend.busy).
    """

    def __init__(self, local: Calendar, routes: Mapping[str, Route], backends: Mapping[str, Backend],
                 panels: Collection[tuple] = (), defer: Callable[[str, dict], None] | None = None,
                 booked: Callable[[Sequence[str], datetime, datetime], dict[str, list[Interval]]] | None = None,
                 since: float | None = None):
        self.local, self.routes, self.backends, self.panels, self.defer = local, routes, backends, panels, defer
        self.since = since
        # Our own live bookings count as busy too: a write still queued, or a cache a moment old.
        self.booked = booked

    def route(self, interviewer: str) -> Route:
        return self.routes.get(interviewer, Route(LOCAL, LOCAL))

    def calendar_of(self, interviewer: str) -> str:
        return self.route(interviewer).calendar

    def busy(self, interviewers: Sequence[str], start: datetime, end: datetime) -> dict[str, list[Interval]]:
        """Busy time of each interviewer; members of a panel are busy whenever any member is."""
        groups: dict[str, list[str]] = {}
        for who in interviewers:
            groups.setdefault(self.route(who).scheme, []).append(who)
        local = groups.pop(LOCAL, [])
        result = self.local.busy(local, start, end) if local else {}
        if groups:
            ours = self.booked([w for ws in groups.values() for w in ws], start, end) if self.booked else {}
            for scheme, who in groups.items():
                found = self.backends[scheme].busy([self.calendar_of(w) for w in who], start, end, since=self.since)
                result.update({w: sorted([*found[self.calendar_of(w)], *ours.get(w, [])]) for w in who})
        if tuple(interviewers) in self.panels:
            # The first interviewer leads: free only when everyone is; the event goes in the lead's calendar.
            joined = sorted(i for w in interviewers for i in result.get(w, []))
            result = {w: [Interval(start, end)] for w in interviewers}
            result[interviewers[0]] = joined
        return result

    def _members(self, interviewer: str, scheme: str) -> list[str]:
        """The calendars, in this backend, of the panel this interviewer leads (else theirs alone)."""
        panel = next((p for p in self.panels if p and p[0] == interviewer), (interviewer,))
        return [self.calendar_of(w) for w in panel if self.route(w).scheme == scheme]

    def _owner(self, ref: str) -> Backend | None:
        return next((b for b in self.backends.values() if b.owns(ref)), None)

    def book(self, request: BookingRequest) -> str:
        """Write the interview (local), or re-check and queue the write (provider); raise SlotTaken if it is gone."""
        route = self.route(request.slot.interviewer)
        if route.scheme == LOCAL:
            return self.local.book(request)
        backend, members = self.backends[route.scheme], self._members(request.slot.interviewer, route.scheme)
        if self.defer is None:
            return backend.write(request, route.calendar, members)
        self._recheck(backend, members, request)
        self.defer("book", _payload(request))
        return backend.pending(route.calendar)

    def _recheck(self, backend: Backend, cals: list[str], request: BookingRequest, ignore: str | None = None) -> None:
        # The re-check is part of the booking turn, unlike the write: its answer is this very turn's reply
        # (booked, or "taken meanwhile" with other times), and which time of which interviewer to check is
        # known only once the turn has decided on the locked applicant. So it reads what the turn fetched
        # just before its transaction (`since`), else asks once, never backed off with sleeps. Unanswered,
        # it keeps the choice (as an outage always has): the queued write checks again and tells the
        # candidate should the time be gone by then.
        slot = request.slot
        try:
            taken = backend.clashes(cals, slot.start, slot.end, ignore=ignore, retry=False, since=self.since)
        except CalendarError as exc:
            log.warning("booking %s: free/busy re-check unanswered (%s); the write checks again",
                        request.booking_id, exc)
            return
        if taken:
            raise SlotTaken(slot.key)

    def reschedule(self, old_ref: str, request: BookingRequest) -> str:
        """Move the interview: patch the event when it stays in the same calendar, else write new and delete old."""
        route = self.route(request.slot.interviewer)
        backend = self.backends.get(route.scheme)
        if backend is None or backend is not self._owner(old_ref):  # to or from another backend
            new_ref = self.book(request)
            self.cancel(old_ref)
            return new_ref
        if self.defer is not None:
            patch = backend.movable(old_ref, route.calendar)
            cals = [route.calendar] if patch else self._members(request.slot.interviewer, route.scheme)
            self._recheck(backend, cals, request, ignore=old_ref if patch else None)
            self.defer("book", _payload(request, replaces=old_ref))
            return backend.pending(route.calendar)
        try:
            moved = backend.move(old_ref, request, route.calendar)
        except CalendarError:
            moved = None  # refused as a patch: write it anew and delete the old one
        if moved is None:
            new_ref = self.book(request)
            self.cancel(old_ref)
            return new_ref
        return moved

    def cancel(self, event_id: str) -> None:
        """Delete the event (provider: after commit when deferring) or mark it cancelled (local)."""
        backend = self._owner(event_id)
        if backend is None:
            return self.local.cancel(event_id)
        if self.defer is None:
            return backend.delete(event_id)
        if backend.written(event_id):  # one never written is dropped with its booking's queued write
            self.defer("cancel", {"event": event_id})

    def written(self, event_id: str) -> bool:
        """Whether this booked event exists in its calendar (not a provider's pending ref still to be written)."""
        backend = self._owner(event_id)
        return backend is None or backend.written(event_id)  # a local event is written with its booking

    def meeting_url(self, event_id: str | None) -> str | None:
        """The provider's own meeting link of a booked event (Google Meet), when there is one."""
        backend = self._owner(event_id) if event_id else None
        return backend.meeting_url(event_id) if backend else None


def _payload(request: BookingRequest, replaces: str | None = None) -> dict:
    """A queued write: the request, and the event it moves (a reschedule), as JSON."""
    slot = request.slot
    data = {"booking_id": request.booking_id, "start": slot.start.isoformat(), "end": slot.end.isoformat(),
            "interviewer": slot.interviewer, "summary": request.summary, "description": request.description,
            "location": request.location, "attendee_email": request.attendee_email,
            "private_note": request.private_note}
    return {**data, "replaces": replaces} if replaces else data
