"""On PostgreSQL a flush of several new rows of a table takes their ids from its sequence first: one prepared
INSERT for every row instead of a multi-row INSERT … RETURNING whose text changes with the number of rows."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.db.engine import make_engine, session_scope
from bot.db.migrate import upgrade
from bot.db.models import Outbox

NOW = datetime(2031, 5, 1, 9, 0, tzinfo=timezone.utc)


def _row(n: int) -> Outbox:
    return Outbox(channel="staff", kind="staff_alert", payload={"n": n}, due_at=NOW, created_at=NOW,
                  idempotency_key=f"key-{n}")


@pytest.mark.postgres
def test_several_new_rows_get_ids_in_the_order_added_and_one_insert_without_returning(pg_url):
    upgrade(pg_url)
    engine = make_engine(pg_url)
    inserts = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, cursor, sql, params, context, many):
        if sql.startswith("INSERT"):
            inserts.append((sql, many))
    try:
        with session_scope(engine) as session:
            first = _row(0)
            session.add(first)  # alone in its flush: INSERT … RETURNING as before
            session.flush()
            rows = [_row(n) for n in range(1, 4)]
            session.add_all(rows)
            session.flush()
            assert [r.id for r in rows] == list(range(first.id + 1, first.id + 4))  # the order they were added in
        assert "RETURNING" in inserts[0][0] and not inserts[0][1]
        assert "RETURNING" not in inserts[1][0] and inserts[1][1]  # one statement run for each row
        assert len(inserts) == 2
        with session_scope(engine) as session:
            later = _row(9)
            session.add(later)
            session.flush()
            assert later.id > rows[-1].id  # the sequence moved on past the ids given ahead
            stored = {r.idempotency_key: r.id for r in session.exec(select(Outbox))}
        assert stored == {"key-0": first.id, "key-1": rows[0].id, "key-2": rows[1].id, "key-3": rows[2].id,
                          "key-9": later.id}
    finally:
        engine.dispose()


def test_sqlite_keeps_its_own_ids(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = [_row(n) for n in range(3)]
        session.add_all(rows)
        session.flush()
        assert [r.id for r in rows] == [1, 2, 3]
    engine.dispose()
