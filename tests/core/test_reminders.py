"""The reminder and nudge policy as pure functions: Tokyo (no DST), New York (DST), quiet hours, late bookings."""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot.core.reminders import (
    Policy,
    allowed_spans,
    booking_reminders,
    greeting_nudges,
    is_quiet,
    last_allowed_before,
    next_allowed,
)
from bot.core.settings import SettingsError, load_settings, parse_settings

TOKYO, NEW_YORK = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
UTC = timezone.utc
POLICY = Policy()


def local(tz, *args):
    """A local wall time as a UTC instant."""
    return datetime(*args, tzinfo=tz).astimezone(UTC)


def by_kind(plan):
    return {p.kind: p for p in plan}


def test_day_before_at_noon_and_a_short_one_three_hours_before():
    now, start = local(TOKYO, 2026, 11, 30, 9), local(TOKYO, 2026, 12, 2, 14)
    plan = by_kind(booking_reminders(start, now, TOKYO, POLICY, None, ["sms", "email"]))
    assert plan["reminder_day_before"].due_at == local(TOKYO, 2026, 12, 1, 12)
    assert plan["reminder_soon"].due_at == local(TOKYO, 2026, 12, 2, 11)
    assert plan["reminder_day_before"].channel == plan["reminder_soon"].channel == "sms"


def test_unconfirmed_nudge_goes_on_another_channel_and_alerts_the_recruiter():
    now, start = local(TOKYO, 2026, 11, 30, 9), local(TOKYO, 2026, 12, 2, 14)
    plan = by_kind(booking_reminders(start, now, TOKYO, POLICY, None, ["sms", "email"]))
    assert plan["unconfirmed_nudge"].channel == "email"
    assert plan["unconfirmed_nudge"].due_at == local(TOKYO, 2026, 12, 1, 15)
    assert plan["unconfirmed_alert"].channel == "recruiter"
    assert plan["unconfirmed_alert"].due_at == local(TOKYO, 2026, 12, 1, 15)


def test_with_one_channel_the_unconfirmed_nudge_uses_it_again():
    now, start = local(TOKYO, 2026, 11, 30, 9), local(TOKYO, 2026, 12, 2, 14)
    plan = by_kind(booking_reminders(start, now, TOKYO, POLICY, None, ["line"]))
    assert plan["unconfirmed_nudge"].channel == "line"


def test_day_before_reminder_moves_into_the_contact_window():
    window = {"days": "weekdays", "from": "18:00", "to": "21:00"}
    now, start = local(TOKYO, 2026, 11, 30, 9), local(TOKYO, 2026, 12, 2, 14)
    plan = by_kind(booking_reminders(start, now, TOKYO, POLICY, window, ["sms", "email"]))
    assert plan["reminder_day_before"].due_at == local(TOKYO, 2026, 12, 1, 18)
    # 18:00 + 3 h is 21:00, quiet; the window's next opening is after the interview, so quiet hours decide.
    assert plan["unconfirmed_nudge"].due_at == local(TOKYO, 2026, 12, 2, 8)
    assert plan["unconfirmed_alert"].due_at == local(TOKYO, 2026, 12, 1, 21)


def test_a_window_that_closes_before_noon_gets_its_last_half_hour():
    window = {"days": "weekends", "from": "09:00", "to": "11:00"}
    now, start = local(TOKYO, 2026, 11, 30, 9), local(TOKYO, 2026, 12, 7, 14)  # Monday; the day before is Sunday
    plan = by_kind(booking_reminders(start, now, TOKYO, POLICY, window, ["sms"]))
    assert plan["reminder_day_before"].due_at == local(TOKYO, 2026, 12, 6, 10, 30)


def test_a_window_on_other_days_falls_back_to_the_set_time():
    window = {"days": "sat", "from": "18:00", "to": "20:00"}
    now, start = local(TOKYO, 2026, 11, 30, 9), local(TOKYO, 2026, 12, 2, 14)
    plan = by_kind(booking_reminders(start, now, TOKYO, POLICY, window, ["sms"]))
    assert plan["reminder_day_before"].due_at == local(TOKYO, 2026, 12, 1, 12)


def test_a_booking_three_hours_ahead_still_gets_the_short_reminder():
    now = local(TOKYO, 2026, 11, 30, 11)
    plan = booking_reminders(now + timedelta(hours=3), now, TOKYO, POLICY, None, ["sms"])
    assert [p.kind for p in plan] == ["reminder_soon"]
    assert plan[0].due_at == now + timedelta(minutes=90)


def test_a_booking_one_hour_ahead_is_reminded_half_an_hour_before():
    now = local(TOKYO, 2026, 11, 30, 15)
    plan = booking_reminders(now + timedelta(hours=1), now, TOKYO, POLICY, None, ["sms"])
    assert [(p.kind, p.due_at) for p in plan] == [("reminder_soon", now + timedelta(minutes=30))]


