"""The conversation machine, state by state: every transition, the global fallbacks, and properties."""
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.conversation import Context, State, as_shown, decide
from bot.core.events import (
    AlertRecruiter,
    Applied,
    AskedForPerson,
    AskToConfirm,
    Book,
    Cancel,
    CancelBooking,
    CarrierOptOut,
    ChooseSlot,
    CloseHandoff,
    Confirm,
    Decision,
    Decline,
    Help,
    Linked,
    Marked,
    MediaReceived,
    Offer,
    OfferDates,
    OtherDates,
    OtherMessage,
    PickDate,
    RecordOutcome,
    Reschedule,
    RestoreBooking,
    Resume,
    Send,
    SlotTakenMeanwhile,
    Start,
    Stop,
    Unknown,
    Unmark,
    WantSlots,
    Yes,
)
from calendars.base import Slot

UTC = timezone.utc
NOW = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday 09:00 in Tokyo


def slot(day: int, hour: int, who: str = "tanaka") -> Slot:
    start = datetime(2026, 12, day, hour, 0, tzinfo=UTC)
    return Slot(start, start + timedelta(minutes=30), who)


OFFERED = (slot(1, 1), slot(1, 5, "sato"), slot(2, 2))
FRESH = (slot(3, 1), slot(3, 4, "sato"))
DATES = (date(2026, 12, 3), date(2026, 12, 4))
CHOOSING = (State.GREETED, State.RESCHEDULING, State.NO_SHOW)  # the states that run _choosing
WITH_FALLBACKS = tuple(s for s in State if s not in (State.NEW, State.OPTED_OUT))
EVERY_EVENT = (Applied(), ChooseSlot(number=1), ChooseSlot(key=OFFERED[0].key), OtherDates(),
               PickDate(date(2026, 12, 3)), WantSlots(), Reschedule(), Cancel(), Confirm(), Help(), Stop(), Start(),
               Unknown("えっと"), SlotTakenMeanwhile(), Marked("attended"), Marked("no_show"), Resume(), Yes(),
               Decline("いいえ"), Cancel(sure=True))


def ctx(state: State, **overrides) -> Context:
    """A realistic context: slots on offer and free, and a live booking exactly in the live states."""
    base = dict(offered=OFFERED, fresh=FRESH, dates=DATES,
                has_booking=state in (State.BOOKED, State.CONFIRMED, State.RESCHEDULING))
    return Context(state, NOW, **{**base, **overrides})


def shape(decision) -> list[str]:
    """The actions as short names: 'Offer', 'Book', 'Send:booked', 'Alert:no_slots', 'CancelBooking'."""
    names = []
    for action in decision.actions:
        match action:
            case Send(kind=kind):
                names.append(f"Send:{kind}")
            case AlertRecruiter(reason=reason):
                names.append(f"Alert:{reason}")
            case _:
                names.append(type(action).__name__)
    return names


def first(decision, kind):
    return next(a for a in decision.actions if isinstance(a, kind))


def assert_fetches_a_person_for_lack_of_slots(decision):
    assert decision.state is State.NEEDS_HUMAN
    assert shape(decision) == ["Send:no_slots", "Alert:no_slots"]


def assert_silent(decision, state):
    assert decision.state is state and decision.actions == ()


# --- new --------------------------------------------------------------------------------------

def test_applying_greets_and_offers_the_fresh_slots():
    d = decide(ctx(State.NEW, offered=()), Applied())
    assert d.state is State.GREETED
    assert shape(d) == ["Offer", "Send:greeting"]
    assert first(d, Offer).slots == FRESH and first(d, Send).slots == FRESH


def test_applying_with_no_free_slots_greets_without_slots_and_alerts_the_recruiter():
    d = decide(ctx(State.NEW, offered=(), fresh=()), Applied())
    assert d.state is State.NEEDS_HUMAN
    assert shape(d) == ["Send:greeting", "Alert:no_slots"]
    assert first(d, Send).slots == ()


@pytest.mark.parametrize("event", [e for e in EVERY_EVENT if not isinstance(e, Applied)], ids=repr)
def test_before_applying_everything_else_is_ignored_even_stop_and_help(event):
    assert_silent(decide(ctx(State.NEW), event), State.NEW)


# --- choosing: greeted, rescheduling, no_show -------------------------------------------------

@pytest.mark.parametrize("state", CHOOSING)
def test_choosing_an_offered_number_books_that_slot(state):
    d = decide(ctx(state), ChooseSlot(number=2))
    assert d.state is State.BOOKED
    assert shape(d) == ["Book", "Send:booked"]
    assert first(d, Book).slot == OFFERED[1] and first(d, Send).slots == (OFFERED[1],)


@pytest.mark.parametrize("state", CHOOSING)
def test_tapping_an_offered_slot_button_books_that_slot(state):
    d = decide(ctx(state), ChooseSlot(key=OFFERED[2].key))
    assert d.state is State.BOOKED and shape(d) == ["Book", "Send:booked"]
    assert first(d, Book).slot == OFFERED[2]


@pytest.mark.parametrize("state", CHOOSING)
@pytest.mark.parametrize("number", [0, -1, 4, 99])
def test_a_number_outside_the_offer_asks_again_and_books_nothing(state, number):
    d = decide(ctx(state), ChooseSlot(number=number))
    assert d.state is state and shape(d) == ["Send:pick_again"]
    assert first(d, Send).slots == OFFERED


@pytest.mark.parametrize("state", CHOOSING)
@pytest.mark.parametrize("key", [FRESH[0].key, "tanaka@20991231T0100Z", "", "slot:../../etc", "x" * 120])
def test_a_stale_or_forged_slot_key_asks_again_and_books_nothing(state, key):
    d = decide(ctx(state), ChooseSlot(key=key))
    assert d.state is state and shape(d) == ["Send:pick_again"]


