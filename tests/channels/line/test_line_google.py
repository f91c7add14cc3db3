"""LINE with Google Calendar and Meet: the confirmation answering the candidate's tap carries the Meet link."""
import pytest
from sqlmodel import Session, select

from bot.core.vocab import Kind, OutboxStatus
from bot.db.models import Outbox
from tests.calendars.google_helpers import google_env, google_settings
from tests.channels.line.drivers import LINE_SECRET, LineUser
from tests.conftest import AUTH, application, make_services


@pytest.fixture
def google():
    from tests.fakes.google_api import FakeGoogleServer

    with FakeGoogleServer() as fake:
        yield fake


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, db_url):
    return db_url if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def line_google_user(database, clock, fake_line, google):
    from bot import create_app
    from bot.channels.line.adapter import LineChannel
    from tests.calendars.google_helpers import SATO, TANAKA

    google.add_calendar(SATO)
    google.add_calendar(TANAKA)
    env = {"LINE_CHANNEL_SECRET": LINE_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": fake_line.token,
           "LINE_API_BASE_URL": fake_line.origin, **google_env(google)}
    svc = make_services(database, clock, env=env, settings=google_settings())
    svc.calendar_for.sleep = lambda seconds: None
    svc.channels["line"] = LineChannel(svc.config, clock=clock)
    yield LineUser(create_app({"TESTING": True}, services=svc).test_client(), svc, fake_line)
    svc.engine.dispose()


def _uris(card: dict) -> list[str]:
    return [b["action"].get("uri") for b in card["contents"]["footer"]["contents"]]


@pytest.mark.parametrize("meet_pending", [False, True])
def test_a_tap_booking_an_online_interview_gets_one_reply_with_the_meet_link(line_google_user, fake_line, google,
                                                                             meet_pending):
    user = line_google_user
    google.meet_pending = meet_pending  # Google may make the link only a moment after the insert
    res = user.client.post("/api/applications", headers=AUTH,
                           json=application(channel="line", line_user_id=user.user_id))
    assert res.status_code == 201
    [greeting] = user.inbox()
    slot = next(a for a in greeting[-1]["quickReply"]["items"] if a["action"]["type"] == "postback")
    pushes = len(fake_line.calls("/v2/bot/message/push"))

    user.tap(slot["action"]["data"])
    [[card]] = user.inbox()  # one batch of one message: the confirmation, with nothing after it
    [event] = google.live()
    link = event["hangoutLink"]
    assert link.startswith("https://meet.google.com/")
    assert card["type"] == "flex" and link in card["altText"]
    assert _uris(card)[0] == link  # the card's join button opens this interview's own Meet
    assert len(fake_line.calls("/v2/bot/message/reply")) == 1
    assert len(fake_line.calls("/v2/bot/message/push")) == pushes
    with Session(user.svc.engine) as s:
        sent = s.exec(select(Outbox).where(Outbox.channel == "line", Outbox.status == OutboxStatus.SENT,
                                           Outbox.kind != Kind.GREETING)).all()
        links = s.exec(select(Outbox).where(Outbox.kind == Kind.MEETING_LINK)).all()
    assert [(r.kind, r.delivery_mode) for r in sent] == [(Kind.BOOKED, "reply")] and not links
    assert link in sent[0].payload["text"]  # what was sent is what the row says


def test_a_confirmation_taken_over_while_google_was_written_is_left_to_its_new_holder(line_google_user, fake_line,
                                                                                       google):
    from sqlalchemy import update

    user = line_google_user
    res = user.client.post("/api/applications", headers=AUTH,
                           json=application(channel="line", line_user_id=user.user_id))
    assert res.status_code == 201
    [greeting] = user.inbox()
    slot = next(a for a in greeting[-1]["quickReply"]["items"] if a["action"]["type"] == "postback")

    def take_over(method: str, path: str) -> None:  # the write took longer than the lease: a worker took the row
        if method == "POST" and path.endswith("/events"):
            with Session(user.svc.engine) as s:
                s.exec(update(Outbox).where(Outbox.kind == Kind.BOOKED).values(lease_owner="another-worker"))
                s.commit()

    google.observer = take_over
    user.tap(slot["action"]["data"])
    from bot.service import inbox

    assert inbox.run_once(user.svc, "test-worker") == 1
    google.observer = None
    assert not fake_line.calls("/v2/bot/message/reply")  # not ours to send any more
    with Session(user.svc.engine) as s:
        [row] = s.exec(select(Outbox).where(Outbox.kind == Kind.BOOKED)).all()
        [link] = s.exec(select(Outbox).where(Outbox.kind == Kind.MEETING_LINK)).all()
    assert (row.status, row.lease_owner) == (OutboxStatus.SENDING, "another-worker")
    # Its holder may have read it already: the link follows on its own rather than changing it underneath.
    assert link.status == OutboxStatus.PENDING and google.live()[0]["hangoutLink"] in link.payload["text"]


def test_a_line_batch_reads_free_busy_before_it_takes_its_locks(line_google_user, database, google):
    from tests.calendars.google_helpers import SATO, TANAKA
    from tests.calendars.test_google_writes import lock_probe

    user = line_google_user
    res = user.client.post("/api/applications", headers=AUTH,
                           json=application(channel="line", line_user_id=user.user_id))
    user.inbox()
    held, close = lock_probe(database, res.get_json()["id"])
    seen = []

    def observe(method: str, path: str) -> None:
        if path.endswith("/freeBusy") or (method == "GET" and path.endswith("/events")):  # a free/busy read
            seen.append((path.rsplit("/", 1)[-1], held()))

    google.observer = observe
    for cal in (SATO, TANAKA):
        user.svc.calendar_for.hub.forget(cal)  # a minute later: the offer's answer is no longer current
    user.tap("date", params={"date": "2026-12-01"})  # "show me that day's times"
    [[on_day]] = user.inbox()
    looking = len(seen)
    pick = next(a["action"] for a in on_day["quickReply"]["items"] if a["action"]["type"] == "postback")
    user.tap(pick["data"])  # the booking, re-checked against Google first
    [[card]] = user.inbox()
    google.observer = None
    close()
    assert card["type"] == "flex" and looking and "freeBusy" in [where for where, _ in seen[looking:]]
    assert not any(locked for _, locked in seen)
