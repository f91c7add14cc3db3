"""Google Calendar over google-api-python-client: the only module that imports googleapiclient."""
from __future__ import annotations

import random
import re
import threading
import time
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2 import credentials as user_creds
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from calendars.base import Interval
from calendars.errors import (
    CalendarError,
    CalendarPermissionError,
    CalendarUnavailable,
    Conflict,
    Gone,
    NotFound,
    SyncTokenExpired,
)
from calendars.google.events import parse_time, rfc3339

SCOPES = ["https://www.googleapis.com/auth/calendar"]
FREEBUSY_BATCH = 50  # Google answers free/busy for at most 50 calendars per query
ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


def service_account_credentials(info: dict, delegated_user: str | None = None, token_uri: str | None = None):
    """Service-account credentials, acting as `delegated_user` when domain-wide delegation is set up."""
    info = {**info, "token_uri": token_uri} if token_uri else info
    creds = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    return creds.with_subject(delegated_user) if delegated_user else creds


def user_credentials(info: dict, token_uri: str | None = None):
    """Credentials of a personal account from a stored authorized-user record (refresh token inside)."""
    # Built by hand: from_authorized_user_info always resets token_uri to Google's, ignoring an override.
    return user_creds.Credentials(None, refresh_token=info["refresh_token"], client_id=info["client_id"],
                                  client_secret=info["client_secret"], scopes=SCOPES,
                                  token_uri=token_uri or info.get("token_uri") or "https://oauth2.googleapis.com/token")


def _reasons(exc: HttpError) -> set[str]:
    details = exc.error_details if isinstance(exc.error_details, list) else []
    return {d.get("reason", "") for d in details if isinstance(d, dict)}


def classify(exc: HttpError) -> CalendarError:
    """Turn an HttpError into the error the caller acts on; rate limits are 403s too, so read the reason."""
    status, reasons = exc.resp.status, _reasons(exc)
    # Google's free-text message may quote a guest's address; it ends up in logs and the outbox, so mask it.
    detail = ", ".join(sorted(reasons)) or ADDRESS.sub("<address>", exc.reason or "")
    text = f"HTTP {status} {detail}".strip()
    if status == 429 or status >= 500 or (status == 403 and reasons & RATE_REASONS):
        return CalendarUnavailable(text)
    if status in (401, 403):
        return CalendarPermissionError(text)
    if status == 410:
        return Gone(text)
    if status == 404:
        return NotFound(text)
    if status == 409:
        return Conflict(text)
    return CalendarError(text)