@pytest.mark.parametrize("state", CHOOSING)
def test_a_choice_naming_neither_number_nor_key_asks_again(state):
    d = decide(ctx(state), ChooseSlot())
    assert d.state is state and shape(d) == ["Send:pick_again"]


@pytest.mark.parametrize("state", CHOOSING)
def test_a_choice_when_nothing_is_on_offer_offers_fresh_slots(state):
    d = decide(ctx(state, offered=()), ChooseSlot(number=1))
    assert d.state is state and shape(d) == ["Offer", "Send:offer_again"]
    assert first(d, Offer).slots == FRESH


@pytest.mark.parametrize("state", CHOOSING)
def test_a_choice_when_nothing_is_on_offer_and_nothing_is_free_fetches_a_person(state):
    assert_fetches_a_person_for_lack_of_slots(decide(ctx(state, offered=(), fresh=()), ChooseSlot(number=1)))


@pytest.mark.parametrize("state", CHOOSING)
def test_other_dates_lists_the_days_that_still_have_free_slots(state):
    d = decide(ctx(state), OtherDates())
    assert d.state is state and shape(d) == ["OfferDates", "Send:date_menu"]
    assert first(d, Send).dates == DATES and first(d, OfferDates).dates == DATES  # numbers now mean these days


@pytest.mark.parametrize("state", CHOOSING)
def test_other_dates_with_no_free_day_fetches_a_person(state):
    assert_fetches_a_person_for_lack_of_slots(decide(ctx(state, dates=()), OtherDates()))


@pytest.mark.parametrize("state", CHOOSING)
def test_picking_a_day_offers_that_days_slots(state):
    d = decide(ctx(state), PickDate(date(2026, 12, 3)))
    assert d.state is state and shape(d) == ["Offer", "Send:offer_on_date"]
    assert first(d, Offer).slots == FRESH and first(d, Send).slots == FRESH


@pytest.mark.parametrize("state", CHOOSING)
def test_picking_a_full_day_says_so_and_numbers_the_days_that_are_free(state):
    d = decide(ctx(state, fresh=()), PickDate(date(2026, 12, 5)))
    assert d.state is state and shape(d) == ["OfferDates", "Send:no_slots_on_date"]
    assert first(d, Send).dates == DATES and first(d, OfferDates).dates == DATES


@pytest.mark.parametrize("state", CHOOSING)
def test_picking_a_day_when_no_day_is_free_fetches_a_person(state):
    assert_fetches_a_person_for_lack_of_slots(decide(ctx(state, fresh=(), dates=()), PickDate(date(2026, 12, 5))))


@pytest.mark.parametrize("state", [*CHOOSING, State.NEEDS_HUMAN])
@pytest.mark.parametrize("number", [1, 2])
def test_a_number_after_the_date_menu_picks_that_day_and_never_books(state, number):
    d = decide(ctx(state, offered=(), offered_dates=DATES), ChooseSlot(number=number))
    assert shape(d) == ["Offer", "Send:offer_on_date"]  # the service looked up that day's times as `fresh`
    assert as_shown(ChooseSlot(number=number), state, DATES) == PickDate(DATES[number - 1])


@pytest.mark.parametrize("state", CHOOSING)
@pytest.mark.parametrize("event", [ChooseSlot(number=0), ChooseSlot(number=3), ChooseSlot(key=OFFERED[0].key),
                                   ChooseSlot(key=OFFERED[0].time_key), Confirm()], ids=repr)
def test_anything_but_a_day_while_the_date_menu_is_shown_shows_it_again_and_books_nothing(state, event):
    d = decide(ctx(state, offered=(), offered_dates=DATES), event)
    assert d.state is state and shape(d) == ["Send:date_menu"] and first(d, Send).dates == DATES


@pytest.mark.parametrize("state", [State.BOOKED, State.CONFIRMED, State.CANCELLED, State.ATTENDED])
def test_a_number_outside_the_choosing_states_is_never_read_as_a_day(state):
    assert as_shown(ChooseSlot(number=1), state, DATES) == ChooseSlot(number=1)


@pytest.mark.parametrize("state", CHOOSING)
def test_an_older_button_naming_an_interviewer_counts_only_for_a_time_still_on_offer(state):
    other = Slot(OFFERED[1].start, OFFERED[1].end, "tanaka")  # the same time, first offered with sato
    d = decide(ctx(state), ChooseSlot(key=other.key))
    assert d.state is State.BOOKED and first(d, Book).slot == OFFERED[1]
    d = decide(ctx(state), ChooseSlot(key=OFFERED[1].time_key))
    assert d.state is State.BOOKED and first(d, Book).slot == OFFERED[1]


@pytest.mark.parametrize("state", CHOOSING)
def test_asking_for_slots_offers_fresh_ones(state):
    d = decide(ctx(state), WantSlots())
    assert d.state is state and shape(d) == ["Offer", "Send:offer_again"]
    assert first(d, Offer).slots == FRESH


@pytest.mark.parametrize("state", CHOOSING)
def test_asking_for_slots_when_none_are_free_fetches_a_person(state):
    assert_fetches_a_person_for_lack_of_slots(decide(ctx(state, fresh=()), WantSlots()))


@pytest.mark.parametrize("state", CHOOSING)
def test_slot_taken_meanwhile_apologises_and_offers_fresh_slots(state):
    d = decide(ctx(state), SlotTakenMeanwhile())
    assert d.state is state and shape(d) == ["Offer", "Send:slot_taken"]
    assert first(d, Offer).slots == FRESH and first(d, Send).slots == FRESH


@pytest.mark.parametrize("state", CHOOSING)
def test_slot_taken_meanwhile_with_nothing_else_free_fetches_a_person(state):
    assert_fetches_a_person_for_lack_of_slots(decide(ctx(state, fresh=()), SlotTakenMeanwhile()))


