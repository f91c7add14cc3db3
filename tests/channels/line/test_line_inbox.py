"""Webhook events are kept in the inbox before the 200, then run exactly once and in order per user: by the
web process's own InboxRunner right after the answer to LINE, or by the worker when no runner holds them."""
import re
import time

import pytest
from sqlmodel import Session, select

from bot.channels.line.inbound import event_of
from bot.db.models import Applicant, Booking, InboxItem, MessageLog, Outbox
from bot.service.delivery import LEASE
from bot.service.inbox import Handler, claim, process, run
from calendars.local import LocalEvent
from tests.conftest import AUTH, application


def linked(line_user, job="bakery-staff"):
    res = line_user.client.post("/api/applications", headers=AUTH,
                                json=application(channel="line", line_user_id=line_user.user_id, job=job,
                                                 phone=None, email=f"{line_user.user_id}@example.com"))
    line_user.inbox()
    return res.get_json()["id"]


def inbox_rows(svc):
    with Session(svc.engine) as s:
        return s.exec(select(InboxItem).where(InboxItem.channel == "line").order_by(InboxItem.id)).all()


def rows_of_kind(svc, kind):
    with Session(svc.engine) as s:
        return s.exec(select(Outbox).where(Outbox.kind == kind)).all()


def wait_for(check, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def failing_turns(svc, users=None, half_way=False):
    """Make the LINE events of `users` (every user when None) fail: before their turn, or half-way, after it
    ran; return the real handler, to hand back."""
    real = svc.inbox_handlers["line"]

    def run_event(session, svc, payload):
        if users is None or event_of(payload).user_id in users:
            if half_way:
                real.run(session, svc, payload)
            raise RuntimeError("the calendar fell over")
        real.run(session, svc, payload)

    svc.inbox_handlers["line"] = Handler(run_event, real.prefetch)
    return real


class RecordingCalendar:
    """The real calendar, keeping each booking written to it."""

    def __init__(self, calendar, writes):
        self.calendar, self.writes = calendar, writes

    def book(self, request):
        self.writes.append(request)
        return self.calendar.book(request)

    def __getattr__(self, name):
        return getattr(self.calendar, name)


@pytest.fixture
def runner(line_svc):
    from bot.service.inbox_runner import InboxRunner

    line_svc.process.inbox_runner = InboxRunner(line_svc)
    yield line_svc.process.inbox_runner
    line_svc.process.inbox_runner = None


def test_without_a_runner_the_webhook_only_keeps_the_event_for_the_worker(line_user, line_svc, fake_line):
    applicant_id = linked(line_user)
    calls = len(fake_line.requests)
    line_user.say("ヘルプ")
    [row] = inbox_rows(line_svc)
    assert row.status == "pending" and row.payload["event"]["text"] == "ヘルプ"
    assert len(fake_line.requests) == calls  # nothing sent yet: the worker has not run
    [[answer]] = line_user.inbox()
    assert "次のようにお送りください" in answer["text"] and inbox_rows(line_svc)[0].status == "done"
    with Session(line_svc.engine) as s:
        assert s.get(Applicant, applicant_id).last_inbound_at is not None


def test_the_web_process_runner_answers_right_after_the_200_with_the_free_reply(line_user, line_svc, fake_line,
                                                                                 runner):
    linked(line_user)
    line_user.say("ヘルプ")
    wait_for(lambda: len(fake_line.seen_by(line_user.user_id)) == 2)  # greeting, then the answer
    [[answer]] = fake_line.seen_by(line_user.user_id)[1:]
    assert "次のようにお送りください" in answer["text"]
    wait_for(lambda: rows_of_kind(line_svc, "help") and rows_of_kind(line_svc, "help")[0].status == "sent")
    [event_row], [help_row] = inbox_rows(line_svc), rows_of_kind(line_svc, "help")
    assert event_row.status == "done" and event_row.lease_owner is None
    assert help_row.delivery_mode == "reply" and help_row.attempts == 1
    assert fake_line.calls("/v2/bot/message/reply")  # no push spent on an answer


def test_a_runner_keeps_one_users_order_behind_an_event_another_process_holds(line_user, line_svc, fake_line,
                                                                               runner):
    linked(line_user)
    line_svc.process.inbox_runner = None
    line_user.say("他の日")                            # queued for the worker ...
    [first] = claim(line_svc, "worker-a", limit=1)     # ... which takes it and is slow
    line_svc.process.inbox_runner = runner
    line_user.say("ヘルプ")                            # this process's runner has the next one
    time.sleep(0.2)
    assert [r.status for r in inbox_rows(line_svc)] == ["processing", "processing"]
    assert len(fake_line.seen_by(line_user.user_id)) == 1  # only the greeting: the help waits its turn
    assert run(line_svc, [first], "worker-a") == {first: "done"}
    wait_for(lambda: len(fake_line.seen_by(line_user.user_id)) == 3)
    days, help_ = fake_line.seen_by(line_user.user_id)[1:]
    assert "ご希望の日" in days[0]["text"] and "次のようにお送りください" in help_[0]["text"]


def test_a_row_taken_over_after_its_lease_ran_out_runs_once(line_user, line_svc):
    linked(line_user)
    line_user.say("ヘルプ")
    [row] = inbox_rows(line_svc)
    assert claim(line_svc, "worker-a") == [row.id]       # A takes it, then stalls past its lease
    line_svc.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert claim(line_svc, "worker-b") == [row.id]       # B takes it over and runs it
    statuses, answers = process(line_svc, [row.id], "worker-b")
    assert statuses == {row.id: "done"} and len(answers) == 1
    assert process(line_svc, [row.id], "worker-a") == ({row.id: "lost"}, [])  # A wakes up: too late, no effect
    assert process(line_svc, [row.id], "worker-b") == ({row.id: "lost"}, [])  # B running it twice changes nothing
    with Session(line_svc.engine) as s:
        assert len(s.exec(select(MessageLog).where(MessageLog.direction == "in")).all()) == 1
    assert len(rows_of_kind(line_svc, "help")) == 1


def test_a_users_later_event_waits_for_the_earlier_one_held_by_another_worker(line_user, line_svc, runner):
    linked(line_user)
    line_svc.process.inbox_runner = None
    line_user.say("他の日")
    line_user.say("ヘルプ")
    first, second = inbox_rows(line_svc)
    assert claim(line_svc, "worker-a", limit=1) == [first.id]   # worker A holds the first event
    assert claim(line_svc, "worker-b", limit=1) == []           # worker B must not overtake it: not even take it
    runner._pid = __import__("os").getpid()  # as if its thread were running but busy: nothing is taken
    line_svc.process.inbox_runner = runner
    line_user.say("日程を変更")                                  # a web process holds the third from its arrival
    third = inbox_rows(line_svc)[2]
    assert run(line_svc, [third.id], runner.owner) == {third.id: "pending"}
    assert inbox_rows(line_svc)[2].attempts == 0  # handed back as if never taken, due again in a second
    line_svc.process.inbox_runner = None
    assert run(line_svc, [first.id], "worker-a") == {first.id: "done"}
    line_svc.clock.advance(minutes=1)
    batches = line_user.inbox()
    assert "ご希望の日" in batches[0][0]["text"] and "次のようにお送りください" in batches[1][0]["text"]


def test_a_turn_that_fails_leaves_no_trace_and_is_retried(line_user, line_svc):
    linked(line_user)
    line_user.say("ヘルプ")
    real = failing_turns(line_svc)
    assert line_user.inbox() == []
    [row] = inbox_rows(line_svc)
    assert row.status == "pending" and "calendar fell over" in row.last_error and row.due_at > line_svc.clock()
    with Session(line_svc.engine) as s:
        assert s.exec(select(MessageLog).where(MessageLog.direction == "in")).all() == []
    line_svc.inbox_handlers["line"] = real
    line_svc.clock.advance(minutes=1)
    [[answer]] = line_user.inbox()
    assert "次のようにお送りください" in answer["text"]


def test_one_batch_runs_several_users_turns_and_a_failing_turn_is_undone_alone(line_client, line_svc, fake_line):
    from bot.service.delivery import send_all
    from tests.channels.line.drivers import LineUser

    users = [LineUser(line_client, line_svc, fake_line) for _ in range(3)]
    for user in users:
        linked(user)
    for user in users:
        user.say("ヘルプ")
    ids = claim(line_svc, "runner")
    assert len(ids) == 3
    failing_turns(line_svc, {users[1].user_id}, half_way=True)  # the second turn runs, then fails
    statuses, answers = process(line_svc, ids, "runner")
    assert [statuses[i] for i in ids] == ["done", "pending", "done"]
    assert send_all(line_svc, answers, "runner") == ["sent", "sent"]
    got = [len(fake_line.seen_by(user.user_id)) for user in users]
    assert got == [2, 1, 2]  # greeting + answer; the second only has the greeting so far
    with Session(line_svc.engine) as s:
        said = s.exec(select(MessageLog).where(MessageLog.direction == "in")).all()
        assert len(said) == 2 and len(s.exec(select(Outbox).where(Outbox.kind == "help")).all()) == 2


def test_a_stopping_web_process_hands_its_unstarted_events_to_the_worker_at_once(line_user, line_svc, runner):
    linked(line_user)
    runner._pid = __import__("os").getpid()  # as if its thread were running but busy: nothing is taken
    line_user.say("ヘルプ")
    [row] = inbox_rows(line_svc)
    assert row.status == "processing" and row.lease_owner == runner.owner
    assert runner.hand_back() == 1
    [row] = inbox_rows(line_svc)
    assert row.status == "pending" and row.lease_owner is None and row.attempts == 0
    [[answer]] = line_user.inbox()  # the worker runs it straight away, no lease to wait out
    assert "次のようにお送りください" in answer["text"]


def test_a_batch_books_once_and_its_later_turns_no_longer_offer_the_booked_time(line_client, line_svc, fake_line):
    """Turns of one batch share free times until one of them books: the next candidate asking for the
    same day is not offered the booked time. A turn failing after a calendar write is undone alone,
    so the booking's calendar write is neither undone nor made twice."""
    from bot.service.delivery import send_all
    from tests.channels.line.drivers import LineUser

    # Batches run per LINE user in order: the ids fix who goes first.
    first, booker, third, failing = (LineUser(line_client, line_svc, fake_line, user_id="U" + str(n) * 32)
                                     for n in (1, 2, 3, 4))
    for user in (first, booker, third, failing):
        linked(user, job="store-manager")  # one interviewer: once booked, nobody else has that time
    day = {"date": "2026-12-04"}

    def offered(batch):
        actions = [item["action"] for item in batch[0].get("quickReply", {}).get("items", [])]
        return [a["data"] for a in actions if a["type"] == "postback"]

    booker.tap("date", params=day)
    [[on_day]] = booker.inbox()
    slot = offered([on_day])[0]
    writes, calendar_for = [], line_svc.calendar_for
    line_svc.calendar_for = lambda *args, **kwargs: RecordingCalendar(calendar_for(*args, **kwargs), writes)
    failing_turns(line_svc, {failing.user_id})
    first.tap("date", params=day)   # works out that day's free times (the booked one among them)
    booker.tap(slot)                # books it
    third.tap("date", params=day)   # the same day, after the booking
    failing.say("ヘルプ")
    ids = claim(line_svc, "runner")
    statuses, answers = process(line_svc, ids, "runner")
    assert sorted(statuses.values()) == ["done", "done", "done", "pending"]
    assert len(writes) == 1  # not written again by a second run of the batch
    send_all(line_svc, answers, "runner")
    [first_offer], [third_offer] = fake_line.seen_by(first.user_id)[-1:], fake_line.seen_by(third.user_id)[-1:]
    assert slot in offered(first_offer) and slot not in offered(third_offer) and offered(third_offer)
    with Session(line_svc.engine) as s:
        [booking] = s.exec(select(Booking)).all()
        assert booking.status == "booked" and booking.active_slot == "sato@" + slot.removeprefix("slot:")
        # The interviewer's event carries the conversation, the tap that booked included (the batch
        # writes what candidates said at its end, and before anything reads it).
        event = s.exec(select(LocalEvent)).one()
        assert event.description.count("候補者: [ボタン] 12月4日(金)") == 2  # the day, then the time on it
        said = s.exec(select(MessageLog).where(MessageLog.direction == "in")).all()
        assert len(said) == 4  # one before the batch, three in it; the failed turn's is undone


def test_the_recruiter_page_counts_events_waiting_and_lists_those_given_up_on(line_user, line_svc, line_client):
    from bot.service.delivery_record import MAX_ATTEMPTS
    from tests.recruiters import sign_in

    def waiting():
        page = line_client.get("/recruiter").get_data(as_text=True)
        return int(re.search(r"送信待ちのメッセージ: (\d+)", page).group(1)), page

    linked(line_user)
    sign_in(line_client)
    before, page = waiting()
    assert "Inbound events not handled" not in page
    line_user.say("ヘルプ")
    assert waiting()[0] == before + 1  # its answer is still to come
    failing_turns(line_svc)
    line_user.inbox()
    tried = waiting()[0]  # tried once, to be tried again
    for _ in range(MAX_ATTEMPTS - 1):
        line_svc.clock.advance(hours=2)  # past any backoff
        line_user.inbox()
    [row] = inbox_rows(line_svc)
    sign_in(line_client)  # fourteen hours on, the first session has lapsed
    after, page = waiting()
    assert row.status == "failed" and after == tried - 1
    assert page.count(f"#{row.id}（LINE、{MAX_ATTEMPTS} 回）: RuntimeError: the calendar fell over") == 1
