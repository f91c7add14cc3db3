"""Wire Google Calendar in: credentials from config or a stored OAuth grant, one hub per process,
a router per session."""
from __future__ import annotations

import json
import logging
import math
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlmodel import Session

from bot.config import Config
from bot.core.settings import Settings, SettingsError
from bot.core.vocab import CALENDAR
from bot.service import vault
from bot.service.availability import FETCHED_SINCE, live_bookings
from bot.service.calendar_sync import CalendarWriter, queue_write
from calendars.base import Interval
from calendars.errors import CalendarError, CalendarPermissionError
from calendars.google.events import change_of
from calendars.google.hub import GoogleHub, GoogleOptions
from calendars.google.remote import GoogleBackend
from calendars.local import LocalCalendar
from calendars.router import Backend, CalendarRouter, Route, UnknownCalendar, routes_of

log = logging.getLogger("sokuresu.calendar")
OAUTH_PREFIX = "google-oauth:"  # StoredCredential name of a personal account's grant, per calendar id
# The provider backends by the scheme of an interviewer's calendar setting (`google:<id>`, or a bare id):
# a new provider is one entry, its backend built over this process's shared clients.
BACKENDS: dict[str, Callable[["GoogleCalendars"], Backend]] = {"google": lambda wiring: GoogleBackend(wiring.hub)}


def service_account_info(config: Config) -> dict | None:
    """The service-account key from GOOGLE_SERVICE_ACCOUNT_JSON or the file GOOGLE_SERVICE_ACCOUNT_FILE."""
    if config.google_service_account_json:
        return json.loads(config.google_service_account_json)
    if config.google_service_account_file:
        return json.loads(Path(config.google_service_account_file).read_text(encoding="utf-8"))
    return None


def calendar_routes(settings: Settings) -> dict[str, Route]:
    """Each interviewer's calendar route; a scheme no backend serves is an error naming the interviewer."""
    return routes_of({i.id: i.calendar for i in settings.interviewers.values()}, BACKENDS)


def google_calendar_ids(settings: Settings) -> list[str]:
    return list(dict.fromkeys(r.calendar for r in calendar_routes(settings).values() if r.scheme == "google"))


def options_from(settings: Settings, renderer) -> GoogleOptions:
    c = settings.calendar
    online = frozenset(renderer.place(j.id, "ja") for j in settings.jobs.values() if j.mode == "online")
    panels = tuple(j.interviewers for j in settings.jobs.values()
                   if j.assignment == "panel" and len(j.interviewers) > 1)
    pooled = {w for j in settings.jobs.values() if j.assignment == "pool" for w in j.interviewers}
    for lead in {p[0] for p in panels} & pooled:
        # The router knows a panel booking by its lead (a booking request names no job).
        log.warning("interviewer %s leads a panel job and sits in a pool job: their pool bookings will invite "
                    "the panel too; put someone else first in the panel job", lead)
    return GoogleOptions(send_updates=c.send_updates, all_day_blocks=c.all_day_blocks,
                         meet_places=online if c.meet else frozenset(), cache_seconds=c.cache_seconds, panels=panels)