@pytest.mark.parametrize("state", CHOOSING)
def test_saying_yes_before_choosing_asks_for_a_number(state):
    d = decide(ctx(state), Confirm())
    assert d.state is state and shape(d) == ["Send:pick_again"]
    assert first(d, Send).slots == OFFERED


@pytest.mark.parametrize("state", [*CHOOSING, State.BOOKED, State.CONFIRMED, State.CANCELLED, State.ATTENDED])
def test_text_the_bot_cannot_understand_goes_to_a_person_with_the_text(state):
    d = decide(ctx(state), Unknown("来週の火曜は？"))
    assert d.state is State.NEEDS_HUMAN
    assert shape(d) == ["Send:handoff", "Alert:not_understood"]
    assert first(d, AlertRecruiter).detail == "来週の火曜は？"


@pytest.mark.parametrize("state", [State.GREETED, State.NO_SHOW])
@pytest.mark.parametrize("event", [Applied(), Start(), Resume(), Marked("attended"), Marked("no_show")], ids=repr)
def test_choosing_states_ignore_events_meant_for_elsewhere(state, event):
    assert_silent(decide(ctx(state), event), state)


@pytest.mark.parametrize("state", [State.GREETED, State.NO_SHOW])
def test_reschedule_without_a_booking_just_offers_slots(state):
    d = decide(ctx(state), Reschedule())
    assert d.state is State.GREETED and shape(d) == ["Offer", "Send:offer_again"]


@pytest.mark.parametrize("state", [State.GREETED, State.NO_SHOW])
def test_reschedule_without_a_booking_and_no_free_slots_fetches_a_person(state):
    assert_fetches_a_person_for_lack_of_slots(decide(ctx(state, fresh=()), Reschedule()))


@pytest.mark.parametrize("state", [State.GREETED, State.NO_SHOW])
def test_cancel_before_booking_withdraws_and_clears_the_offer(state):
    d = decide(ctx(state), Cancel())
    assert d.state is State.CANCELLED and shape(d) == ["Offer", "Send:withdrawn"]
    assert first(d, Offer).slots == ()


def test_choosing_an_offered_slot_that_has_already_started_offers_fresh_slots_instead():
    past = Slot(NOW - timedelta(hours=1), NOW - timedelta(minutes=30), "tanaka")
    d = decide(ctx(State.GREETED, offered=(past, *OFFERED)), ChooseSlot(number=1))
    assert not any(isinstance(a, Book) for a in d.actions)
    assert d.state is State.GREETED and shape(d) == ["Offer", "Send:offer_again"]


# --- rescheduling -----------------------------------------------------------------------------

def test_choosing_while_rescheduling_books_the_new_slot_which_replaces_the_old():
    d = decide(ctx(State.RESCHEDULING), ChooseSlot(number=1))
    assert d.state is State.BOOKED
    assert shape(d) == ["Book", "Send:booked"]  # Book replaces the live booking: no CancelBooking first
    assert first(d, Book).slot == OFFERED[0]


def test_cancel_while_rescheduling_asks_first_and_yes_cancels_the_booking():
    d = decide(ctx(State.RESCHEDULING), Cancel())
    assert d.state is State.RESCHEDULING and shape(d) == ["AskToConfirm", "Send:confirm_cancel"]
    d = decide(ctx(State.RESCHEDULING, pending="cancel"), Yes())
    assert d.state is State.CANCELLED
    assert shape(d) == ["CancelBooking", "Send:cancelled", "Alert:cancelled"]


def test_reschedule_again_while_rescheduling_offers_fresh_slots():
    d = decide(ctx(State.RESCHEDULING), Reschedule())
    assert d.state is State.RESCHEDULING and shape(d) == ["Offer", "Send:reschedule"]


def test_slot_taken_while_rescheduling_keeps_the_old_booking():
    d = decide(ctx(State.RESCHEDULING), SlotTakenMeanwhile())
    assert d.state is State.RESCHEDULING and "CancelBooking" not in shape(d)


@pytest.mark.parametrize("event", [Applied(), Start(), Resume()], ids=repr)
def test_rescheduling_ignores_events_meant_for_elsewhere(event):
    assert_silent(decide(ctx(State.RESCHEDULING), event), State.RESCHEDULING)


def test_recruiter_marking_attended_while_the_candidate_is_rescheduling_ends_the_booking():
    d = decide(ctx(State.RESCHEDULING), Marked("attended"))
    assert d.state is State.ATTENDED and shape(d) == ["Send:thanks_after"]


# --- booked and confirmed ---------------------------------------------------------------------

LIVE = (State.BOOKED, State.CONFIRMED)


@pytest.mark.parametrize("state", LIVE)
def test_saying_yes_when_booked_confirms_attendance(state):
    d = decide(ctx(state), Confirm())
    assert d.state is State.CONFIRMED and shape(d) == ["Send:confirmed"]


@pytest.mark.parametrize("state", LIVE)
@pytest.mark.parametrize("event", [ChooseSlot(number=1), ChooseSlot(key=OFFERED[0].key), WantSlots(), OtherDates(),
                                   PickDate(date(2026, 12, 3))], ids=repr)
def test_asking_for_slots_when_booked_says_already_booked_and_books_nothing(state, event):
    d = decide(ctx(state), event)
    assert d.state is state and shape(d) == ["Send:already_booked"]


@pytest.mark.parametrize("state", LIVE)
def test_recruiter_marks_attended_and_the_candidate_is_thanked(state):
    d = decide(ctx(state), Marked("attended"))
    assert d.state is State.ATTENDED and shape(d) == ["Send:thanks_after"]


