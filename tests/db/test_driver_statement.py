"""DriverStatement: the webhook's one insert on psycopg's cursor stores exactly what SQLAlchemy's execution would."""
from datetime import datetime, timedelta, timezone
from functools import partial

import pytest
from sqlalchemy import select

from bot.db.engine import DriverStatement, make_engine
from bot.db.models import InboxItem
from bot.service.inbox import _keep_statement

JST = timezone(timedelta(hours=9))


def _row(event_id: str, at: datetime) -> dict:
    return {"channel": "line", "sender": "U1", "event_id": event_id, "status": "processing", "attempts": 1,
            "lease_owner": "host:1:inbox", "lease_until": at + timedelta(seconds=60), "due_at": at, "created_at": at,
            "payload": {"kind": "line_event", "event": {"text": "明日の午後\x01は？ ' \" \\\\", "n": [1, None]}}}


@pytest.mark.postgres
def test_a_row_kept_through_the_driver_reads_back_as_one_kept_through_sqlalchemy(pg_url):
    from bot.db.migrate import upgrade

    upgrade(pg_url)
    # A session in Tokyo time: an aware time handed to PostgreSQL unconverted would be stored as 18:30.
    engine = make_engine(pg_url, connect_args={"options": "-c timezone=Asia/Tokyo"})
    try:
        at = datetime(2026, 4, 1, 18, 30, tzinfo=JST)  # an aware time: stored as naive UTC, as UTCDateTime does
        keep = DriverStatement(engine, _keep_statement("postgresql"), list(_row("e", at)))
        first = keep.run(_row("driver", at))
        assert [sender for _, sender in first] == ["U1"]
        assert keep.run(_row("driver", at)) == []  # the same event again: kept once, nothing returned
        with engine.begin() as conn:
            conn.execute(_keep_statement("postgresql"), _row("sqlalchemy", at))
        with engine.connect() as conn:
            rows = {r.event_id: r for r in conn.execute(select(InboxItem.__table__))}
        assert rows["driver"].id == first[0][0]
        columns = [c for c in InboxItem.__table__.c.keys() if c not in ("id", "event_id")]
        assert {c: getattr(rows["driver"], c) for c in columns} == {c: getattr(rows["sqlalchemy"], c) for c in columns}
        assert rows["driver"].due_at == datetime(2026, 4, 1, 9, 30, tzinfo=timezone.utc)  # the same instant
        assert rows["driver"].payload["event"]["text"] == "明日の午後\x01は？ ' \" \\\\"
    finally:
        engine.dispose()


def test_it_refuses_sqlite_whose_writes_take_the_lock_inside_sqlalchemys_transaction(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with pytest.raises(ValueError, match="PostgreSQL only"):
        DriverStatement(engine, _keep_statement("sqlite"), ["channel"])


def _backends(pg_url: str) -> int:
    """How many server connections the test's database has, besides the one asking."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                         autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND pid <> pg_backend_pid()").fetchone()[0]


@pytest.mark.postgres
def test_a_thread_keeps_one_connection_of_its_own_until_it_breaks_or_the_engine_is_let_go(pg_url):
    import gc
    import threading
    import weakref

    import psycopg
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from bot.db.engine import retry_on_disconnect
    from bot.db.migrate import upgrade
    from bot.service.inbox import _keep_one

    upgrade(pg_url)
    engine = make_engine(pg_url)
    at = datetime(2026, 4, 1, 9, 0, tzinfo=timezone.utc)
    keep = _keep_one(engine, list(_row("e", at)))
    for n in range(5):
        keep.run(_row(f"main-{n}", at))
    assert engine.pool.checkedout() == 0 and _backends(pg_url) == 1  # one connection for the five, outside the pool
    other = threading.Thread(target=partial(keep.run, _row("other", at)))
    other.start()
    other.join()
    assert _backends(pg_url) == 2  # another thread's own
    url = make_url(pg_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                         autocommit=True) as admin:  # the server drops every connection (a restart)
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid()")
    with pytest.raises(DBAPIError) as dropped:
        keep.run(_row("lost", at))
    assert dropped.value.connection_invalidated  # so that the callers' retry_on_disconnect tries again
    assert retry_on_disconnect(partial(keep.run, _row("again", at)))
    with engine.connect() as conn:
        assert len(conn.execute(select(InboxItem.id)).all()) == 7
    let_go = weakref.ref(engine)
    del keep, engine, conn, dropped
    gc.collect()
    assert let_go() is None and _backends(pg_url) == 0  # let go with its engine, connections and all
