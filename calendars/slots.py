"""The slot engine: free interview slots from working hours and busy time, and a spread to offer."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from calendars.base import Interval, Slot, SlotRules

UTC = timezone.utc


def wall_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime | None:
    """Return the UTC instant of a local wall time (fold=0 when ambiguous), None if it does not exist."""
    local = datetime.combine(day, at, tzinfo=tz)
    instant = local.astimezone(UTC)
    # A wall time inside a spring-forward gap does not survive the round trip through UTC.
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def local_day_bounds(day: date, tz: ZoneInfo) -> Interval:
    """Return the UTC interval covering one local calendar day."""
    # fold=0 resolves a nonexistent midnight to the transition instant, which is when the day begins.
    def start_of(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC)

    return Interval(start_of(day), start_of(day + timedelta(days=1)))


def _span_end(day: date, at: time, tz: ZoneInfo) -> datetime:
    # The earlier reading of an ambiguous or nonexistent end time keeps every slot inside the span.
    naive = datetime.combine(day, at)
    return min(naive.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1))


def _span_slots(day: date, span: tuple[time, time], rules: SlotRules) -> list[tuple[datetime, datetime]]:
    """Grid of (start, end) UTC pairs that fit in one working-hours span, busy time ignored."""
    begin, finish = span
    step = timedelta(minutes=rules.slot_minutes + rules.buffer_minutes)
    length = timedelta(minutes=rules.slot_minutes)
    buffer = timedelta(minutes=rules.buffer_minutes)
    span_end = _span_end(day, finish, rules.tz)
    wall, wall_end = datetime.combine(day, begin), datetime.combine(day, finish)
    grid: list[tuple[datetime, datetime]] = []
    while wall < wall_end:
        start = wall_to_utc(day, wall.time(), rules.tz)
        wall += step
        if start is None or start + length > span_end:
            continue
        # Across a spring-forward gap wall steps shrink in real time; never let grid slots collide.
        if grid and start < grid[-1][1] + buffer:
            continue
        grid.append((start, start + length))
    return grid


def _is_free(start: datetime, end: datetime, busy: Sequence[Interval], buffer: timedelta) -> bool:
    widened = Interval(start - buffer, end + buffer)
    return not any(widened.overlaps(b) for b in busy)


def free_slots(
    rules: SlotRules,
    interviewers: Sequence[str],
    busy: Mapping[str, Sequence[Interval]],
    now: datetime,
    *,
    booked_per_day: Mapping[tuple[str, date], int] | None = None,
    only_date: date | None = None,
) -> list[Slot]:
    """List every free slot of each interviewer, sorted by (start, interviewer)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    booked = booked_per_day or {}
    earliest = now + timedelta(minutes=rules.min_notice_minutes)
    buffer = timedelta(minutes=rules.buffer_minutes)
    today = now.astimezone(rules.tz).date()
    days = [today + timedelta(days=n) for n in range(rules.horizon_days + 1)]
    if only_date is not None:
        days = [d for d in days if d == only_date]
    slots: list[Slot] = []
    for day in days:
        if day in rules.holidays:
            continue
        spans = rules.working_hours.get(day.weekday(), ())
        # A set, so overlapping spans in the settings cannot offer the same slot twice.
        pairs = {pair for span in spans for pair in _span_slots(day, span, rules)}
        grid = sorted((s, e) for s, e in pairs if s >= earliest)
        for who in interviewers:
            # The cap counts bookings only: every free slot stays on offer until the day is full.
            if booked.get((who, day), 0) >= rules.max_per_day:
                continue
            mine = busy.get(who, ())
            slots.extend(Slot(s, e, who) for s, e in grid if not mine or _is_free(s, e, mine, buffer))
    return sorted(slots, key=lambda s: (s.start, s.interviewer))


def part_of_day(moment: datetime, tz: ZoneInfo) -> int:
    """Return 0 for morning, 1 for afternoon, 2 for evening (local time)."""
    hour = moment.astimezone(tz).hour
    return 0 if hour < 12 else 1 if hour < 17 else 2


def pick_spread(
    slots: Sequence[Slot],
    count: int,
    tz: ZoneInfo,
    load: Mapping[str, int] | None = None,
) -> list[Slot]:
    """Choose up to `count` slots on distinct days and times of day, each with the least-loaded interviewer."""
    by_start: dict[datetime, list[Slot]] = defaultdict(list)
    for slot in slots:
        by_start[slot.start].append(slot)
    starts = sorted(by_start)
    # Each start's local day and part of day, worked out once (the loop below looks many times).
    where = {s: (s.astimezone(tz).date(), part_of_day(s, tz)) for s in starts}
    days_used: Counter = Counter()
    parts_used: Counter = Counter()
    chosen: list[datetime] = []
    left = set(starts)
    while len(chosen) < count and left:
        # Fewest repeats of day, then of time of day, then earliest: new days first, earliest first.
        best = min(left, key=lambda s: (days_used[where[s][0]], parts_used[where[s][1]], s))
        left.discard(best)
        chosen.append(best)
        days_used[where[best][0]] += 1
        parts_used[where[best][1]] += 1
    # Round-robin: each pick in this offer counts as load for the next tie-break.
    running = Counter(load or {})
    picked: list[Slot] = []
    for start in sorted(chosen):
        slot = min(by_start[start], key=lambda s: (running[s.interviewer], s.interviewer))
        running[slot.interviewer] += 1
        picked.append(slot)
    return picked
