"""One clock: every timestamp the service writes comes from the injected clock, whatever today's date is."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select

from bot.db.models import Booking, Outbox
from calendars.sqltypes import UTCDateTime
from tests.conftest import Chat, FakeClock, RecordingChannel, make_services

# Mondays 09:00 in Tokyo, years before and after the date these tests were written: a timestamp taken
# from the wall clock instead of the fake one lands years away from the window checked below.
MONDAYS = [datetime(2019, 11, 25, 0, 0, tzinfo=timezone.utc), datetime(2041, 11, 25, 0, 0, tzinfo=timezone.utc)]
# Columns that hold times of the interview or of a planned send, not the moment a row was written.
PLANNED = {"start_at", "end_at", "due_at", "lease_until"}


def test_no_table_fills_a_timestamp_by_itself():
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, UTCDateTime):
                assert column.default is None and column.server_default is None, f"{table.name}.{column.name}"


def written_times(engine) -> list[tuple[str, datetime]]:
    """Every stored moment of writing, as (table.column, value), over all tables."""
    found, present = [], set(inspect(engine).get_table_names())
    with Session(engine) as s:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, UTCDateTime) and c.name not in PLANNED]
            if not columns or table.name not in present:
                continue
            for row in s.execute(select(*columns)).all():
                found += [(f"{table.name}.{c.name}", v) for c, v in zip(columns, row) if v is not None]
    return found


@pytest.mark.parametrize("start", MONDAYS, ids=lambda d: str(d.year))
def test_a_whole_journey_keeps_to_the_fake_clock_years_away_from_today(tmp_path, start):
    from bot import create_app
    from bot.service.followups import backfill

    clock = FakeClock(start)
    svc = make_services(f"sqlite:///{tmp_path / 'clock.sqlite3'}", clock)
    svc.channels["sms"], svc.channels["email"] = RecordingChannel(), RecordingChannel()
    chat = Chat(create_app({"TESTING": True}, services=svc).test_client(), svc)
    try:
        chat.apply()
        assert chat.replies(), "the greeting"
        chat.say("2")
        chat.replies()
        with Session(svc.engine) as s:
            first = s.exec(select(Booking)).one()
        assert start < first.start_at < start + timedelta(days=14)
        clock.advance(hours=9)  # the day-before reminder goes out inside the evening contact window
        chat.replies()
        chat.say("1")
        chat.replies()
        chat.say("変更")
        chat.replies()
        chat.say("1")
        chat.replies()
        with Session(svc.engine) as s:  # reminders lost (an old release): the periodic check restores them
            live = s.exec(select(Booking).where(Booking.status.in_(("booked", "confirmed")))).one()
            for row in s.exec(select(Outbox).where(Outbox.booking_id == live.id, Outbox.status == "pending")):
                s.delete(row)
            s.commit()
        clock.advance(minutes=5)
        assert backfill(svc) > 0
        with Session(svc.engine) as s:
            assert s.exec(select(Outbox).where(Outbox.status == "sent", Outbox.kind == "reminder_day_before")).all()
        stamps = written_times(svc.engine)
        assert {name.split(".")[0] for name, _ in stamps} >= {"applicant", "booking", "outbox", "message_log",
                                                             "calendar_event"}
        strays = [(name, v) for name, v in stamps if not start <= v <= clock.now]
        assert strays == []
    finally:
        svc.engine.dispose()