def test_a_booking_made_after_the_day_before_time_skips_that_one():
    now, start = local(TOKYO, 2026, 11, 30, 13), local(TOKYO, 2026, 12, 1, 17)
    plan = by_kind(booking_reminders(start, now, TOKYO, POLICY, None, ["sms"]))
    assert set(plan) == {"reminder_soon"} and plan["reminder_soon"].due_at == local(TOKYO, 2026, 12, 1, 14)


def test_a_short_reminder_in_quiet_hours_waits_for_the_morning():
    now, start = local(TOKYO, 2026, 11, 30, 9), local(TOKYO, 2026, 12, 2, 10)
    plan = by_kind(booking_reminders(start, now, TOKYO, POLICY, None, ["sms"]))
    assert plan["reminder_soon"].due_at == local(TOKYO, 2026, 12, 2, 8)


def test_a_short_reminder_that_cannot_wait_goes_the_evening_before():
    now, start = local(TOKYO, 2026, 11, 30, 9), local(TOKYO, 2026, 12, 2, 8)
    plan = by_kind(booking_reminders(start, now, TOKYO, POLICY, None, ["sms"]))
    assert plan["reminder_soon"].due_at == local(TOKYO, 2026, 12, 1, 20, 59)
    assert plan["reminder_day_before"].due_at == local(TOKYO, 2026, 12, 1, 12)


def test_nothing_for_an_interview_in_the_past_or_without_a_channel():
    now = local(TOKYO, 2026, 11, 30, 9)
    assert booking_reminders(now - timedelta(hours=1), now, TOKYO, POLICY, None, ["sms"]) == []
    assert booking_reminders(now + timedelta(days=2), now, TOKYO, POLICY, None, []) == []


def test_day_before_across_spring_forward_in_new_york():
    # DST starts Sunday 8 March 2026 at 02:00: Sunday noon is EDT (UTC-4), Saturday was EST (UTC-5).
    now, start = local(NEW_YORK, 2026, 3, 5, 9), local(NEW_YORK, 2026, 3, 9, 10)
    plan = by_kind(booking_reminders(start, now, NEW_YORK, POLICY, None, ["sms"]))
    assert plan["reminder_day_before"].due_at == datetime(2026, 3, 8, 16, tzinfo=UTC)
    assert plan["reminder_soon"].due_at == datetime(2026, 3, 9, 12, tzinfo=UTC)  # 07:00 is quiet: 08:00 EDT


def test_day_before_across_fall_back_in_new_york():
    # DST ends Sunday 1 November 2026: the day before a Monday 13:00 interview is 25 hours long.
    now, start = local(NEW_YORK, 2026, 10, 28, 9), local(NEW_YORK, 2026, 11, 2, 13)
    plan = by_kind(booking_reminders(start, now, NEW_YORK, POLICY, None, ["sms"]))
    assert plan["reminder_day_before"].due_at == datetime(2026, 11, 1, 17, tzinfo=UTC)  # 12:00 EST
    assert plan["reminder_soon"].due_at == datetime(2026, 11, 2, 15, tzinfo=UTC)  # 10:00 EST


def test_a_set_time_inside_the_spring_forward_gap_lands_just_after_it():
    policy = Policy(day_before_at=time(2, 30), quiet_start=time(0), quiet_end=time(0))
    now, start = local(NEW_YORK, 2026, 3, 5, 9), local(NEW_YORK, 2026, 3, 9, 10)
    due = by_kind(booking_reminders(start, now, NEW_YORK, policy, None, ["sms"]))["reminder_day_before"].due_at
    assert due == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert due.astimezone(NEW_YORK).strftime("%H:%M") == "03:30"


def test_quiet_hours_in_tokyo_and_new_york():
    assert is_quiet(local(TOKYO, 2026, 11, 30, 21), TOKYO, POLICY)
    assert is_quiet(local(TOKYO, 2026, 11, 30, 7, 59), TOKYO, POLICY)
    assert not is_quiet(local(TOKYO, 2026, 11, 30, 8), TOKYO, POLICY)
    assert not is_quiet(local(TOKYO, 2026, 11, 30, 20, 59), TOKYO, POLICY)
    assert next_allowed(local(NEW_YORK, 2026, 3, 7, 23), NEW_YORK, POLICY) == datetime(2026, 3, 8, 12, tzinfo=UTC)
    assert last_allowed_before(local(TOKYO, 2026, 12, 1, 5), TOKYO, POLICY) == local(TOKYO, 2026, 11, 30, 20, 59)


def test_an_overnight_window_belongs_to_the_day_it_starts():
    policy = Policy(quiet_start=time(3), quiet_end=time(7))
    window = {"days": "fri", "from": "22:00", "to": "01:00"}
    saturday = allowed_spans(local(TOKYO, 2026, 12, 5, 12).astimezone(TOKYO).date(), TOKYO, policy, window)
    assert saturday == [(local(TOKYO, 2026, 12, 5, 0), local(TOKYO, 2026, 12, 5, 1))]


