"""Attended / no-show: only once the interview has started, after a confirm step, with a few minutes to undo."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.core.conversation import Context, State, decide
from bot.core.events import ChooseSlot, Marked, RestoreBooking, Send, Unmark
from bot.db.models import Applicant, Booking, Outbox
from bot.service.followups import outcome_links
from bot.service.turn import handle
from calendars.base import Slot
from tests.conftest import Chat
from tests.recruiters import sign_in

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 11, 30, 2, 30, tzinfo=timezone.utc)  # the first offered time: Monday 11:30 in Tokyo


@pytest.fixture
def booked(client, svc):
    """A candidate booked for Monday 11:30-12:00 (Tokyo); it is 09:00 now."""
    chat = Chat(client, svc)
    chat.apply(channel="email")
    handle(svc, chat.id, ChooseSlot(number=1))
    chat.replies()
    assert booking(svc).start_at == START
    return chat


@pytest.fixture
def recruiter(client):
    sign_in(client)
    return client


def booking(svc) -> Booking:
    with Session(svc.engine) as s:
        return s.exec(select(Booking).order_by(Booking.id.desc())).first()


def state(svc, chat) -> str:
    with Session(svc.engine) as s:
        return s.get(Applicant, chat.id).state


def csrf(client) -> str:
    client.get("/recruiter/")
    with client.session_transaction() as session:
        return session["csrf"]


def record(client, chat, outcome, **form):
    return client.post(f"/recruiter/applicants/{chat.id}/{outcome}", data={"csrf": csrf(client), **form})


def said(chat) -> str:
    return "\n".join(m["text"] for m in chat.replies())


def test_before_the_interview_starts_the_page_shows_no_outcome_buttons_and_refuses_a_post(booked, recruiter, svc):
    page = recruiter.get("/recruiter/").get_data(as_text=True)
    assert "面接開始後に記録できます" in page and "disabled" in page
    assert f"/recruiter/applicants/{booked.id}/outcome/attended" not in page
    res = record(recruiter, booked, "attended", confirm="yes")
    assert res.status_code == 409
    assert "始まるまでは" in res.get_data(as_text=True) and "has not started" in res.get_data(as_text=True)
    assert state(svc, booked) == "booked" and booking(svc).status == "booked"


def test_before_the_interview_starts_the_signed_mail_link_refuses_too(booked, client, svc):
    link = outcome_links(svc, booking(svc))["no_show"].removeprefix("http://localhost")
    page = client.get(link)
    assert page.status_code == 200 and "始まるまでは" in page.get_data(as_text=True)
    assert "outcome-confirm" not in page.get_data(as_text=True)
    with client.session_transaction() as session:
        token = session["csrf"]
    res = client.post(link, data={"csrf": token, "confirm": "yes"})
    assert res.status_code == 409 and "始まるまでは" in res.get_data(as_text=True)
    assert state(svc, booked) == "booked"
    assert said(booked) == ""


def test_recording_an_outcome_asks_to_confirm_first(booked, recruiter, svc, clock):
    clock.now = START + timedelta(minutes=35)
    page = recruiter.get("/recruiter/").get_data(as_text=True)
    assert f"/recruiter/applicants/{booked.id}/outcome/attended" in page
    ask = recruiter.get(f"/recruiter/applicants/{booked.id}/outcome/attended").get_data(as_text=True)
    assert "記録しますか" in ask and 'name="confirm" value="yes"' in ask
    res = record(recruiter, booked, "attended")  # a POST without the confirm step only asks
    assert res.status_code == 200 and "記録しますか" in res.get_data(as_text=True)
    assert state(svc, booked) == "booked"
    done = record(recruiter, booked, "attended", confirm="yes").get_data(as_text=True)
    assert "記録しました" in done and "取り消す" in done
    assert state(svc, booked) == "attended" and booking(svc).status == "attended"


def test_undo_within_the_window_restores_the_booking_and_the_candidate_hears_nothing(booked, recruiter, svc, clock):
    clock.now = START + timedelta(minutes=40)
    record(recruiter, booked, "no_show", confirm="yes")
    assert state(svc, booked) == "no_show"
    clock.advance(minutes=3)
    assert "取り消す" in recruiter.get("/recruiter/").get_data(as_text=True)
    assert said(booked) == ""  # held while the recruiter may still take it back
    res = recruiter.post(f"/recruiter/applicants/{booked.id}/undo", data={"csrf": csrf(recruiter)})
    assert res.status_code == 303
    b = booking(svc)
    assert state(svc, booked) == "booked" and b.status == "booked"
    assert b.marked_at is None and b.status_before_mark is None and b.active_slot is not None
    clock.advance(minutes=30)
    assert said(booked) == ""
    with Session(svc.engine) as s:
        held = s.exec(select(Outbox).where(Outbox.kind == "no_show")).one()
    assert held.status == "cancelled"


def test_undo_brings_a_confirmed_booking_back_as_confirmed(booked, recruiter, svc, clock):
    booked.client.post(f"/chat/{booked.token}/say", json={"text": "はい"})
    handle(svc, booked.id, Marked("attended"))  # before the start: refused by the conversation itself
    assert state(svc, booked) in ("booked", "confirmed")
    with Session(svc.engine) as s:
        b = s.get(Booking, booking(svc).id)
        b.status = "confirmed"
        s.get(Applicant, booked.id).state = "confirmed"
        s.commit()
    clock.now = START + timedelta(minutes=31)
    record(recruiter, booked, "attended", confirm="yes")
    recruiter.post(f"/recruiter/applicants/{booked.id}/undo", data={"csrf": csrf(recruiter)})
    assert state(svc, booked) == "confirmed" and booking(svc).status == "confirmed"


def test_after_the_undo_window_the_candidates_message_goes_out_once(booked, recruiter, svc, clock):
    clock.now = START + timedelta(minutes=45)
    record(recruiter, booked, "attended", confirm="yes")
    clock.advance(minutes=svc.settings.undo_minutes - 1)
    assert said(booked) == ""
    clock.advance(minutes=1)
    first = said(booked)
    assert "ありがとうございました" in first
    clock.advance(minutes=10)
    assert said(booked) == ""  # once, never again
    res = recruiter.post(f"/recruiter/applicants/{booked.id}/undo", data={"csrf": csrf(recruiter)})
    assert res.status_code == 409 and "5分以内" in res.get_data(as_text=True)
    assert state(svc, booked) == "attended"


def test_the_mail_link_offers_undo_after_recording(booked, client, svc, clock):
    clock.now = START + timedelta(minutes=31)
    link = outcome_links(svc, booking(svc))["no_show"].removeprefix("http://localhost")
    token = client.get(link).get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
    done = client.post(link, data={"csrf": token, "confirm": "yes"}).get_data(as_text=True)
    assert "記録しました" in done and 'name="undo" value="yes"' in done
    assert 'name="undo" value="yes"' in client.get(link).get_data(as_text=True)  # opened again: undo is still there
    undone = client.post(link, data={"csrf": token, "undo": "yes"}).get_data(as_text=True)
    assert "取り消しました" in undone
    assert state(svc, booked) == "booked"
    clock.advance(minutes=20)
    assert said(booked) == ""


def test_a_booked_candidate_waiting_for_a_person_can_still_be_marked_from_the_page(booked, recruiter, svc, clock):
    booked.say("駐車場はありますか？")  # a question for a person: the hand-off is open, the interview stays
    booked.replies()
    assert state(svc, booked) == "needs_human"
    page = recruiter.get("/recruiter/").get_data(as_text=True)
    assert "面接開始後に記録できます" in page and "ボットに戻す" in page  # before the start: disabled, with the reason
    clock.now = START + timedelta(minutes=35)
    page = recruiter.get("/recruiter/").get_data(as_text=True)
    assert f"/recruiter/applicants/{booked.id}/outcome/attended" in page and "ボットに戻す" in page
    assert "記録しますか" in recruiter.get(f"/recruiter/applicants/{booked.id}/outcome/attended").get_data(as_text=True)
    assert "記録しました" in record(recruiter, booked, "attended", confirm="yes").get_data(as_text=True)
    assert state(svc, booked) == "attended"


def test_the_outcome_page_has_the_recruiter_pages_margins(booked, recruiter, svc):
    page = recruiter.get(f"/recruiter/applicants/{booked.id}/outcome/attended").get_data(as_text=True)
    assert '<main class="wide">' in page  # not flush against a phone's edges


# --- the pure rules behind it ---
NOW = datetime(2026, 12, 1, 5, 0, tzinfo=timezone.utc)
SLOT = Slot(NOW, NOW + timedelta(minutes=30), "sato")


def ctx(state, **kw) -> Context:
    return Context(state, kw.pop("now", NOW), fresh=(SLOT,), has_booking=state in (State.BOOKED, State.CONFIRMED),
                   **kw)


@pytest.mark.parametrize("outcome", ["attended", "no_show"])
def test_an_outcome_before_the_interview_starts_changes_nothing(outcome):
    d = decide(ctx(State.BOOKED, interview_start=NOW + timedelta(minutes=1)), Marked(outcome))
    assert d.state is State.BOOKED and d.actions == ()


@pytest.mark.parametrize("outcome", ["attended", "no_show"])
def test_the_candidates_message_about_an_outcome_is_held_for_the_undo_window(outcome):
    d = decide(ctx(State.CONFIRMED, interview_start=NOW), Marked(outcome))
    sends = [a for a in d.actions if isinstance(a, Send)]
    assert sends and all(a.held for a in sends)


@pytest.mark.parametrize("before, back", [("booked", State.BOOKED), ("confirmed", State.CONFIRMED)])
@pytest.mark.parametrize("marked", [State.ATTENDED, State.NO_SHOW])
def test_unmark_within_the_window_restores_the_state_before(marked, before, back):
    d = decide(ctx(marked, before_mark=before), Unmark())
    assert d.state is back and RestoreBooking() in d.actions and not any(isinstance(a, Send) for a in d.actions)


@pytest.mark.parametrize("state", [State.ATTENDED, State.NO_SHOW, State.BOOKED, State.GREETED])
def test_unmark_after_the_window_changes_nothing(state):
    d = decide(ctx(state), Unmark())
    assert d.state is state and d.actions == ()
