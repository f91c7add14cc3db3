"""When a person can answer a candidate the bot handed over: the company's office hours. Pure functions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

# A message in the last half hour of the day is answered at the next opening: reading it, checking the
# calendar and writing back takes a person that long, and a promise the office cannot keep is worse than none.
MARGIN = timedelta(minutes=30)


@dataclass(frozen=True)
class AnswerTime:
    """A person answers by `at` (the office is open now) or, when `by` is False, from `at` on (next opening)."""

    at: datetime  # in the company's zone
    by: bool


def answer_time(now: datetime, hours: dict[int, list[tuple[time, time]]], tz: ZoneInfo) -> AnswerTime:
    """By the end of today's office hours when open now (with MARGIN to spare), else from the next opening."""
    local = now.astimezone(tz)
    today = [(datetime.combine(local.date(), a, tz), datetime.combine(local.date(), b, tz))
             for a, b in hours.get(local.weekday(), [])]
    if any(start <= local < end for start, end in today):
        close = max(end for _, end in today)
        if local + MARGIN <= close:
            return AnswerTime(close, by=True)
    for offset in range(8):  # every week has office hours (the settings refuse a week without any)
        day = local.date() + timedelta(days=offset)
        for start, _ in hours.get(day.weekday(), []):
            opening = datetime.combine(day, start, tz)
            if opening > local:
                return AnswerTime(opening, by=False)
    return AnswerTime(local + timedelta(days=1), by=False)  # unreachable with valid settings; never crash a turn
