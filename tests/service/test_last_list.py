"""A number or a tap always means the list the candidate was shown last: a stateful property test.

Hypothesis plays a candidate who types numbers, asks for other days, names days, taps buttons of any
earlier message, changes and cancels, while rivals take times and the clock runs. It goes through the
real service (the sandbox chat's parsing, decide, the turn's transaction, the outbox) on SQLite, and
reads what the candidate saw from the outbox rows, as the sandbox chat shows them.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlmodel import Session, SQLModel, select

from bot import create_app
from bot.core.events import Applied
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking, Outbox
from bot.service.turn import Turn
from calendars.local import LocalCalendar
from tests.conftest import START, FakeClock, make_services

WORDS = ["他の日", "0", "変更", "予約", "はい", "キャンセル", "ヘルプ", "配信停止", "配信再開", "えっと、未定です"]


def _at(key: str) -> str:
    """The time a slot button names, old ('sato@20261201T0100Z') or new ('20261201T0100Z')."""
    return key.rpartition("@")[2]


def _time_key(moment: datetime) -> str:
    return moment.astimezone(START.tzinfo).strftime("%Y%m%dT%H%MZ")


def _local_day(time_key: str, tz) -> date:
    return datetime.strptime(time_key, "%Y%m%dT%H%MZ").replace(tzinfo=START.tzinfo).astimezone(tz).date()


def the_machine(svc, clock: FakeClock):
    tz = svc.settings.tz
    client = create_app({"TESTING": True}, services=svc).test_client()

    class LastListShown(RuleBasedStateMachine):
        """One candidate of the pooled bakery job, from the greeting on."""

        @initialize(locale=st.sampled_from(["ja", "en"]))
        def apply(self, locale):
            clock.now = START
            with session_scope(svc.engine) as s:
                a = Applicant(name="山田 花子", channel="sandbox", job_id="bakery-staff", locale=locale,
                              created_at=START, updated_at=START)
                s.add(a)
                s.flush()
                self.id, self.token = a.id, a.token
                Turn(svc, s, a).run(Applied())
            self.seen_rows, self.seen_booking = set(), 0
            self.last: tuple[str, list[str]] = ("none", [])  # ("slots", time keys) or ("dates", ISO days)
            self.slot_buttons: list[str] = []  # every slot button of every message so far
            self.day_buttons: list[str] = []
            self.read()

        def teardown(self):
            with session_scope(svc.engine) as s:
                for table in reversed(SQLModel.metadata.sorted_tables):
                    s.execute(table.delete())
            svc.process.free_times.clear()

        # --- what the candidate saw ------------------------------------------------------------
        def read(self) -> list[dict]:
            """The messages that reached the candidate since the last look; the list shown last."""
            with Session(svc.engine) as s:
                rows = s.exec(select(Outbox).where(Outbox.applicant_id == self.id, Outbox.channel != "recruiter",
                                                   Outbox.due_at <= clock.now)
                              .order_by(Outbox.due_at, Outbox.id)).all()
            new = []
            for row in rows:
                if row.id in self.seen_rows:
                    continue
                self.seen_rows.add(row.id)
                if row.status == "cancelled":
                    continue
                buttons = [b["data"] for b in row.payload.get("buttons", [])]
                slots = [b[5:] for b in buttons if b.startswith("slot:")]
                days = [b[5:] for b in buttons if b.startswith("date:")]
                if slots:
                    self.last = ("slots", [_at(k) for k in slots])
                elif days:
                    self.last = ("dates", days)
                self.slot_buttons += [b for b in buttons if b.startswith("slot:")]
                self.day_buttons += [b for b in buttons if b.startswith("date:")]
                new.append({"kind": row.kind, "slots": [_at(k) for k in slots], "days": days})
            return new

        def new_bookings(self) -> list[Booking]:
            with Session(svc.engine) as s:
                found = s.exec(select(Booking).where(Booking.applicant_id == self.id, Booking.id > self.seen_booking)
                               .order_by(Booking.id)).all()
            if found:
                self.seen_booking = found[-1].id
            return found

        def live_time(self) -> str | None:
            with Session(svc.engine) as s:
                b = s.exec(select(Booking).where(Booking.applicant_id == self.id,
                                                 Booking.status.in_(("booked", "confirmed")))).first()
            return _time_key(b.start_at) if b else None

        # --- one turn, and what must hold after it --------------------------------------------
        def turn(self, text: str | None = None, tap: str | None = None) -> None:
            """Say `text` or tap the button `tap` ('slot:…', 'date:…'), as the sandbox chat does."""
            before = self.last
            # Each turn looks at the calendar afresh: the run does not depend on real time.
            svc.process.free_times.clear()
            res = client.post(f"/chat/{self.token}/say", json={"text": text} if text else {"postback": tap})
            assert res.status_code == 202, res.get_json()
            messages = self.read()
            number = int(text) if text and text.isdigit() else None
            for booking in self.new_bookings():
                # Every booking is a time of the list of times shown last, with one of the job's pool.
                assert before[0] == "slots", (text, tap, before)
                assert _time_key(booking.start_at) in before[1], (text, tap, before)
                assert booking.interviewer in ("sato", "tanaka")
                if number is not None:
                    assert _time_key(booking.start_at) == before[1][number - 1]
                if tap:
                    assert _time_key(booking.start_at) == _at(tap[5:])
            if before[0] == "dates" and number is not None and 1 <= number <= len(before[1]):
                day = date.fromisoformat(before[1][number - 1])  # "2" after the date menu is its 2nd day
                for m in messages:
                    if m["kind"] == "offer_on_date":
                        assert {_local_day(k, tz) for k in m["slots"]} == {day}
            lost = self.chosen_time(number, tap, before)
            live = self.live_time()
            for m in messages:
                if m["kind"] == "slot_taken" and lost:
                    assert lost not in m["slots"]  # never the time just lost
                if live:
                    assert live not in m["slots"]  # never the time already booked

        @staticmethod
        def chosen_time(number, tap, before) -> str | None:
            if before[0] != "slots":
                return None
            if tap and tap.startswith("slot:"):
                return _at(tap[5:])
            return before[1][number - 1] if number and 1 <= number <= len(before[1]) else None

        @invariant()
        def never_both_lists(self):
            with Session(svc.engine) as s:
                a = s.get(Applicant, self.id)
                assert not (a.offered and a.offered_dates)

        # --- what the candidate (and the world) may do ----------------------------------------
        def today(self) -> date:
            return clock.now.astimezone(tz).date()

        @rule(n=st.integers(0, 9))
        def type_a_number(self, n):
            self.turn(str(n))

        @rule(n=st.integers(1, 9), ask=st.sampled_from(["他の日", "0", "other"]))
        def ask_for_other_days_then_type_a_number(self, n, ask):
            self.turn(ask)
            self.turn(str(n))

        @rule(n=st.integers(1, 3), then=st.sampled_from(["変更", "change"]))
        def pick_a_number_then_ask_to_change(self, n, then):
            self.turn(str(n))
            self.turn(then)

        @rule(word=st.sampled_from(WORDS))
        def type_a_word(self, word):
            self.turn(word)

        @rule(offset=st.integers(0, 16))
        def type_a_day(self, offset):
            day = self.today() + timedelta(days=offset)
            self.turn(f"{day.month}/{day.day}")

        @rule(data=st.data())
        def tap_a_slot_button_of_any_message(self, data):
            if self.slot_buttons:
                button = data.draw(st.sampled_from(self.slot_buttons))
                # Some taps come as the older key that named one interviewer.
                if data.draw(st.booleans()) and "@" not in button:
                    button = f"slot:{data.draw(st.sampled_from(['sato', 'tanaka']))}@{button[5:]}"
                self.turn(tap=button)

        @rule(data=st.data())
        def tap_a_day_button_of_any_message(self, data):
            if self.day_buttons:
                self.turn(tap=data.draw(st.sampled_from(self.day_buttons)))

        @rule(data=st.data(), who=st.sampled_from([("sato",), ("tanaka",), ("sato", "tanaka")]))
        def a_rival_takes_a_time_on_screen(self, data, who):
            if self.last[0] == "slots" and self.last[1]:
                at = datetime.strptime(data.draw(st.sampled_from(self.last[1])), "%Y%m%dT%H%MZ")
                at = at.replace(tzinfo=START.tzinfo)
                with session_scope(svc.engine) as s:
                    for interviewer in who:
                        LocalCalendar(s, clock).block(interviewer, at, at + timedelta(minutes=30), "rival")

        @rule(hours=st.integers(1, 30))
        def time_passes(self, hours):
            clock.advance(hours=hours)
            self.read()

    return LastListShown


def test_every_booking_is_a_time_from_the_list_shown_last(tmp_path):
    clock = FakeClock(START)
    svc = make_services(f"sqlite:///{tmp_path / 'lists.sqlite3'}", clock)
    try:
        run_state_machine_as_test(the_machine(svc, clock), settings=settings(
            max_examples=40, stateful_step_count=14, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    finally:
        svc.engine.dispose()