def test_a_window_entirely_inside_quiet_hours_is_ignored_for_quiet_hours():
    window = {"days": "any", "from": "22:00", "to": "23:00"}
    assert next_allowed(local(TOKYO, 2026, 11, 30, 22), TOKYO, POLICY, window) == local(TOKYO, 2026, 12, 1, 8)


def test_no_reply_nudges_follow_the_window_and_rotate_channels():
    window = {"days": "weekdays", "from": "18:00", "to": "21:00"}
    now = local(TOKYO, 2026, 11, 30, 9)
    plan = greeting_nudges(now, TOKYO, POLICY, window, ["line", "sms", "email"])
    assert [(p.kind, p.channel) for p in plan] == [("nudge", "line"), ("nudge", "sms"), ("unreachable", "recruiter")]
    assert [p.due_at for p in plan] == [local(TOKYO, 2026, 11, 30, 18), local(TOKYO, 2026, 12, 1, 18),
                                        local(TOKYO, 2026, 12, 2, 18)]


def test_a_greeting_late_in_the_evening_is_nudged_the_next_morning():
    now = local(TOKYO, 2026, 11, 30, 20, 30)
    plan = greeting_nudges(now, TOKYO, POLICY, None, ["sms"])
    assert plan[0].due_at == local(TOKYO, 2026, 12, 1, 8)
    assert plan[1].due_at == local(TOKYO, 2026, 12, 1, 20, 30)


def test_no_nudges_when_switched_off():
    assert greeting_nudges(local(TOKYO, 2026, 11, 30, 9), TOKYO, Policy(nudge_after_hours=()), None, ["sms"]) == []


def test_settings_read_the_policy_and_rate_limits():
    base = load_settings()
    assert base.policy == Policy()
    assert base.rate_limits == {}


@pytest.mark.parametrize("table,key", [
    ({"nudges": {"after_hours": [24, 1]}}, "nudges.after_hours"),
    ({"nudges": {"after_hours": "1h"}}, "nudges.after_hours"),
    ({"reminders": {"confirm_within_hours": -1}}, "reminders.confirm_within_hours"),
    ({"rate_limits": {"sms": 0}}, "rate_limits.sms"),
    ({"rate_limits": {"line": "fast"}}, "rate_limits.line"),
])
def test_bad_policy_settings_name_the_key(table, key):
    import tomllib
    from importlib import resources

    data = tomllib.loads(resources.files("bot").joinpath("default_settings.toml").read_text(encoding="utf-8"))
    for section, values in table.items():
        data[section] = {**data.get(section, {}), **values}
    with pytest.raises(SettingsError) as err:
        parse_settings(data)
    assert err.value.key == key


ZONES = st.sampled_from([TOKYO, NEW_YORK, ZoneInfo("Europe/London"), ZoneInfo("Australia/Adelaide")])
WINDOWS = st.one_of(st.none(), st.builds(
    lambda days, a, b: {"days": days, "from": f"{a // 60:02d}:{a % 60:02d}", "to": f"{b // 60:02d}:{b % 60:02d}"},
    st.sampled_from(["any", "weekdays", "weekends", "mon", "sat"]), st.integers(0, 1439), st.integers(0, 1439),
).filter(lambda w: w["from"] != w["to"]))


@hsettings(max_examples=150, deadline=None)
@given(tz=ZONES, window=WINDOWS, offset=st.integers(0, 60 * 24 * 400), lead=st.integers(60, 60 * 24 * 14))
def test_every_reminder_is_before_the_interview_after_now_and_outside_quiet_hours(tz, window, offset, lead):
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=offset)
    start = now + timedelta(minutes=lead)
    local_start = start.astimezone(tz).time()
    plan = booking_reminders(start, now, tz, POLICY, window, ["sms", "email"])
    for p in plan:
        assert now <= p.due_at < start
        if p.channel != "recruiter":
            assert not is_quiet(p.due_at, tz, POLICY)
    if time(9) <= local_start <= time(19):  # an interview in office hours is never left without a reminder
        assert any(p.kind.startswith("reminder") for p in plan)


@hsettings(max_examples=150, deadline=None)
@given(tz=ZONES, window=WINDOWS, offset=st.integers(0, 60 * 24 * 400))
def test_nudges_come_in_order_outside_quiet_hours(tz, window, offset):
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=offset)
    plan = greeting_nudges(now, tz, POLICY, window, ["line", "sms"])
    dues = [p.due_at for p in plan]
    assert dues == sorted(dues) and dues[0] >= now + timedelta(hours=1)
    assert all(not is_quiet(p.due_at, tz, POLICY) for p in plan if p.kind == "nudge")