@pytest.mark.parametrize("state", LIVE)
def test_recruiter_marks_no_show_and_the_candidate_is_offered_a_new_time(state):
    d = decide(ctx(state), Marked("no_show"))
    assert d.state is State.NO_SHOW and shape(d) == ["Offer", "Send:no_show"]
    assert first(d, Offer).slots == FRESH


@pytest.mark.parametrize("state", LIVE)
def test_no_show_with_no_free_slots_is_recorded_and_fetches_a_person(state):
    decision = decide(ctx(state, fresh=()), Marked("no_show"))
    assert decision.actions[0] == RecordOutcome("no_show")  # the recruiter's record holds even with no time to offer
    assert_fetches_a_person_for_lack_of_slots(Decision(decision.state, decision.actions[1:]))
    assert all(a.held for a in decision.actions if isinstance(a, Send))  # the candidate hears after the undo window


@pytest.mark.parametrize("state", LIVE)
def test_undo_of_a_no_show_recorded_with_no_free_slots_restores_the_booking(state):
    decision = decide(ctx(State.NEEDS_HUMAN, has_booking=False, before_mark=state.value, handoff_open=True), Unmark())
    assert decision.state is state and RestoreBooking() in decision.actions
    assert CloseHandoff() in decision.actions  # a later stop and start must not say a person is still on it


@pytest.mark.parametrize("state", LIVE)
def test_reschedule_keeps_the_booking_and_offers_new_slots(state):
    d = decide(ctx(state), Reschedule())
    assert d.state is State.RESCHEDULING and shape(d) == ["Offer", "Send:reschedule"]
    assert first(d, Offer).slots == FRESH


@pytest.mark.parametrize("state", LIVE)
def test_reschedule_with_no_free_slots_fetches_a_person_and_keeps_the_booking(state):
    d = decide(ctx(state, fresh=()), Reschedule())
    assert_fetches_a_person_for_lack_of_slots(d)


@pytest.mark.parametrize("state", LIVE)
def test_cancel_interview_asks_once_before_cancelling_anything(state):
    d = decide(ctx(state), Cancel())
    assert d.state is state and shape(d) == ["AskToConfirm", "Send:confirm_cancel"]
    assert first(d, AskToConfirm).what == "cancel"


@pytest.mark.parametrize("state", LIVE)
@pytest.mark.parametrize("event", [Yes(), Cancel(sure=True)], ids=repr)
def test_yes_to_really_cancel_cancels_the_booking_and_tells_the_recruiter(state, event):
    d = decide(ctx(state, pending="cancel"), event)
    assert d.state is State.CANCELLED
    assert shape(d) == ["CancelBooking", "Send:cancelled", "Alert:cancelled"]


@pytest.mark.parametrize("state", LIVE)
def test_no_to_really_cancel_keeps_the_interview_and_says_so(state):
    d = decide(ctx(state, pending="cancel"), Decline("いいえ"))
    assert d.state is state and shape(d) == ["Send:cancel_kept"]


@pytest.mark.parametrize("state", [State.BOOKED, State.CONFIRMED])
@pytest.mark.parametrize("event, then", [
    (Confirm(), ["Send:confirmed"]), (Help(), ["Send:help"]),
    (Unknown("料金は？"), ["Send:handoff", "Alert:not_understood"]),
    (ChooseSlot(number=3), ["Send:already_booked"]), (Reschedule(), ["Offer", "Send:reschedule"])], ids=repr)
def test_anything_else_after_really_cancel_keeps_the_interview_says_so_and_answers_it(state, event, then):
    d = decide(ctx(state, pending="cancel"), event)
    assert "CancelBooking" not in shape(d) and shape(d) == ["Send:cancel_kept", *then]


def test_asked_again_to_cancel_asks_again_and_a_stop_keeps_the_booking():
    assert shape(decide(ctx(State.BOOKED, pending="cancel"), Cancel())) == ["AskToConfirm", "Send:confirm_cancel"]
    d = decide(ctx(State.BOOKED, pending="cancel"), Stop())
    assert d.state is State.OPTED_OUT and shape(d) == ["Send:stopped", "Alert:opted_out"]


def test_a_yes_with_no_question_asked_never_cancels():
    assert "CancelBooking" not in shape(decide(ctx(State.BOOKED), Yes()))


def test_a_tap_on_yes_cancel_cancels_even_when_the_question_was_asked_elsewhere():
    # The button (chat) or the candidate page's own question names what it does: no second question.
    assert shape(decide(ctx(State.BOOKED), Cancel(sure=True))) == ["CancelBooking", "Send:cancelled", "Alert:cancelled"]


def test_a_no_with_no_question_asked_goes_to_a_person_and_an_old_keep_button_does_nothing():
    assert shape(decide(ctx(State.BOOKED), Decline("no"))) == ["Send:handoff", "Alert:not_understood"]
    assert_silent(decide(ctx(State.BOOKED), Decline()), State.BOOKED)


@pytest.mark.parametrize("state", LIVE)
@pytest.mark.parametrize("event", [Applied(), Start(), Resume(), SlotTakenMeanwhile(), Marked("late")], ids=repr)
def test_booked_ignores_events_meant_for_elsewhere(state, event):
    assert_silent(decide(ctx(state), event), state)


# --- cancelled --------------------------------------------------------------------------------

@pytest.mark.parametrize("event", [WantSlots(), Reschedule(), OtherDates(), ChooseSlot(number=1),
                                   ChooseSlot(key=OFFERED[0].key), Confirm(), PickDate(date(2026, 12, 3))], ids=repr)
def test_after_cancelling_any_wish_to_book_offers_fresh_slots_and_books_nothing(event):
    d = decide(ctx(State.CANCELLED), event)
    assert d.state is State.GREETED and shape(d) == ["Offer", "Send:offer_again"]
    assert first(d, Offer).slots == FRESH