class GoogleCalendars:
    """`calendar_for(session)` when some interviewer lives in Google Calendar."""

    def __init__(self, config: Config, settings: Settings, renderer, clock: Callable[[], datetime],
                 sleep: Callable[[float], None] | None = None,
                 queue: Callable[[Session, str, dict], object] | None = None):
        self.config, self.settings, self.clock, self.sleep = config, settings, clock, sleep
        self.queue = queue  # queue(session, op, data): a provider write, run after the caller's commit
        self.routes = calendar_routes(settings)
        self.hub = GoogleHub(self.client_for, options_from(settings, renderer))
        self.backends = {scheme: make(self) for scheme, make in BACKENDS.items()}
        self._clients: dict[str, object] = {}
        self._oauth: dict[str, dict] | None = None  # calendar id -> authorized-user record, read once
        self._lock = threading.Lock()
        self.last_poll = 0.0

    def _client(self, key: str, make_credentials, acts_as_user: bool = True):
        from calendars.google.backend import GoogleCalendar

        with self._lock:
            if key not in self._clients:
                kw = {"sleep": self.sleep} if self.sleep else {}
                self._clients[key] = GoogleCalendar(make_credentials(), self.config.google_api_endpoint,
                                                    self.settings.tz, acts_as_user=acts_as_user, **kw)
            return self._clients[key]

    def client_for(self, calendar_id: str):
        """The client for a calendar: its own stored OAuth grant if it has one, else the service account."""
        try:
            return self._client_for(calendar_id)
        except (ValueError, KeyError, OSError) as exc:  # a broken key file must not crash a candidate's turn
            raise CalendarPermissionError(f"credentials unreadable: {type(exc).__name__}: {exc}") from None

    def _client_for(self, calendar_id: str):
        from calendars.google.backend import service_account_credentials, user_credentials

        grant = (self._oauth or {}).get(calendar_id)
        if grant is not None:
            return self._client(OAUTH_PREFIX + calendar_id,
                                lambda: user_credentials(grant, self.config.google_token_uri))
        info = service_account_info(self.config)
        if info is None:
            raise CalendarPermissionError(f"no credentials for {calendar_id}: set GOOGLE_SERVICE_ACCOUNT_FILE "
                                          "or run `sokuresu google auth`")
        return self._client("service-account", lambda: service_account_credentials(
            info, self.config.google_delegated_user, self.config.google_token_uri),
            acts_as_user=bool(self.config.google_delegated_user))

    def load_grants(self, session: Session) -> None:
        """Read the stored personal-account grants (once per process; a new grant needs a restart)."""
        if self._oauth is None:
            found = {}
            for name in vault.names(session, OAUTH_PREFIX):
                found[name.removeprefix(OAUTH_PREFIX)] = vault.load(session, self.config.secret_key, name)
            self._oauth = found

    def __call__(self, session: Session, defer: bool = True) -> CalendarRouter:
        """The router for one session; defer=False (the calendar writer) writes to the provider at once.

        A turn's router (defer) reads what was fetched before its transaction (prefetch); in a transaction
        that fetched nothing beforehand, whatever the cache holds, asking Google only for what it lacks.
        """
        self.load_grants(session)
        later = (lambda op, data: self.queue(session, op, data)) if defer and self.queue else None
        since = session.info.get(FETCHED_SINCE, math.inf) if defer else None
        return CalendarRouter(LocalCalendar(session, self.clock), self.routes, self.backends, self.hub.options.panels,
                              defer=later, booked=lambda who, start, end: booked_intervals(session, who, start, end),
                              since=since)

    def prefetch(self, interviewers: list[str], start: datetime, end: datetime, fresh: bool) -> float:
        """Read these interviewers' busy time before a transaction reads it; the hub's time the reads began,
        which the transaction's router is given (FETCHED_SINCE).

        From the cache, with retries, as the times to offer always were; `fresh` (a booking's re-check may
        follow) asks Google now and once, as that re-check always has: unanswered, the turn does not ask
        again under its lock, it keeps the choice and the write checks later.
        """
        since = self.hub.clock()
        cals = list(dict.fromkeys(r.calendar for who, r in self.routes.items()
                                  if who in interviewers and r.scheme == "google"))
        if cals:
            try:
                self.hub.busy(cals, start, end, fresh=fresh, retry=not fresh)
            except CalendarError as exc:  # fresh only: the hub remembers it for the turn's re-check
                log.warning("calendars %s: free/busy before the turn failed: %s", cals, exc)
        return since

    def feed_calendars(self) -> list[str]:
        return google_calendar_ids(self.settings)

    def read_changes(self, calendar_id: str, token: str | None, since: datetime) -> tuple[list, str | None]:
        """The calendar's changed events since `token` (calendars.base.ChangeFeed)."""
        events, next_token = self.client_for(calendar_id).changes(calendar_id, token, since)
        if events:
            self.hub.forget(calendar_id)  # its cached busy times are stale
        return [change_of(calendar_id, event, self.settings.tz) for event in events], next_token


def booked_intervals(session: Session, interviewers, start: datetime, end: datetime) -> dict[str, list]:
    """Our live bookings per interviewer overlapping [start, end), as busy intervals."""
    found: dict[str, list] = {}
    for b in live_bookings(session, interviewers, start, end):
        found.setdefault(b.interviewer, []).append(Interval(b.start_at, b.end_at))
    return found


def service_account_info_set(config: Config) -> bool:
    return bool(config.google_service_account_json or config.google_service_account_file)


def enabled(config: Config, settings: Settings) -> bool:
    """Google is on when some interviewer names a Google calendar instead of 'local'."""
    return bool(google_calendar_ids(settings))


def attach(services) -> None:
    """Switch Services to the Google router and the deferred-write channel when some interviewer uses Google."""
    try:
        calendar_routes(services.settings)  # an unknown calendar scheme stops the start, whatever else is set
    except UnknownCalendar as exc:
        raise SettingsError("interviewers", str(exc)) from None
    if not enabled(services.config, services.settings):
        return
    if not service_account_info_set(services.config):
        log.warning("interviewers use Google Calendar but no service account is set: only calendars connected "
                    "with `sokuresu google auth` will work")
    services.calendar_for = GoogleCalendars(services.config, services.settings, services.renderer,
                                            lambda: services.clock(),
                                            queue=lambda session, op, data: queue_write(session, services, op, data))
    services.channels.setdefault(CALENDAR, CalendarWriter(services))
