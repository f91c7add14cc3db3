"""copy_rows: rows written with PostgreSQL's COPY read back exactly as rows inserted through SQLAlchemy."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from bot.db.engine import copy_rows, make_engine, session_scope
from bot.db.models import Applicant, MessageLog

pytestmark = pytest.mark.postgres
JST = timezone(timedelta(hours=9))
AT = datetime(2026, 4, 1, 18, 30, tzinfo=JST)  # aware, not UTC: stored as naive UTC, as UTCDateTime does


def _said(applicant_id: int, text: str) -> dict:
    return {"applicant_id": applicant_id, "direction": "in", "channel": "line", "text": text,
            "payload": {"postback": "date:2026-04-02", "n": [1, None], "q": "\"'\\\t"}, "outbox_id": None,
            "created_at": AT}


@pytest.fixture
def engine(pg_url):
    from bot.db.migrate import upgrade

    upgrade(pg_url)
    # A session in Tokyo time: an aware time handed over unconverted would be stored nine hours off.
    engine = make_engine(pg_url, connect_args={"options": "-c timezone=Asia/Tokyo"})
    yield engine
    engine.dispose()


def test_copied_rows_read_back_as_inserted_ones_even_for_an_applicant_not_flushed_yet(engine):
    texts = ["明日の\t午後\nは？", "back\\slash \\N and \\.", "", "a" * 2000]
    with session_scope(engine) as session:
        applicant = Applicant(name="山田 花子", channel="line", job_id="bakery-staff", created_at=AT, updated_at=AT)
        session.add(applicant)  # not flushed: copy_rows writes it first, as a query's autoflush would
        session.flush()
        applicant_id = applicant.id
        other = Applicant(name="佐藤 一郎", channel="line", job_id="bakery-staff", created_at=AT, updated_at=AT)
        session.add(other)
        copy_rows(session, MessageLog.__table__, [_said(applicant_id, t) for t in texts])
        session.execute(insert(MessageLog.__table__), [_said(applicant_id, t) for t in texts])
    with engine.connect() as conn:
        rows = conn.execute(select(MessageLog.__table__).order_by(MessageLog.id)).all()
    copied, inserted = rows[:4], rows[4:]
    columns = [c for c in MessageLog.__table__.c.keys() if c != "id"]
    assert [[getattr(r, c) for c in columns] for r in copied] == [[getattr(r, c) for c in columns] for r in inserted]
    assert [r.text for r in copied] == texts
    assert copied[0].created_at == datetime(2026, 4, 1, 9, 30, tzinfo=timezone.utc)  # the same instant
    assert copied[0].payload == {"postback": "date:2026-04-02", "n": [1, None], "q": "\"'\\\t"}
    with engine.connect() as conn:
        assert conn.execute(select(Applicant.name).order_by(Applicant.id)).scalars().all() == ["山田 花子", "佐藤 一郎"]


def test_a_refused_row_is_sqlalchemys_error_and_nothing_of_the_transaction_stays(engine):
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            applicant = Applicant(name="山田 花子", channel="line", job_id="bakery-staff", created_at=AT, updated_at=AT)
            session.add(applicant)
            session.flush()
            copy_rows(session, MessageLog.__table__, [_said(applicant.id, "ok"), _said(applicant.id + 99, "no one")])
    with engine.connect() as conn:
        assert conn.execute(select(MessageLog.id)).all() == [] and conn.execute(select(Applicant.id)).all() == []