def test_after_cancelling_a_wish_to_book_with_no_free_slots_fetches_a_person():
    assert_fetches_a_person_for_lack_of_slots(decide(ctx(State.CANCELLED, fresh=()), WantSlots()))


@pytest.mark.parametrize("event", [Cancel(), Applied(), Start(), Resume(), SlotTakenMeanwhile(), Marked("no_show")],
                         ids=repr)
def test_cancelled_ignores_a_second_cancel_and_events_meant_for_elsewhere(event):
    assert_silent(decide(ctx(State.CANCELLED), event), State.CANCELLED)


# --- attended ---------------------------------------------------------------------------------

@pytest.mark.parametrize("event", [ChooseSlot(number=1), WantSlots(), OtherDates(), PickDate(date(2026, 12, 3)),
                                   Confirm(), Cancel(), Start(), Resume(), Applied(), SlotTakenMeanwhile(),
                                   Marked("no_show")], ids=repr)
def test_after_the_interview_the_bot_stays_quiet(event):
    assert_silent(decide(ctx(State.ATTENDED), event), State.ATTENDED)


def test_after_the_interview_reschedule_does_not_offer_a_second_interview():
    d = decide(ctx(State.ATTENDED), Reschedule())
    assert d.state is State.ATTENDED and "Offer" not in shape(d)


# --- opted out --------------------------------------------------------------------------------

@pytest.mark.parametrize("event", [Start(), Confirm()], ids=repr)
def test_opting_back_in_with_a_booking_says_it_is_still_booked(event):
    d = decide(ctx(State.OPTED_OUT, has_booking=True), event)
    assert d.state is State.BOOKED and shape(d) == ["Send:welcome_back_booked"]


@pytest.mark.parametrize("event", [Start(), Confirm()], ids=repr)
def test_opting_back_in_without_a_booking_offers_fresh_slots(event):
    d = decide(ctx(State.OPTED_OUT), event)
    assert d.state is State.GREETED and shape(d) == ["Offer", "Send:welcome_back"]
    assert first(d, Offer).slots == FRESH


def test_opting_back_in_with_no_free_slots_fetches_a_person():
    assert_fetches_a_person_for_lack_of_slots(decide(ctx(State.OPTED_OUT, fresh=()), Start()))


@pytest.mark.parametrize("booked", [False, True])
@pytest.mark.parametrize("event", [e for e in EVERY_EVENT if not isinstance(e, (Start, Confirm))], ids=repr)
def test_opted_out_is_silent_to_everything_but_start_and_yes(event, booked):
    d = decide(ctx(State.OPTED_OUT, has_booking=booked), event)
    recorded = isinstance(event, Marked) and booked  # the booking's outcome, recorded unheard
    assert d.state is State.OPTED_OUT and d.actions == ((RecordOutcome(event.outcome),) if recorded else ())


# --- needs a person ---------------------------------------------------------------------------

def test_resume_with_a_booking_hands_back_to_the_bot_as_booked():
    d = decide(ctx(State.NEEDS_HUMAN, has_booking=True), Resume())
    assert d.state is State.BOOKED and shape(d) == ["Send:back_to_bot_booked"]


def test_resume_without_a_booking_offers_fresh_slots():
    d = decide(ctx(State.NEEDS_HUMAN), Resume())
    assert d.state is State.GREETED and shape(d) == ["Offer", "Send:offer_again"]


def test_resume_without_a_booking_or_free_slots_alerts_again():
    assert_fetches_a_person_for_lack_of_slots(decide(ctx(State.NEEDS_HUMAN, fresh=()), Resume()))


def test_while_a_person_is_on_it_a_valid_slot_choice_still_books():
    d = decide(ctx(State.NEEDS_HUMAN), ChooseSlot(number=3))
    assert d.state is State.BOOKED and shape(d) == ["Book", "Send:booked"]
    assert first(d, Book).slot == OFFERED[2]


@pytest.mark.parametrize("event, offered", [(ChooseSlot(number=9), OFFERED), (ChooseSlot(key="forged"), OFFERED),
                                            (ChooseSlot(number=1), ())], ids=repr)
def test_while_a_person_is_on_it_an_invalid_choice_gets_no_bot_reply(event, offered):
    assert_silent(decide(ctx(State.NEEDS_HUMAN, offered=offered), event), State.NEEDS_HUMAN)


def test_while_a_person_is_on_it_a_choice_by_someone_with_a_booking_is_left_to_the_person():
    assert_silent(decide(ctx(State.NEEDS_HUMAN, has_booking=True), ChooseSlot(number=1)), State.NEEDS_HUMAN)


@pytest.mark.parametrize("event, kinds", [(WantSlots(), ["Offer", "Send:offer_again"]),
                                          (OtherDates(), ["OfferDates", "Send:date_menu"]),
                                          (PickDate(date(2026, 12, 3)), ["Offer", "Send:offer_on_date"])], ids=repr)
def test_while_a_person_is_on_it_asking_for_slots_without_a_booking_returns_to_the_bot(event, kinds):
    d = decide(ctx(State.NEEDS_HUMAN), event)
    assert d.state is State.GREETED and shape(d) == kinds


@pytest.mark.parametrize("event", [WantSlots(), OtherDates(), PickDate(date(2026, 12, 3))], ids=repr)
def test_while_a_person_is_on_it_asking_for_slots_with_a_booking_gets_no_bot_reply(event):
    assert_silent(decide(ctx(State.NEEDS_HUMAN, has_booking=True), event), State.NEEDS_HUMAN)


def test_while_a_person_is_on_it_yes_with_a_booking_confirms():
    d = decide(ctx(State.NEEDS_HUMAN, has_booking=True), Confirm())
    assert d.state is State.CONFIRMED and shape(d) == ["Send:confirmed"]


