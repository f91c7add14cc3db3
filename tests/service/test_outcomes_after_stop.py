"""A booked candidate who sent STOP keeps the booking: its outcome is recorded like anyone's, and they hear nothing."""
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.core.conversation import Context, State, decide
from bot.core.events import Marked, RecordOutcome, RestoreBooking, Unmark
from bot.db.models import Applicant, Outbox
from tests.service.test_outcomes import NOW, START, booked, booking, csrf, record, recruiter, said, state  # noqa: F401


@pytest.fixture
def stopped(booked, svc):
    """The booked candidate of test_outcomes, who then asked for no more messages."""
    booked.say("STOP")
    said(booked)  # the stop's own acknowledgement, which says the booking stays
    assert state(svc, booked) == "opted_out" and booking(svc).status == "booked"
    return booked


def candidate_messages(svc, chat) -> list[str]:
    """Every message kind ever queued for the candidate (not the recruiter) after their stop."""
    with Session(svc.engine) as s:
        rows = s.exec(select(Outbox).where(Outbox.applicant_id == chat.id, Outbox.channel != "recruiter",
                                           Outbox.kind != "stopped", Outbox.status != "cancelled")).all()
        return [r.kind for r in rows if r.created_at >= START]


@pytest.mark.parametrize("outcome", ["attended", "no_show"])
def test_a_stopped_booked_candidate_can_be_marked_after_the_start_and_hears_nothing_ever(stopped, recruiter, svc,
                                                                                         clock, outcome):
    clock.now = START + timedelta(minutes=35)
    assert "記録しますか" in recruiter.get(
        f"/recruiter/applicants/{stopped.id}/outcome/{outcome}").get_data(as_text=True)
    done = record(recruiter, stopped, outcome, confirm="yes")
    assert done.status_code == 200 and "記録しました" in done.get_data(as_text=True)
    assert booking(svc).status == outcome and state(svc, stopped) == "opted_out"
    clock.advance(minutes=svc.settings.undo_minutes + 30)  # long past the undo window, the outbox run
    assert said(stopped) == ""
    assert candidate_messages(svc, stopped) == []
    with Session(svc.engine) as s:
        assert s.get(Applicant, stopped.id).opted_out


def test_a_stopped_booked_candidate_shows_outcome_buttons_after_the_start_and_the_outcome_after(stopped, recruiter,
                                                                                                svc, clock):
    page = recruiter.get("/recruiter/").get_data(as_text=True)
    assert "面接開始後に記録できます" in page  # before the start: disabled, with the reason
    clock.now = START + timedelta(minutes=35)
    page = recruiter.get("/recruiter/").get_data(as_text=True)
    assert f"/recruiter/applicants/{stopped.id}/outcome/no_show" in page
    record(recruiter, stopped, "no_show", confirm="yes")
    page = recruiter.get("/recruiter/").get_data(as_text=True)
    assert f"/recruiter/applicants/{stopped.id}/outcome/no_show" not in page
    assert 'class="outcome">不参加' in page and "取り消す" in page


def test_undoing_a_stopped_candidates_outcome_restores_the_booking_and_keeps_them_opted_out(stopped, recruiter, svc,
                                                                                           clock):
    clock.now = START + timedelta(minutes=40)
    record(recruiter, stopped, "attended", confirm="yes")
    clock.advance(minutes=2)
    res = recruiter.post(f"/recruiter/applicants/{stopped.id}/undo", data={"csrf": csrf(recruiter)})
    assert res.status_code == 303
    b = booking(svc)
    assert b.status == "booked" and b.marked_at is None and b.active_slot is not None
    assert state(svc, stopped) == "opted_out"
    clock.advance(minutes=30)
    assert said(stopped) == "" and candidate_messages(svc, stopped) == []


def test_a_stopped_booked_candidates_outcome_is_still_refused_before_the_start(stopped, recruiter, svc, clock):
    clock.now = START - timedelta(minutes=1)
    res = record(recruiter, stopped, "attended", confirm="yes")
    assert res.status_code == 409 and "始まるまでは" in res.get_data(as_text=True)
    assert booking(svc).status == "booked" and state(svc, stopped) == "opted_out"


# --- the pure rules behind it ---

def opted_out(**kw) -> Context:
    return Context(State.OPTED_OUT, NOW, has_booking=kw.pop("has_booking", True), **kw)


@pytest.mark.parametrize("outcome", ["attended", "no_show"])
def test_marking_a_stopped_booked_candidate_records_the_outcome_and_sends_nothing(outcome):
    d = decide(opted_out(interview_start=NOW), Marked(outcome))
    assert d.state is State.OPTED_OUT and d.actions == (RecordOutcome(outcome),)


@pytest.mark.parametrize("context", [opted_out(interview_start=NOW + timedelta(minutes=1)),
                                     opted_out(has_booking=False)],
                         ids=["before the start", "no booking"])
def test_marking_a_stopped_candidate_before_the_start_or_without_a_booking_changes_nothing(context):
    d = decide(context, Marked("attended"))
    assert d.state is State.OPTED_OUT and d.actions == ()


def test_unmarking_a_stopped_candidate_restores_the_booking_and_keeps_them_opted_out():
    d = decide(opted_out(has_booking=False, before_mark="booked"), Unmark())
    assert d.state is State.OPTED_OUT and d.actions == (RestoreBooking(),)
    assert decide(opted_out(has_booking=False), Unmark()).actions == ()  # the window has passed
