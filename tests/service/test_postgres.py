"""The same product on PostgreSQL: the whole flow, a booking race, and workers claiming in parallel."""
import threading

import pytest
from sqlmodel import Session, select

from bot import create_app
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking, Outbox
from bot.service.delivery import claim
from tests.conftest import START, Chat, FakeClock, make_services

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_svc(pg_url):
    svc = make_services(pg_url, FakeClock(START))
    yield svc
    svc.engine.dispose()


def test_application_to_booking_on_postgresql(pg_svc):
    client = create_app(services=pg_svc).test_client()
    chat = Chat(client, pg_svc)
    chat.apply(external_id="pg-1")
    greeting = chat.replies()[0]
    assert "山田 花子さん" in greeting["text"]
    chat.say("1")
    assert "確定しました" in chat.replies()[-1]["text"]
    with Session(pg_svc.engine) as s:
        booking = s.exec(select(Booking)).one()
    assert booking.start_at.tzinfo is not None and booking.status == "booked"


def race(pg_svc, chats, key):
    """Every candidate taps `key` at once, each in its own thread and request; the answers' status codes."""
    barrier, codes = threading.Barrier(len(chats)), []
    # The apps are built here, one after another: CPython 3.11.7's compile() (werkzeug builds each URL
    # rule's code with it) can fail with "AST constructor recursion depth mismatch" when threads run it at once.
    clients = [create_app(services=pg_svc).test_client() for _ in chats]

    def choose(c, client):
        barrier.wait()
        res = client.post(f"/chat/{c.token}/say", json={"postback": key})
        codes.append(res.status_code)

    threads = [threading.Thread(target=choose, args=(c, client)) for c, client in zip(chats, clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return codes


def test_many_candidates_racing_for_one_interviewers_slot_book_it_exactly_once(pg_svc):
    client = create_app(services=pg_svc).test_client()
    chats = [Chat(client, pg_svc) for _ in range(6)]
    for i, c in enumerate(chats):
        c.apply(name=f"候補者 {i}", email=f"c{i}@example.com", phone=f"090-1000-{i:04d}", external_id=f"race-{i}",
                job="store-manager")
    key = next(b["data"] for b in chats[0].replies()[0]["buttons"] if b["data"].startswith("slot:"))
    assert race(pg_svc, chats, key) == [202] * len(chats)
    with Session(pg_svc.engine) as s:
        live = s.exec(select(Booking).where(Booking.active_slot == "sato@" + key[5:])).all()
        states = sorted(a.state for a in s.exec(select(Applicant)).all())
    assert len(live) == 1
    assert states.count("booked") == 1 and states.count("greeted") == len(chats) - 1


def test_eight_candidates_racing_for_one_pooled_time_get_one_interviewer_each_and_the_rest_other_times(pg_svc):
    client = create_app(services=pg_svc).test_client()
    chats = [Chat(client, pg_svc) for _ in range(8)]
    for i, c in enumerate(chats):
        c.apply(name=f"候補者 {i}", email=f"p{i}@example.com", phone=f"090-1000-{i:04d}",
                external_id=f"pool-{i}")  # the bakery: sato, tanaka
    offers = [c.replies()[0] for c in chats]
    key = next(b["data"] for b in offers[0]["buttons"] if b["data"].startswith("slot:"))
    assert all(key in [b["data"] for b in o["buttons"]] for o in offers)  # one time, offered to all for the pool
    assert race(pg_svc, chats, key) == [202] * len(chats)
    with Session(pg_svc.engine) as s:
        at_that_time = s.exec(select(Booking).where(Booking.active_slot.like("%@" + key[5:]))).all()
        booked = {b.applicant_id for b in s.exec(select(Booking).where(Booking.active_slot.is_not(None)))}
    assert sorted(b.interviewer for b in at_that_time) == ["sato", "tanaka"]
    assert len(booked) == 2
    losers = [c for c in chats if c.id not in booked]
    assert len(losers) == 6
    for c in losers:
        assert c.state() == "greeted"
        apology = c.replies()[-1]
        assert "ほかの方の予約が入ってしまいました" in apology["text"]
        again = [b["data"] for b in apology["buttons"] if b["data"].startswith("slot:")]
        assert again and key not in again  # other times, never the one just lost


def test_parallel_workers_claim_disjoint_rows_with_skip_locked(pg_svc):
    with session_scope(pg_svc.engine) as s:
        a = Applicant(name="x", channel="sms", job_id="bakery-staff", created_at=START, updated_at=START)
        s.add(a)
        s.flush()
        s.add_all([Outbox(applicant_id=a.id, channel="sandbox", kind="reminder", payload={}, due_at=START,
                          created_at=START)
                   for _ in range(200)])
    got: dict[str, list[int]] = {}

    def work(name):
        mine = got.setdefault(name, [])
        while batch := claim(pg_svc, name, limit=7):
            mine.extend(batch)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    every = [i for ids in got.values() for i in ids]
    assert len(every) == 200 and len(set(every)) == 200