@pytest.mark.parametrize("outcome, state, kinds", [("attended", State.ATTENDED, ["Send:thanks_after"]),
                                                   ("no_show", State.NO_SHOW, ["Offer", "Send:no_show"])])
def test_while_a_person_is_on_it_the_recruiter_can_mark_the_booked_interview(outcome, state, kinds):
    d = decide(ctx(State.NEEDS_HUMAN, has_booking=True), Marked(outcome))
    assert d.state is state and shape(d) == kinds


@pytest.mark.parametrize("event", [Confirm(), Marked("attended"), Marked("no_show"), Cancel(), Unknown("??"),
                                   Applied(), Start()], ids=repr)
def test_while_a_person_is_on_it_without_a_booking_the_bot_stays_quiet(event):
    assert_silent(decide(ctx(State.NEEDS_HUMAN), event), State.NEEDS_HUMAN)


def test_while_a_person_is_on_it_reschedule_with_a_booking_offers_new_slots():
    d = decide(ctx(State.NEEDS_HUMAN, has_booking=True), Reschedule())
    assert d.state is State.RESCHEDULING and shape(d) == ["Offer", "Send:reschedule"]


def test_while_a_person_is_on_it_reschedule_without_a_booking_offers_slots():
    d = decide(ctx(State.NEEDS_HUMAN), Reschedule())
    assert d.state is State.GREETED and shape(d) == ["Offer", "Send:offer_again"]


def test_while_a_person_is_on_it_cancel_with_a_booking_asks_then_cancels_it():
    d = decide(ctx(State.NEEDS_HUMAN, has_booking=True), Cancel())
    assert d.state is State.NEEDS_HUMAN and shape(d) == ["AskToConfirm", "Send:confirm_cancel"]
    d = decide(ctx(State.NEEDS_HUMAN, has_booking=True, pending="cancel"), Yes())
    assert d.state is State.CANCELLED and shape(d) == ["CancelBooking", "Send:cancelled", "Alert:cancelled"]


def test_while_a_person_is_on_it_a_slot_taken_meanwhile_apologises_and_offers_fresh_slots():
    d = decide(ctx(State.NEEDS_HUMAN), SlotTakenMeanwhile())
    assert d.state is State.GREETED and shape(d) == ["Offer", "Send:slot_taken"]


# --- global fallbacks -------------------------------------------------------------------------

@pytest.mark.parametrize("booked", [False, True])
@pytest.mark.parametrize("state", WITH_FALLBACKS)
def test_stop_opts_out_from_every_state_after_applying(state, booked):
    d = decide(ctx(state, has_booking=booked), Stop())
    assert d.state is State.OPTED_OUT and shape(d) == ["Send:stopped", "Alert:opted_out"]


@pytest.mark.parametrize("state", WITH_FALLBACKS)
def test_help_explains_and_keeps_the_state(state):
    d = decide(ctx(state), Help())
    assert d.state is state and shape(d) == ["Send:help"]


@pytest.mark.parametrize("state", [State.NEW, State.OPTED_OUT])
@pytest.mark.parametrize("event", [Stop(), Help(), Reschedule(), Cancel()], ids=repr)
def test_global_fallbacks_do_not_apply_before_applying_or_after_opting_out(state, event):
    assert_silent(decide(ctx(state, has_booking=True), event), state)


# --- the whole table --------------------------------------------------------------------------

# Every (state, event type) pair that leaves its state, with the usual context (slots on offer and
# free days); `booked` says whether a live booking exists.
N, G, B, C, R, X, A, S, OPTED_OUT, H = (State.NEW, State.GREETED, State.BOOKED, State.CONFIRMED, State.RESCHEDULING,
                                State.CANCELLED, State.ATTENDED, State.NO_SHOW, State.OPTED_OUT, State.NEEDS_HUMAN)
TRANSITIONS = [
    (N, False, Applied(), G),
    *[(s, booked, event, target) for s, booked in ((G, False), (R, True), (S, False)) for event, target in (
        (ChooseSlot(number=1), B), (ChooseSlot(key=OFFERED[0].key), B), (Unknown("?!"), H), (Stop(), OPTED_OUT))],
    (G, False, Cancel(), X), (S, False, Cancel(), X),  # nothing booked: withdrawing needs no question
    (G, False, Reschedule(), G), (S, False, Reschedule(), G), (R, True, Reschedule(), R),
    *[(s, True, event, target) for s in (B, C) for event, target in (
        (Marked("attended"), A), (Marked("no_show"), S), (Unknown("?!"), H), (Stop(), OPTED_OUT), (Reschedule(), R))],
    (B, True, Confirm(), C),
    *[(X, False, event, G) for event in (WantSlots(), Reschedule(), OtherDates(), ChooseSlot(number=1), Confirm(),
                                         PickDate(date(2026, 12, 3)))],
    (X, False, Unknown("?!"), H), (X, False, Stop(), OPTED_OUT),
    (A, False, Unknown("?!"), H), (A, False, Stop(), OPTED_OUT),
    (A, False, Reschedule(), A),
    (OPTED_OUT, False, Start(), G), (OPTED_OUT, False, Confirm(), G),
    (OPTED_OUT, True, Start(), B), (OPTED_OUT, True, Confirm(), B),
    (H, False, Resume(), G), (H, True, Resume(), B), (H, False, ChooseSlot(number=1), B),
    (H, False, WantSlots(), G), (H, False, OtherDates(), G), (H, False, PickDate(date(2026, 12, 3)), G),
    (H, False, Reschedule(), G), (H, True, Reschedule(), R), (H, True, Confirm(), C),
    (H, True, Marked("attended"), A), (H, True, Marked("no_show"), S),
    (H, False, Stop(), OPTED_OUT), (H, True, Stop(), OPTED_OUT),
    (H, False, SlotTakenMeanwhile(), G),
    (R, True, Marked("attended"), A),
]