class GoogleCalendar:
    """Calendar API calls with retries: rate limits, 5xx and network errors back off, the rest raise at once."""

    def __init__(self, credentials, endpoint: str | None = None, tz: ZoneInfo = ZoneInfo("UTC"),
                 attempts: int = 5, base_delay: float = 0.5, sleep: Callable[[float], None] = time.sleep,
                 acts_as_user: bool = True):
        self.credentials, self.endpoint, self.tz = credentials, endpoint, tz
        self.acts_as_user = acts_as_user  # False for a service account without delegation: no guests, no Meet
        self.attempts, self.base_delay, self.sleep = attempts, base_delay, sleep
        self._service = None
        # httplib2 connections are not thread-safe: one call at a time per client.
        self._lock = threading.RLock()

    def _api(self):
        if self._service is None:
            options = {"api_endpoint": self.endpoint.rstrip("/") + "/calendar/v3/"} if self.endpoint else None
            self._service = build("calendar", "v3", credentials=self.credentials, static_discovery=True,
                                  cache_discovery=False, client_options=options)
        return self._service

    def call(self, make: Callable[[Any], Any], retry: bool = True) -> dict:
        """Execute make(service) with backoff on transient failures; retry=False: one attempt, never a sleep."""
        attempts = self.attempts if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                with self._lock:
                    return make(self._api()).execute()
            except HttpError as exc:
                error = classify(exc)
            except RefreshError as exc:
                # The token endpoint said no: a revoked grant or delegation not set up, unless it was a hiccup.
                text = f"token refused: {exc.args[0] if exc.args else exc}"
                error = CalendarUnavailable(text) if getattr(exc, "retryable", False) else CalendarPermissionError(text)
            except (TransportError, httplib2.HttpLib2Error, OSError) as exc:
                error = CalendarUnavailable(f"{type(exc).__name__}: {exc}")
            if not isinstance(error, CalendarUnavailable) or attempt == attempts:
                raise error
            self.sleep(min(30.0, self.base_delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")

    def freebusy(self, calendar_ids: Sequence[str], start: datetime, end: datetime, retry: bool = True
                 ) -> tuple[dict[str, list[Interval]], dict[str, str]]:
        """Busy intervals per calendar, queried 50 at a time; second value: calendars Google would not answer for."""
        busy: dict[str, list[Interval]] = {}
        errors: dict[str, str] = {}
        ids = list(dict.fromkeys(calendar_ids))
        for i in range(0, len(ids), FREEBUSY_BATCH):
            body = {"timeMin": rfc3339(start), "timeMax": rfc3339(end),
                    "items": [{"id": c} for c in ids[i:i + FREEBUSY_BATCH]]}
            answer = self.call(lambda api: api.freebusy().query(body=body), retry)
            for cal_id, data in answer.get("calendars", {}).items():
                if data.get("errors"):
                    errors[cal_id] = ", ".join(e.get("reason", "?") for e in data["errors"])
                busy[cal_id] = [Interval(parse_time({"dateTime": b["start"]}, self.tz),
                                         parse_time({"dateTime": b["end"]}, self.tz))
                                for b in data.get("busy", ())]
        return busy, errors

    def events_between(self, calendar_id: str, start: datetime, end: datetime, retry: bool = True) -> list[dict]:
        """Every live event (recurring ones expanded) overlapping [start, end)."""
        return self._pages(lambda api, page: api.events().list(
            calendarId=calendar_id, timeMin=rfc3339(start), timeMax=rfc3339(end), singleEvents=True,
            maxResults=250, pageToken=page), retry)[0]

    def changes(self, calendar_id: str, sync_token: str | None, since: datetime) -> tuple[list[dict], str | None]:
        """Events changed since the sync token (deleted ones included); a full read from `since` without one."""
        if sync_token:
            make = lambda api, page: api.events().list(calendarId=calendar_id, syncToken=sync_token,  # noqa: E731
                                                       showDeleted=True, maxResults=250, pageToken=page)
        else:
            make = lambda api, page: api.events().list(calendarId=calendar_id, timeMin=rfc3339(since),  # noqa: E731
                                                       showDeleted=True, maxResults=250, pageToken=page)
        try:
            return self._pages(make)
        except Gone as exc:
            if sync_token:
                raise SyncTokenExpired(str(exc)) from None
            raise

    def _pages(self, make: Callable[[Any, str | None], Any], retry: bool = True) -> tuple[list[dict], str | None]:
        items: list[dict] = []
        page = None
        while True:
            answer = self.call(lambda api: make(api, page), retry)
            items.extend(answer.get("items", ()))
            page = answer.get("nextPageToken")
            if not page:
                return items, answer.get("nextSyncToken")

    def insert(self, calendar_id: str, body: dict, send_updates: str) -> dict:
        return self.call(lambda api: api.events().insert(calendarId=calendar_id, body=body, sendUpdates=send_updates,
                                                         conferenceDataVersion=1))

    def get(self, calendar_id: str, event_id: str) -> dict:
        return self.call(lambda api: api.events().get(calendarId=calendar_id, eventId=event_id))

    def patch(self, calendar_id: str, event_id: str, body: dict, send_updates: str) -> dict:
        return self.call(lambda api: api.events().patch(calendarId=calendar_id, eventId=event_id, body=body,
                                                        sendUpdates=send_updates, conferenceDataVersion=1))

    def delete(self, calendar_id: str, event_id: str, send_updates: str) -> None:
        """Delete an event; one that is already gone is fine."""
        try:
            self.call(lambda api: api.events().delete(calendarId=calendar_id, eventId=event_id,
                                                      sendUpdates=send_updates))
        except NotFound:
            pass

    def probe(self, calendar_ids: Iterable[str]) -> dict[str, str]:
        """Per calendar 'ok', or why it cannot be read or written (writes and deletes a past, private test event)."""
        report = {}
        for cal_id in calendar_ids:
            try:
                self.call(lambda api: api.events().list(calendarId=cal_id, maxResults=1))
            except CalendarError as exc:
                report[cal_id] = f"not readable: {exc}"
                continue
            try:
                probe = {"summary": "Sokuresu access check", "visibility": "private", "transparency": "transparent",
                         "start": {"dateTime": "2000-01-01T00:00:00Z"}, "end": {"dateTime": "2000-01-01T00:01:00Z"}}
                event = self.call(lambda api: api.events().insert(calendarId=cal_id, body=probe, sendUpdates="none"))
                self.delete(cal_id, event["id"], "none")
                report[cal_id] = "ok"
            except CalendarError as exc:
                report[cal_id] = f"readable but not writable: {exc}"
        return report
