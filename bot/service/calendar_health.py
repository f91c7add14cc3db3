"""What is wrong with the Google calendars, in words a recruiter can act on (recruiter page and `google check`)."""
from __future__ import annotations

from sqlmodel import Session, select

from bot.core.settings import Settings
from bot.core.vocab import CALENDAR, OutboxStatus
from bot.db.models import CalendarSync, Outbox
from calendars.router import parse_route


def hint(error: str, who: str = "the service account") -> str:
    """One sentence on how to fix a calendar error."""
    if "token refused" in error and ("unauthorized_client" in error or "delegation" in error.lower()):
        return (f"domain-wide delegation is not set up for {who}: "
                "allow it the calendar scope in the Workspace admin console")
    if "token refused" in error or "401" in error:
        return "the credentials were refused: check the key file, or run `sokuresu google auth` again"
    if "requiredAccessLevel" in error or "not writable" in error:
        return f"the calendar is shared read-only: give {who} \"Make changes to events\""
    if "403" in error or "notFound" in error or "404" in error:
        return f"the calendar is not shared with {who}, or its id in the settings is wrong"
    return "Google did not answer; the worker keeps retrying"


def calendar_problems(session: Session, settings: Settings) -> list[str]:
    """One line per Google calendar that failed its last read, plus calendar writes still waiting."""
    names = {}
    for i in settings.interviewers.values():
        names.setdefault(parse_route(i.calendar).calendar, []).append(i.name.ja)
    lines = []
    for row in session.exec(select(CalendarSync).where(CalendarSync.last_error.is_not(None))):
        who = "・".join(names.get(row.calendar, [])) or row.calendar
        lines.append(f"{who} ({row.calendar}): {row.last_error} — {hint(row.last_error)}")
    waiting = session.exec(select(Outbox).where(Outbox.channel == CALENDAR,
                                                Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)),
                                                Outbox.last_error.is_not(None))).all()
    if waiting:
        latest = waiting[-1].last_error or ""
        lines.append(f"カレンダーに書き込めていない予約が {len(waiting)} 件あります（予約そのものは保存済み）: "
                     f"{latest} — {hint(latest)}")
    return lines