# The same pairs where nothing is free: each offer turns into a call for a person.
TRANSITIONS_WITHOUT_SLOTS = [
    (N, False, Applied(), H),
    *[(s, booked, event, H) for s, booked in ((G, False), (R, True), (S, False))
      for event in (WantSlots(), SlotTakenMeanwhile(), OtherDates())],
    (G, False, Reschedule(), H), (S, False, Reschedule(), H), (R, True, Reschedule(), H),
    (B, True, Reschedule(), H), (C, True, Reschedule(), H), (B, True, Marked("no_show"), H),
    (C, True, Marked("no_show"), H), (X, False, WantSlots(), H), (OPTED_OUT, False, Start(), H),
    (H, False, WantSlots(), H), (H, False, Resume(), H),
]


@pytest.mark.parametrize("state, booked, event, expected", TRANSITIONS)
def test_decide_agrees_with_the_transition_table(state, booked, event, expected):
    assert decide(ctx(state, has_booking=booked), event).state is expected


@pytest.mark.parametrize("state, booked, event, expected", TRANSITIONS_WITHOUT_SLOTS)
def test_decide_agrees_with_the_transition_table_when_nothing_is_free(state, booked, event, expected):
    d = decide(ctx(state, has_booking=booked, offered=(), fresh=(), dates=()), event)
    assert d.state is expected and "Alert:no_slots" in shape(d)


def test_the_transition_table_leaves_every_state():
    sources = {row.values[0] if hasattr(row, "values") else row[0] for row in TRANSITIONS}
    assert sources == set(State)


def test_the_diagram_in_the_docs_draws_exactly_the_moves_the_machine_makes():
    diagram = (Path(__file__).resolve().parents[2] / "docs" / "conversation.md").read_text(encoding="utf-8")
    drawn = set(re.findall(r"^\s*(\w+) --> (\w+):", diagram, re.M))
    booking = {State.BOOKED: (True,), State.CONFIRMED: (True,), State.RESCHEDULING: (True,),
               State.NEEDS_HUMAN: (False, True), State.OPTED_OUT: (False, True)}
    supply = ({}, {"fresh": (), "dates": ()}, {"offered": ()}, {"offered": (), "fresh": (), "dates": ()},
              {"pending": "cancel"}, {"handoff_open": True}, {"before_mark": "booked"}, {"before_mark": "confirmed"})
    made = {(state.value, decide(ctx(state, has_booking=booked, **extra), event).state.value)
            for state in State for booked in booking.get(state, (False,)) for extra in supply
            for event in (*EVERY_EVENT, Unmark())}
    assert made == drawn | {("new", "new")}  # new's silence is a note, not an arrow


# --- properties -------------------------------------------------------------------------------

slots = st.builds(lambda day, hour, who: slot(day, hour, who), st.integers(1, 14), st.integers(0, 23),
                  st.sampled_from(["tanaka", "sato"]))
slot_tuples = st.lists(slots, max_size=5, unique=True).map(tuple)
contexts = st.builds(Context, st.sampled_from(list(State)), st.just(NOW), slot_tuples, slot_tuples,
                     st.lists(st.dates(date(2026, 11, 1), date(2027, 12, 31)), max_size=7).map(tuple),
                     st.booleans())
events = st.one_of(
    st.builds(ChooseSlot, st.none() | st.integers(-3, 10), st.none() | st.text(max_size=30)),
    slots.map(lambda s: ChooseSlot(key=s.key)),
    st.builds(PickDate, st.dates()),
    st.builds(Unknown, st.text(max_size=50)),
    st.builds(Marked, st.sampled_from(["attended", "no_show", "", "late"])),
    st.sampled_from([Yes(), Decline("no"), Decline(), Cancel(sure=True)]),
    st.sampled_from([Applied(), OtherDates(), WantSlots(), Reschedule(), Cancel(), Confirm(), Help(), Stop(),
                     Start(), SlotTakenMeanwhile(), Resume(), Unmark()]),
)


@given(contexts, events)
def test_decide_never_raises_returns_a_state_and_books_only_an_offered_slot(context, event):
    d = decide(context, event)
    assert isinstance(d.state, State)
    for action in d.actions:
        assert isinstance(action, (Send, Offer, OfferDates, Book, CancelBooking, AlertRecruiter, AskToConfirm,
                                   CloseHandoff, RecordOutcome, RestoreBooking))
        if isinstance(action, Book):
            assert isinstance(event, ChooseSlot) and action.slot in context.offered
    if context.state is State.OPTED_OUT and not isinstance(event, (Start, Confirm)):
        # Nothing said; only the recruiter's outcome (or its undo) is recorded on the booking.
        quiet = {Marked: RecordOutcome, Unmark: RestoreBooking}.get(type(event))
        assert d.state is State.OPTED_OUT and all(isinstance(a, quiet or ()) for a in d.actions)
    if context.state is State.NEW and not isinstance(event, Applied):
        assert d.state is State.NEW and d.actions == ()


# --- hand-offs that hold: through stop and start, until the recruiter resumes ---------------------

@pytest.mark.parametrize("booked", [False, True])
@pytest.mark.parametrize("event", [Start(), Yes()], ids=repr)
def test_start_after_stop_returns_to_the_open_hand_off_and_says_a_person_still_answers(booked, event):
    d = decide(ctx(State.OPTED_OUT, has_booking=booked, handoff_open=True), event)
    assert d.state is State.NEEDS_HUMAN and shape(d) == ["Send:welcome_back_handoff", "Alert:opted_in_waiting"]


