"""Calendar backend errors the service layer tells apart (they carry no vendor types)."""
from __future__ import annotations


class CalendarError(Exception):
    """A calendar call failed in a way retrying will not fix (bad request, unknown calendar)."""


class CalendarUnavailable(CalendarError):
    """The calendar service is down, slow or rate-limiting us: try again later."""


class CalendarPermissionError(CalendarError):
    """Our credentials were refused (401/403): a person has to fix sharing or delegation."""


class SyncTokenExpired(CalendarError):
    """The provider forgot our sync token (410 Gone): read the calendar again from scratch."""


class NotFound(CalendarError):
    """404/410: the event (or calendar) is not there (any more)."""


class Gone(NotFound):
    """410: deleted for good, or (for a list with a sync token) the token has expired."""


class Conflict(CalendarError):
    """409: an event with this id exists already."""
