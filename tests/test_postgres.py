"""The same product on PostgreSQL: the whole flow, a booking race, and workers claiming in parallel."""
import threading

import pytest
from sqlmodel import Session, select

from bot import create_app
from bot.db import session_scope
from bot.models import Applicant, Booking, Outbox
from bot.outbox import claim
from tests.conftest import Chat, FakeClock, START, make_services

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


def test_many_candidates_racing_for_one_slot_book_it_exactly_once(pg_svc):
    client = create_app(services=pg_svc).test_client()
    chats = [Chat(client, pg_svc) for _ in range(6)]
    for i, c in enumerate(chats):
        c.apply(name=f"候補者 {i}", email=f"c{i}@example.com", external_id=f"race-{i}")
    key = next(b["data"] for b in chats[0].replies()[0]["buttons"] if b["data"].startswith("slot:"))
    barrier = threading.Barrier(len(chats))

    def choose(c):
        barrier.wait()
        create_app(services=pg_svc).test_client().post(f"/chat/{c.token}/say", json={"postback": key})

    threads = [threading.Thread(target=choose, args=(c,)) for c in chats]
    [t.start() for t in threads]
    [t.join() for t in threads]
    with Session(pg_svc.engine) as s:
        live = s.exec(select(Booking).where(Booking.active_slot == key[5:])).all()
        states = sorted(a.state for a in s.exec(select(Applicant)).all())
    assert len(live) == 1
    assert states.count("booked") == 1 and states.count("greeted") == len(chats) - 1


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