@pytest.mark.parametrize("state", [State.NEEDS_HUMAN, State.BOOKED, State.OPTED_OUT])
def test_resume_closes_an_open_hand_off_wherever_the_candidate_is(state):
    assert "CloseHandoff" in shape(decide(ctx(state, handoff_open=True), Resume()))
    assert "CloseHandoff" not in shape(decide(ctx(state), Resume()))


@pytest.mark.parametrize("state", [State.GREETED, State.NO_SHOW])
def test_a_hand_off_keeps_the_offered_times_on_screen_so_the_candidate_can_still_book(state):
    d = decide(ctx(state), Unknown("服装は？"))
    assert d.state is State.NEEDS_HUMAN and first(d, Send).slots == OFFERED
    booked = decide(ctx(State.NEEDS_HUMAN, handoff_open=True), ChooseSlot(number=2))
    assert booked.state is State.BOOKED and first(booked, Book).slot == OFFERED[1]


@pytest.mark.parametrize("state", LIVE)
def test_a_hand_off_with_a_booking_offers_no_times(state):
    assert first(decide(ctx(state), Unknown("服装は？")), Send).slots == ()


@pytest.mark.parametrize("state", LIVE)
def test_stop_while_booked_tells_the_recruiter_which_booking_stays(state):
    d = decide(ctx(state), Stop())
    assert first(d, AlertRecruiter) == AlertRecruiter("opted_out", with_booking=True)


# --- what a channel or provider reports: the same in every state ----------------------------------

@pytest.mark.parametrize("state", [s for s in State if s is not State.OPTED_OUT])
def test_a_carrier_opt_out_stops_in_any_state_without_a_word_and_tells_the_recruiter_why(state):
    d = decide(ctx(state, pending="cancel"), CarrierOptOut("carrier reports an opt-out"))
    assert d == Decision(State.OPTED_OUT, (AlertRecruiter("opted_out", "carrier reports an opt-out"),))


def test_a_carrier_opt_out_after_a_stop_changes_nothing():
    assert decide(ctx(State.OPTED_OUT, has_booking=True), CarrierOptOut("21610")) == Decision(State.OPTED_OUT)


@pytest.mark.parametrize("state", list(State))
def test_asking_for_a_person_hands_over_from_any_state(state):
    d = decide(ctx(state), AskedForPerson())
    assert d == Decision(State.NEEDS_HUMAN, (Send("human_requested"), AlertRecruiter("asked_for_person")))


def test_asking_for_a_person_is_not_read_as_an_answer_to_really_cancel():
    d = decide(ctx(State.BOOKED, pending="cancel"), AskedForPerson())
    assert d.state is State.NEEDS_HUMAN and shape(d) == ["Send:human_requested", "Alert:asked_for_person"]


@pytest.mark.parametrize("state", [s for s in State if s is not State.NEEDS_HUMAN])
def test_a_photo_is_answered_shown_to_the_recruiter_and_the_state_stays(state):
    d = decide(ctx(state), MediaReceived("image"))
    assert d == Decision(state, (Send("media_reply"), AlertRecruiter("media_received", "image")))


def test_a_file_while_a_person_has_the_conversation_only_reaches_the_recruiter():
    d = decide(ctx(State.NEEDS_HUMAN), MediaReceived("file"))
    assert d == Decision(State.NEEDS_HUMAN, (AlertRecruiter("media_received", "file"),))


@pytest.mark.parametrize("kind, reply", [("sticker", "sticker_reply"), ("location", "unsupported_reply"),
                                         ("", "unsupported_reply")])
@pytest.mark.parametrize("state", [State.GREETED, State.BOOKED, State.CANCELLED, State.ATTENDED])
def test_a_sticker_or_a_message_without_words_gets_a_kind_fixed_answer_and_the_state_stays(state, kind, reply):
    assert decide(ctx(state), OtherMessage(kind)) == Decision(state, (Send(reply),))


def test_a_sticker_while_a_person_has_the_conversation_is_not_answered():
    assert decide(ctx(State.NEEDS_HUMAN), OtherMessage("sticker")) == Decision(State.NEEDS_HUMAN)


@pytest.mark.parametrize("state", [State.NEW, State.GREETED])
def test_linking_line_before_any_booking_greets_again_from_the_start_with_fresh_times(state):
    d = decide(ctx(state), Linked())
    assert d == Decision(State.GREETED, (Offer(FRESH), Send("greeting", slots=FRESH)))


@pytest.mark.parametrize("state", [State.NEW, State.GREETED])
def test_linking_line_with_nothing_free_greets_and_fetches_a_person(state):
    d = decide(ctx(state, fresh=(), dates=()), Linked())
    assert d == Decision(State.NEEDS_HUMAN, (Send("greeting"), AlertRecruiter("no_slots")))


@pytest.mark.parametrize("state", [s for s in State if s not in (State.NEW, State.GREETED)])
def test_linking_line_later_in_the_conversation_means_asking_for_times(state):
    assert decide(ctx(state), Linked()) == decide(ctx(state), WantSlots())


def test_linking_line_after_withdrawing_offers_times_again():
    d = decide(ctx(State.CANCELLED), Linked())
    assert d.state is State.GREETED and shape(d) == ["Offer", "Send:offer_again"]


reported = st.one_of(st.builds(CarrierOptOut, st.text(max_size=30)),
                     st.builds(MediaReceived, st.sampled_from(["image", "video", "audio", "file"])),
                     st.builds(OtherMessage, st.sampled_from(["sticker", "location", ""])),
                     st.sampled_from([AskedForPerson(), Linked()]))


@given(contexts, reported)
def test_what_a_channel_reports_never_raises_and_never_books_or_cancels_an_interview(context, event):
    d = decide(context, event)
    assert isinstance(d.state, State)
    assert not any(isinstance(a, (Book, CancelBooking, RecordOutcome, RestoreBooking)) for a in d.actions)
