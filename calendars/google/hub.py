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
    # calendar id -> (fetched_at, start, end, intervals, events): `events` are (event, span) pairs read
    # with the intervals, None when the calendar shares free/busy only
    _cache: dict = field(default_factory=dict)
    _failed: dict = field(default_factory=dict)     # calendar id -> (when, CalendarError) of its last failed read
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
             retry: bool = True, since: float | None = None) -> dict[str, list[Interval]]:
        """Busy time per calendar; one Google cannot answer for counts as busy (fresh=True: raise instead).
        retry=False asks once, without backoff sleeps (a re-check made while the caller holds a lock).

        `since` (a reader holding a lock, whose reads were fetched beforehand, from that clock time on): an
        answer fetched since then serves even a fresh read; a calendar whose read failed since then fails
        again without asking; else any cached answer, however old, serves a read that is not fresh. Only a
        calendar with none of these is asked, once and without sleeps.
        """
        now, result, missing = self.clock(), {}, []
        failed: dict[str, CalendarError] = {}
        with self._lock:
            for cal in dict.fromkeys(calendar_ids):
                hit = self._cache.get(cal)
                covers = hit is not None and hit[1] <= start and hit[2] >= end
                recent = covers and since is not None and hit[0] >= since
                if covers and (recent or not fresh and now - hit[0] < self.options.cache_seconds):
                    result[cal] = hit[3]
                elif since is not None and cal in self._failed and self._failed[cal][0] >= since:
                    failed[cal] = self._failed[cal][1]  # as an outage always was: the last answer, or busy
                elif since is not None and covers and not fresh:
                    result[cal] = hit[3]  # not fetched beforehand: an older answer rather than a call under a lock
                else:
                    missing.append(cal)
        if missing and since is not None:
            log.info("calendars %s: free/busy not fetched before the lock; asking once", missing)
            retry = False
        by_client: dict[int, tuple[object, list[str]]] = {}
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
                seen = {}
                for cal in cals:
                    if cal not in errors:
                        found[cal], seen[cal] = self._refine(client, cal, found.get(cal, []), start, until, retry)
            except CalendarError as exc:
                found, errors = {}, {cal: exc for cal in cals}
            for cal in cals:
                if cal in errors:
                    error = errors[cal]
                    failed[cal] = error if isinstance(error, CalendarError) else CalendarPermissionError(error)
                    with self._lock:
                        self._failed[cal] = (now, failed[cal])
                else:
                    result[cal] = sorted(found.get(cal, []))
                    with self._lock:
                        kept = self._cache.get(cal)
                        # A re-check's narrow window does not push out an answer still current that reaches
                        # further (readers ask from now on: a later start loses nothing they ask for).
                        if kept is None or now - kept[0] >= self.options.cache_seconds or until >= kept[2]:
                            self._cache[cal] = (now, start, until, result[cal], seen[cal])
        if failed and fresh:  # a booking re-check must not guess: the caller defers the write instead
            raise next(iter(failed.values()))
        for cal, error in failed.items():
            result[cal] = self._fallback(cal, start, end, str(error))
        return result

    def events(self, calendar_id: str, start: datetime, end: datetime, since: float) -> list[dict] | None:
        """The events overlapping [start, end) as read with busy time fetched at or after `since`; None when
        there is no such read."""
        with self._lock:
            hit = self._cache.get(calendar_id)
        if hit is None or hit[0] < since or hit[1] > start or hit[2] < end or hit[4] is None:
            return None
        wanted = Interval(start, end)
        return [event for event, span in hit[4] if span.overlaps(wanted)]

    def _refine(self, client, cal: str, busy: list[Interval], start: datetime, end: datetime,
                retry: bool = True) -> tuple[list[Interval], list[tuple[dict, Interval]] | None]:
        """Drop busy time made only of events the owner declined; add all-day events when they block. With the
        events read, as (event, span) pairs (None: shared as free/busy only)."""
        try:
            events = [e for e in client.events_between(cal, start, end, retry=retry)
                      if e.get("status") != "cancelled"]
        except CalendarPermissionError:
            return busy, None  # shared as free/busy only: Google's own answer is all we can know

        def span(e: dict) -> Interval:
            return Interval(parse_time(e["start"], client.tz), parse_time(e["end"], client.tz))

        declined = [span(e) for e in events if declined_by_owner(e)]
        blocking = [span(e) for e in events if not declined_by_owner(e) and e.get("transparency") != "transparent"]
        kept = [b for b in busy if not any(b.overlaps(d) for d in declined) or any(b.overlaps(x) for x in blocking)]
        if self.options.all_day_blocks:
            kept += [span(e) for e in events if is_all_day(e) and not declined_by_owner(e)]
        return kept, [(e, span(e)) for e in events]

    def _fallback(self, cal: str, start: datetime, end: datetime, why: str) -> list[Interval]:
        hit = self._cache.get(cal)
        if hit and self.clock() - hit[0] < STALE_OK and hit[1] <= start and hit[2] >= end:
            log.warning("calendar %s: free/busy failed (%s); using the last answer", cal, why)
            return hit[3]
        log.warning("calendar %s: free/busy failed (%s); treating it as busy", cal, why)
        return [Interval(start, end)]
