"""The slot engine: examples first, then properties over random calendars, zones and DST days."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars.base import Interval, Slot, SlotRules
from calendars.slots import free_slots, local_day_bounds, pick_spread

UTC = timezone.utc
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = {d: [(time(10), time(12)), (time(13), time(17))] for d in range(5)}
MONDAY = date(2026, 3, 2)


def tokyo(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TOKYO)


def rules(**overrides) -> SlotRules:
    base = dict(tz=TOKYO, working_hours=WEEKDAYS, slot_minutes=30, min_notice_minutes=120, horizon_days=14)
    return SlotRules(**{**base, **overrides})


def local_starts(slots, tz=TOKYO):
    return [s.start.astimezone(tz).strftime("%a %H:%M") for s in slots]


def test_grid_starts_at_each_span_start_and_steps_by_slot_length():
    sunday_night = tokyo(MONDAY - timedelta(days=1), 0)
    slots = free_slots(rules(horizon_days=1), ["a"], {}, sunday_night)
    assert local_starts(slots) == [f"Mon {t}" for t in (
        "10:00", "10:30", "11:00", "11:30", "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30")]


def test_slots_are_aware_utc_and_sorted_by_start_then_interviewer():
    slots = free_slots(rules(horizon_days=1), ["b", "a"], {}, tokyo(MONDAY, 0))
    assert all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in slots)
    assert [s.interviewer for s in slots[:4]] == ["a", "b", "a", "b"]
    assert slots == sorted(slots, key=lambda s: (s.start, s.interviewer))


def test_slot_must_fit_wholly_inside_the_span():
    hours = {0: [(time(10), time(11, 15))]}
    slots = free_slots(rules(working_hours=hours, slot_minutes=30, horizon_days=0), ["a"], {}, tokyo(MONDAY, 0))
    assert local_starts(slots) == ["Mon 10:00", "Mon 10:30"]


def test_buffer_widens_the_grid_step_and_keeps_slots_clear_of_busy_time():
    hours = {0: [(time(10), time(12))]}
    busy = {"a": [Interval(tokyo(MONDAY, 10, 50), tokyo(MONDAY, 11, 5))]}
    r = rules(working_hours=hours, buffer_minutes=15, horizon_days=0)
    assert local_starts(free_slots(r, ["a"], {}, tokyo(MONDAY, 0))) == ["Mon 10:00", "Mon 10:45", "Mon 11:30"]
    assert local_starts(free_slots(r, ["a"], busy, tokyo(MONDAY, 0))) == ["Mon 10:00", "Mon 11:30"]


def test_busy_time_of_one_interviewer_does_not_hide_another():
    busy = {"a": [Interval(tokyo(MONDAY, 0), tokyo(MONDAY, 23))]}
    slots = free_slots(rules(horizon_days=0), ["a", "b"], busy, tokyo(MONDAY, 0))
    assert {s.interviewer for s in slots} == {"b"}


def test_min_notice_hides_slots_starting_too_soon():
    slots = free_slots(rules(), ["a"], {}, tokyo(MONDAY, 9, 31))
    assert slots[0].start == tokyo(MONDAY, 13)  # 11:30 is one minute short of two hours' notice


def test_horizon_counts_local_days_from_today():
    slots = free_slots(rules(horizon_days=2), ["a"], {}, tokyo(MONDAY, 0))
    assert {s.start.astimezone(TOKYO).date() for s in slots} == {MONDAY + timedelta(days=n) for n in range(3)}


def test_today_is_the_local_date_not_the_utc_date():
    late_sunday_utc = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # already Monday 01:00 in Tokyo
    slots = free_slots(rules(horizon_days=0), ["a"], {}, late_sunday_utc)
    assert slots and {s.start.astimezone(TOKYO).date() for s in slots} == {MONDAY}


def test_day_at_its_cap_offers_nothing_for_that_interviewer():
    booked = {("a", MONDAY): 3, ("b", MONDAY): 2}
    slots = free_slots(rules(horizon_days=0, max_per_day=3), ["a", "b"], {}, tokyo(MONDAY, 0), booked_per_day=booked)
    assert {s.interviewer for s in slots} == {"b"}


def test_holidays_and_days_without_working_hours_are_skipped():
    r = rules(horizon_days=6, holidays=frozenset({MONDAY + timedelta(days=1)}))
    days = {s.start.astimezone(TOKYO).date() for s in free_slots(r, ["a"], {}, tokyo(MONDAY, 0))}
    assert days == {MONDAY, MONDAY + timedelta(days=2), MONDAY + timedelta(days=3), MONDAY + timedelta(days=4)}


def test_only_date_restricts_to_that_local_date():
    wednesday = MONDAY + timedelta(days=2)
    slots = free_slots(rules(), ["a"], {}, tokyo(MONDAY, 0), only_date=wednesday)
    assert slots and {s.start.astimezone(TOKYO).date() for s in slots} == {wednesday}
    assert free_slots(rules(horizon_days=3), ["a"], {}, tokyo(MONDAY, 0), only_date=MONDAY + timedelta(days=9)) == []


def test_local_day_bounds_cover_a_short_dst_day():
    bounds = local_day_bounds(date(2026, 3, 8), NEW_YORK)
    assert bounds.end - bounds.start == timedelta(hours=23)
    assert bounds.start == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)


def test_spring_forward_skips_the_missing_hour():
    r = rules(tz=NEW_YORK, working_hours={6: [(time(0), time(5))]}, min_notice_minutes=0, horizon_days=0)
    slots = free_slots(r, ["a"], {}, datetime(2026, 3, 8, 5, 0, tzinfo=UTC))
    assert local_starts(slots, NEW_YORK) == [f"Sun {t}" for t in ("00:00", "00:30", "01:00", "01:30", "03:00",
                                                                  "03:30", "04:00", "04:30")]
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)


def test_span_ending_inside_the_missing_hour_keeps_slots_before_the_gap():
    r = rules(tz=NEW_YORK, working_hours={6: [(time(0), time(2, 30))]}, min_notice_minutes=0, horizon_days=0)
    slots = free_slots(r, ["a"], {}, datetime(2026, 3, 8, 5, 0, tzinfo=UTC))
    assert local_starts(slots, NEW_YORK) == ["Sun 00:00", "Sun 00:30", "Sun 01:00"]


def test_fall_back_uses_the_first_occurrence_and_keeps_real_length():
    r = rules(tz=NEW_YORK, working_hours={6: [(time(0), time(3))]}, min_notice_minutes=0, horizon_days=0)
    slots = free_slots(r, ["a"], {}, datetime(2026, 11, 1, 4, 0, tzinfo=UTC))
    assert [s.start.strftime("%H:%M") for s in slots] == ["04:00", "04:30", "05:00", "05:30", "07:00", "07:30"]
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)


def pooled(*interviewers, day=MONDAY, hours=(10, 14)):
    return [Slot(tokyo(day, h), tokyo(day, h, 30), who) for h in hours for who in interviewers]


def test_pick_spread_gives_each_start_once_to_the_least_loaded_interviewer():
    picked = pick_spread(pooled("a", "b"), 5, TOKYO, load={"a": 3, "b": 1})
    assert [s.start for s in picked] == [tokyo(MONDAY, 10), tokyo(MONDAY, 14)]
    assert picked[0].interviewer == "b"


def test_pick_spread_breaks_load_ties_by_id_then_round_robins_within_the_offer():
    picked = pick_spread(pooled("b", "a"), 2, TOKYO)
    assert [s.interviewer for s in picked] == ["a", "b"]


def test_pick_spread_prefers_distinct_days_and_times_of_day_earliest_first():
    slots = [s for n in range(4) for s in pooled("a", day=MONDAY + timedelta(days=n), hours=(10, 11, 14, 15))]
    picked = pick_spread(slots, 3, TOKYO)
    assert local_starts(picked) == ["Mon 10:00", "Tue 14:00", "Wed 10:00"]


def test_pick_spread_falls_back_to_one_day_with_morning_and_afternoon():
    picked = pick_spread(pooled("a", hours=(10, 11, 14, 15)), 2, TOKYO)
    assert local_starts(picked) == ["Mon 10:00", "Mon 14:00"]


def test_pick_spread_is_deterministic_and_handles_short_supply():
    slots = pooled("a", "b", "c")
    assert pick_spread(slots, 3, TOKYO) == pick_spread(list(reversed(slots)), 3, TOKYO)
    assert pick_spread(slots, 0, TOKYO) == []
    assert pick_spread([], 3, TOKYO) == []


# ---- properties -------------------------------------------------------------------------------

ZONES = ["Asia/Tokyo", "America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC"]
INTERVIEWERS = ["a", "b", "c"]


@st.composite
def working_hours(draw):
    """Non-overlapping spans per weekday, minute precision, anywhere in the day."""
    hours = {}
    for weekday in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 24 * 60 - 1), max_size=4)))
        pairs = list(zip(cuts[::2], cuts[1::2]))
        hours[weekday] = [(time(a // 60, a % 60), time(b // 60, b % 60)) for a, b in pairs]
    return hours


@st.composite
def night_hours(draw):
    """One span a day that always covers 02:00, where DST changes happen in New York."""
    begin, end = draw(st.integers(0, 119)), draw(st.integers(121, 24 * 60 - 1))
    return {weekday: [(time(begin // 60, begin % 60), time(end // 60, end % 60))] for weekday in range(7)}


@st.composite
def scenarios(draw, zones=ZONES, first=datetime(2026, 1, 1), last=datetime(2026, 12, 31), hours=working_hours()):
    tz = ZoneInfo(draw(st.sampled_from(zones)))
    now = draw(st.datetimes(first, last, timezones=st.just(UTC)))
    r = SlotRules(
        tz=tz,
        working_hours=draw(hours),
        slot_minutes=draw(st.sampled_from([15, 20, 30, 45, 60, 90])),
        buffer_minutes=draw(st.sampled_from([0, 5, 10, 15, 30])),
        min_notice_minutes=draw(st.integers(0, 600)),
        horizon_days=draw(st.integers(0, 8)),
        max_per_day=draw(st.integers(1, 4)),
    )
    def interval():
        start = now + timedelta(minutes=draw(st.integers(-1440, 10 * 1440)))
        return Interval(start, start + timedelta(minutes=draw(st.integers(1, 600))))
    busy = {who: [interval() for _ in range(draw(st.integers(0, 8)))] for who in INTERVIEWERS}
    today = now.astimezone(tz).date()
    booked = {(who, today + timedelta(days=draw(st.integers(0, 8)))): draw(st.integers(0, 5))
              for who in INTERVIEWERS for _ in range(draw(st.integers(0, 3)))}
    return r, now, busy, booked


def assert_slot_invariants(r, now, busy, booked, slots):
    step = r.slot_minutes + r.buffer_minutes
    today = now.astimezone(r.tz).date()
    assert slots == sorted(set(slots), key=lambda s: (s.start, s.interviewer))
    for slot in slots:
        assert slot.start.tzinfo is UTC and slot.end.tzinfo is UTC
        assert slot.end - slot.start == timedelta(minutes=r.slot_minutes)
        widened = Interval(slot.start - timedelta(minutes=r.buffer_minutes),
                           slot.end + timedelta(minutes=r.buffer_minutes))
        assert not any(widened.overlaps(b) for b in busy.get(slot.interviewer, ()))
        assert slot.start >= now + timedelta(minutes=r.min_notice_minutes)
        local_start, local_end = slot.start.astimezone(r.tz), slot.end.astimezone(r.tz)
        day = local_start.date()
        assert today <= day <= today + timedelta(days=r.horizon_days)
        assert booked.get((slot.interviewer, day), 0) < r.max_per_day
        # The start is the fold=0 reading of a real wall time: never a time inside a DST gap.
        wall = local_start.replace(tzinfo=None)
        assert wall.replace(tzinfo=r.tz).astimezone(UTC) == slot.start
        assert local_end.date() == day
        assert any(
            begin <= wall.time() and local_end.time() <= end
            and ((wall - datetime.combine(day, begin)).total_seconds() / 60) % step == 0
            for begin, end in r.working_hours[day.weekday()]
        )
    for who in INTERVIEWERS:
        mine = [s for s in slots if s.interviewer == who]
        assert all(a.end <= b.start for a, b in zip(mine, mine[1:]))


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_free_slots_respect_busy_time_hours_notice_horizon_and_caps(scenario):
    r, now, busy, booked = scenario
    slots = free_slots(r, INTERVIEWERS, busy, now, booked_per_day=booked)
    assert_slot_invariants(r, now, busy, booked, slots)


DST_WEEKS = [(datetime(2026, 3, 5), datetime(2026, 3, 8, 6)), (datetime(2026, 10, 29), datetime(2026, 11, 1, 5))]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DST_WEEKS).flatmap(
    lambda w: scenarios(["America/New_York", "Asia/Tokyo"], *w, hours=night_hours())))
def test_free_slots_around_dst_changes_have_real_length_and_exist(scenario):
    r, now, busy, booked = scenario
    slots = free_slots(r, INTERVIEWERS, busy, now, booked_per_day=booked)
    assert_slot_invariants(r, now, busy, booked, slots)


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.integers(1, 5))
def test_pick_spread_returns_distinct_starts_from_the_offer(scenario, count):
    r, now, busy, booked = scenario
    slots = free_slots(r, INTERVIEWERS, busy, now, booked_per_day=booked)
    picked = pick_spread(slots, count, r.tz)
    assert len(picked) == min(count, len({s.start for s in slots}))
    assert set(picked) <= set(slots)
    assert sorted(s.start for s in picked) == [s.start for s in picked]
    assert len({s.start for s in picked}) == len(picked)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_whole_dst_sunday_every_slot_is_thirty_real_minutes(zone):
    tz = ZoneInfo(zone)
    r = SlotRules(tz=tz, working_hours={6: [(time(0), time(23, 59))]}, min_notice_minutes=0, horizon_days=0)
    for sunday in (date(2026, 3, 8), date(2026, 11, 1)):
        now = local_day_bounds(sunday, tz).start
        slots = free_slots(r, ["a"], {}, now)
        assert all(s.end - s.start == timedelta(minutes=30) for s in slots)
        # 00:00 to 23:00 is 47 wall-clock starts; New York's spring-forward day loses 02:00 and 02:30.
        skipped = 2 if zone == "America/New_York" and sunday.month == 3 else 0
        assert len(slots) == 47 - skipped
