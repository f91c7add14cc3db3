"""Reminder and nudge policy: which message goes out when and on which channel. Pure functions of time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.core.vocab import RECRUITER_CHANNEL, Kind

UTC = timezone.utc
DAY = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LATE_GAP = timedelta(minutes=30)  # the booking confirmation just went out: no reminder right on its heels
SEARCH_DAYS = 9  # a weekly window always has a free span within this many days


class PolicyError(ValueError):
    """A bad reminder, nudge or rate-limit setting; settings.py turns it into a SettingsError."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


@dataclass(frozen=True)
class Policy:
    """When reminders and nudges go out; every value comes from the settings file."""

    day_before_at: time = time(12)
    hours_before: int = 3
    quiet_start: time = time(21)
    quiet_end: time = time(8)
    confirm_within_hours: float = 3
    min_lead_minutes: int = 15
    nudge_after_hours: tuple[float, ...] = (1, 24)
    give_up_after_hours: float = 24


@dataclass(frozen=True)
class Planned:
    """One outbox row to write: what, when (UTC) and on which channel."""

    kind: Kind
    due_at: datetime
    channel: str


def _minutes(value: time | str) -> int:
    if isinstance(value, str):
        hh, mm = value.split(":")
        return int(hh) * 60 + int(mm)
    return value.hour * 60 + value.minute


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    # fold=0: a wall time inside a spring-forward gap lands just after the gap, never before it.
    day += timedelta(days=minute // DAY)
    return datetime.combine(day, time(minute % DAY // 60, minute % 60), tzinfo=tz).astimezone(UTC)


def _day_matches(days: str, day: date) -> bool:
    weekday = day.weekday()
    return (days == "any" or (days == "weekdays" and weekday < 5) or (days == "weekends" and weekday >= 5)
            or days == WEEKDAYS[weekday])


def _awake(policy: Policy) -> list[tuple[int, int]]:
    start, end = _minutes(policy.quiet_start), _minutes(policy.quiet_end)
    if start == end:
        return [(0, DAY)]
    if start > end:  # quiet hours cross midnight (the usual 21:00-08:00)
        return [(end, start)]
    return [span for span in ((0, start), (end, DAY)) if span[0] < span[1]]


def _window(day: date, window: dict | None) -> list[tuple[int, int]]:
    if not window:
        return [(0, DAY)]
    days, begin, end = window.get("days", "any"), _minutes(window["from"]), _minutes(window["to"])
    if begin < end:
        return [(begin, end)] if _day_matches(days, day) else []
    # An overnight window (22:00-01:00) belongs to the day it starts on.
    spans = [(0, end)] if _day_matches(days, day - timedelta(days=1)) else []
    return spans + ([(begin, DAY)] if _day_matches(days, day) else [])


def allowed_spans(day: date, tz: ZoneInfo, policy: Policy,
                  window: dict | None = None) -> list[tuple[datetime, datetime]]:
    """The UTC spans of one local day that are outside quiet hours and inside the contact window."""
    spans = sorted((max(a, c), min(b, d)) for a, b in _awake(policy) for c, d in _window(day, window)
                   if max(a, c) < min(b, d))
    return [(_at(day, a, tz), _at(day, b, tz)) for a, b in spans]


def next_allowed(at: datetime, tz: ZoneInfo, policy: Policy, window: dict | None = None) -> datetime:
    """The first instant at or after `at` when a reminder may go out (falls back to quiet hours only)."""
    for rule in ((window, None) if window else (None,)):
        first = at.astimezone(tz).date()
        for offset in range(SEARCH_DAYS):
            for start, end in allowed_spans(first + timedelta(days=offset), tz, policy, rule):
                if end > at:
                    return max(start, at)
    return at  # quiet hours cover the whole day: nothing else to wait for


def is_quiet(at: datetime, tz: ZoneInfo, policy: Policy) -> bool:
    """Whether `at` falls in quiet hours (local time)."""
    return next_allowed(at, tz, policy) != at


def last_allowed_before(at: datetime, tz: ZoneInfo, policy: Policy) -> datetime | None:
    """The last minute before `at` outside quiet hours, looking back at most two days."""
    day = at.astimezone(tz).date()
    for offset in range(3):
        for start, end in reversed(allowed_spans(day - timedelta(days=offset), tz, policy)):
            if start < at:
                return min(at, end - timedelta(minutes=1))
    return None


def _day_before(start: datetime, tz: ZoneInfo, policy: Policy, window: dict | None) -> datetime:
    day = start.astimezone(tz).date() - timedelta(days=1)
    target = _at(day, _minutes(policy.day_before_at), tz)
    spans = allowed_spans(day, tz, policy, window) or allowed_spans(day, tz, policy)
    for begin, end in spans:
        if begin <= target < end:
            return target
    later = [begin for begin, _ in spans if begin > target]
    if later:
        return later[0]
    if spans:  # every span of that day is before the target time: take the end of the last one
        begin, end = spans[-1]
        return max(begin, end - timedelta(minutes=30))
    return target


def _soon(start: datetime, now: datetime, tz: ZoneInfo, policy: Policy) -> datetime | None:
    lead = timedelta(minutes=policy.min_lead_minutes)
    due = start - timedelta(hours=policy.hours_before)
    if due < now + LATE_GAP:  # a late booking: halfway to the interview, so it still gets one
        due = now + (start - now) / 2
    allowed = next_allowed(due, tz, policy)
    if allowed <= start - min(lead, (start - now) / 2):
        return allowed
    earlier = last_allowed_before(due, tz, policy)
    return earlier if earlier is not None and earlier > now else None


def booking_reminders(start: datetime, now: datetime, tz: ZoneInfo, policy: Policy, window: dict | None,
                      channels: list[str]) -> list[Planned]:
    """The reminders (and unconfirmed escalation) for an interview at `start` booked at `now`."""
    if start <= now or not channels:
        return []
    plan: list[Planned] = []
    soon = _soon(start, now, tz, policy)
    day_before = _day_before(start, tz, policy, window)
    if now < day_before and (soon is None or day_before < soon - timedelta(hours=1)):
        plan.append(Planned(Kind.REMINDER_DAY_BEFORE, day_before, channels[0]))
        asked = day_before + timedelta(hours=policy.confirm_within_hours)
        limit = soon or start - timedelta(minutes=policy.min_lead_minutes)
        nudge = next_allowed(asked, tz, policy, window)
        if nudge >= limit:  # the window opens too late: quiet hours alone decide
            nudge = next_allowed(asked, tz, policy)
        if nudge < limit:
            plan.append(Planned(Kind.UNCONFIRMED_NUDGE, nudge, channels[1] if len(channels) > 1 else channels[0]))
        if asked < limit:  # the recruiter is not bound by the candidate's quiet hours
            plan.append(Planned(Kind.UNCONFIRMED_ALERT, asked, RECRUITER_CHANNEL))
    if soon is not None:
        plan.append(Planned(Kind.REMINDER_SOON, soon, channels[0]))
    return sorted(plan, key=lambda p: p.due_at)


def greeting_nudges(now: datetime, tz: ZoneInfo, policy: Policy, window: dict | None,
                    channels: list[str]) -> list[Planned]:
    """Nudges after a greeting nobody answered, rotating through the channels, then giving up."""
    if not channels or not policy.nudge_after_hours:
        return []
    plan: list[Planned] = []
    previous = now
    for i, hours in enumerate(policy.nudge_after_hours):
        due = next_allowed(max(now + timedelta(hours=hours), previous + LATE_GAP), tz, policy, window)
        plan.append(Planned(Kind.NUDGE, due, channels[i % len(channels)]))
        previous = due
    plan.append(Planned(Kind.UNREACHABLE, previous + timedelta(hours=policy.give_up_after_hours), RECRUITER_CHANNEL))
    return plan


def _number(table: dict, key: str, path: str, default: float, minimum: float = 0) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise PolicyError(f"{path}.{key}", f"must be a number of at least {minimum}, got {value!r}")
    return value


def parse_policy(reminders: dict, nudges: dict, **base) -> Policy:
    """Build the Policy from the [reminders] and [nudges] tables plus the already parsed times."""
    after = nudges.get("after_hours", [1, 24])
    if not isinstance(after, list):
        raise PolicyError("nudges.after_hours", f"must be a list of hours like [1, 24], got {after!r}")
    hours = tuple(_number({"h": h}, "h", "nudges.after_hours", 0, 0.05) for h in after)
    if list(hours) != sorted(set(hours)):
        raise PolicyError("nudges.after_hours", "must be increasing, e.g. [1, 24]")
    return Policy(**base,
                  confirm_within_hours=_number(reminders, "confirm_within_hours", "reminders", 3, 0.25),
                  min_lead_minutes=int(_number(reminders, "min_lead_minutes", "reminders", 15, 0)),
                  nudge_after_hours=hours,
                  give_up_after_hours=_number(nudges, "give_up_after_hours", "nudges", 24, 0.25))
