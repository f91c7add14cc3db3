"""The conversation's answer to recruiter-side calendar changes (pure: no calendar involved)."""
import pytest

from bot.core.conversation import State, decide
from bot.core.events import CalendarDeleted, CalendarMoved
from tests.core.test_conversation import FRESH, OFFERED, ctx, shape

MOVED = CalendarMoved(OFFERED[0])


@pytest.mark.parametrize("state", [State.BOOKED, State.CONFIRMED, State.RESCHEDULING, State.NEEDS_HUMAN])
def test_a_moved_interview_follows_the_calendar_and_offers_alternatives(state):
    d = decide(ctx(state, has_booking=True), MOVED)
    assert d.state is State.RESCHEDULING and shape(d) == ["MoveBooking", "Offer", "Send:calendar_moved"]
    assert d.actions[0].slot == OFFERED[0] and d.actions[2].slots == FRESH


def test_a_moved_interview_with_nothing_else_free_just_tells_the_new_time():
    d = decide(ctx(State.CONFIRMED, fresh=()), MOVED)
    assert d.state is State.CONFIRMED and shape(d) == ["MoveBooking", "Send:calendar_moved_only"]


@pytest.mark.parametrize("state", [State.BOOKED, State.CONFIRMED, State.RESCHEDULING])
def test_a_deleted_interview_is_cancelled_and_new_slots_offered(state):
    d = decide(ctx(state), CalendarDeleted())
    assert d.state is State.GREETED and shape(d) == ["CancelBooking", "Offer", "Send:calendar_cancelled"]


def test_a_deleted_interview_with_nothing_free_fetches_a_person():
    d = decide(ctx(State.BOOKED, fresh=()), CalendarDeleted())
    assert d.state is State.NEEDS_HUMAN
    assert shape(d) == ["CancelBooking", "Send:calendar_cancelled_no_slots", "Alert:no_slots"]


@pytest.mark.parametrize("event, kinds", [(MOVED, ["MoveBooking"]), (CalendarDeleted(), ["CancelBooking"])], ids=repr)
def test_an_opted_out_candidates_booking_follows_the_calendar_silently(event, kinds):
    d = decide(ctx(State.OPTED_OUT, has_booking=True), event)
    assert d.state is State.OPTED_OUT and shape(d) == kinds


@pytest.mark.parametrize("event", [MOVED, CalendarDeleted()], ids=repr)
@pytest.mark.parametrize("state", [State.GREETED, State.CANCELLED, State.ATTENDED, State.NEW])
def test_without_a_live_booking_calendar_changes_are_ignored(state, event):
    d = decide(ctx(state, has_booking=False), event)
    assert d.state is state and d.actions == ()
