"""Google free/busy for the whole process: one client per credential and a short cache shared by every request."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Sequence

from calendars.base import Interval
from calendars.errors import CalendarError, CalendarPermissionError
from calendars.google.events import declined_by_owner, is_all_day, parse_time

log = logging.getLogger("sokuresu.calendar")
STALE_OK = 3600.0  # during an outage, free/busy up to an hour old beats offering nothing


@dataclass(frozen=True)
class GoogleOptions:
    """How bookings are written: plain data from the settings file."""

    send_updates: str = "all"                       # all | externalOnly | none
    all_day_blocks: bool = True                     # all-day events block the day even when shown as free
    meet_places: frozenset = frozenset()            # BookingRequest.location values of online jobs
    cache_seconds: float = 60.0
    panels: tuple = ()                              # interviewer tuples that must all be free together


@dataclass
class GoogleHub:
    """Process-wide: one client per credential and the free/busy cache shared by every request."""

    client_for: Callable[[str], object]            # calendar id -> GoogleCalendar
    options: GoogleOptions = field(default_factory=GoogleOptions)
    clock: Callable[[], float] = time.monotonic
    links: dict = field(default_factory=dict)       # event ref -> Meet link, for the confirmation message
    _cache: dict = field(default_factory=dict)      # calendar id -> (fetched_at, start, end, intervals)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def remember_link(self, ref: str, url: str | None) -> None:
        if url:
            self.links[ref] = url
            while len(self.links) > 500:  # only needed until the confirmation is written; keep it small
                self.links.pop(next(iter(self.links)))

    def forget(self, calendar_id: str) -> None:
        with self._lock:
            self._cache.pop(calendar_id, None)

    def busy(self, calendar_ids: Sequence[str], start: datetime, end: datetime, fresh: bool = False,
             retry: bool = True) -> dict[str, list[Interval]]:
        """Busy time per calendar; one Google cannot answer for counts as busy (fresh=True: raise instead).
        retry=False asks once, without backoff sleeps (a re-check made while the caller holds a lock)."""
        now, result, missing = self.clock(), {}, []
        with self._lock:
            for cal in dict.fromkeys(calendar_ids):
                hit = self._cache.get(cal)
                if (not fresh and hit and now - hit[0] < self.options.cache_seconds
                        and hit[1] <= start and hit[2] >= end):
                    result[cal] = hit[3]
                else:
                    missing.append(cal)
        by_client: dict[int, tuple[object, list[str]]] = {}
        failed: dict[str, CalendarError] = {}
        for cal in missing:
            try:
                client = self.client_for(cal)
            except CalendarError as exc:
                failed[cal] = exc
                continue
            by_client.setdefault(id(client), (client, []))[1].append(cal)
        # Fetch a day more than asked so the next candidate's slightly later window is still a cache hit.
        until = end + timedelta(days=1)
        for client, cals in by_client.values():
            try:
                found, errors = client.freebusy(cals, start, until, retry=retry)
                for cal in cals:
                    if cal not in errors:
                        found[cal] = self._refine(client, cal, found.get(cal, []), start, until, retry)
            except CalendarError as exc:
                found, errors = {}, {cal: exc for cal in cals}
            for cal in cals:
                if cal in errors:
                    error = errors[cal]
                    failed[cal] = error if isinstance(error, CalendarError) else CalendarPermissionError(error)
                else:
                    result[cal] = sorted(found.get(cal, []))
                    with self._lock:
                        self._cache[cal] = (now, start, until, result[cal])
        if failed and fresh:  # a booking re-check must not guess: the caller defers the write instead
            raise next(iter(failed.values()))
        for cal, error in failed.items():
            result[cal] = self._fallback(cal, start, end, str(error))
        return result

    def _refine(self, client, cal: str, busy: list[Interval], start: datetime, end: datetime,
                retry: bool = True) -> list[Interval]:
        """Drop busy time made only of events the owner declined; add all-day events when they block."""
        try:
            events = [e for e in client.events_between(cal, start, end, retry=retry)
                      if e.get("status") != "cancelled"]
        except CalendarPermissionError:
            return busy  # shared as free/busy only: Google's own answer is all we can know

        def span(e: dict) -> Interval:
            return Interval(parse_time(e["start"], client.tz), parse_time(e["end"], client.tz))

        declined = [span(e) for e in events if declined_by_owner(e)]
        blocking = [span(e) for e in events if not declined_by_owner(e) and e.get("transparency") != "transparent"]
        kept = [b for b in busy if not any(b.overlaps(d) for d in declined) or any(b.overlaps(x) for x in blocking)]
        if self.options.all_day_blocks:
            kept += [span(e) for e in events if is_all_day(e) and not declined_by_owner(e)]
        return kept

    def _fallback(self, cal: str, start: datetime, end: datetime, why: str) -> list[Interval]:
        hit = self._cache.get(cal)
        if hit and self.clock() - hit[0] < STALE_OK and hit[1] <= start and hit[2] >= end:
            log.warning("calendar %s: free/busy failed (%s); using the last answer", cal, why)
            return hit[3]
        log.warning("calendar %s: free/busy failed (%s); treating it as busy", cal, why)
        return [Interval(start, end)]
