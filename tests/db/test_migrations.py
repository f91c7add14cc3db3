"""The Alembic scripts build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from alembic.script import ScriptDirectory

from bot.db import migrate


def _assert_upgrade_matches_models(url: str) -> None:
    assert migrate.current(url) is None
    migrate.upgrade(url)
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head is not None  # also fails on two heads: merge them
    assert migrate.current(url) == head
    assert migrate.check(url) == []
    migrate.upgrade(url)  # a second run is a no-op
    assert migrate.current(url) == head
    assert migrate.check(url) == []


def test_upgrade_head_on_sqlite_matches_models_and_is_idempotent(tmp_path):
    _assert_upgrade_matches_models(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")


@pytest.mark.postgres
def test_upgrade_head_on_postgres_matches_models_and_is_idempotent(pg_url):
    _assert_upgrade_matches_models(pg_url)


def test_check_reports_tables_missing_from_an_unmigrated_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    added = {diff[1].name for diff in migrate.check(url) if diff[0] == "add_table"}
    assert {"applicant", "booking", "outbox", "message_log", "inbound_event", "calendar_event"} <= added


def test_upgrading_keeps_a_conversation_already_with_a_person_as_an_open_hand_off(tmp_path):
    from datetime import datetime, timezone

    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, "0002")
    engine = sa.create_engine(url)
    table = sa.Table("applicant", sa.MetaData(), autoload_with=engine)
    filler = {sa.Integer: 0, sa.String: "x", sa.Boolean: False, sa.JSON: [],
              sa.DateTime: datetime(2026, 11, 30, tzinfo=timezone.utc)}

    def row(i: int, state: str) -> dict:
        values = {c.name: next((v for t, v in filler.items() if isinstance(c.type, t)), "x")
                  for c in table.columns if not c.nullable and not c.primary_key and c.server_default is None}
        return {**values, "token": f"t{i}", "state": state, **({"email": f"a{i}@example.com"}
                                                                if "email" in table.c else {})}

    with engine.begin() as conn:
        conn.execute(table.insert(), [row(1, "needs_human"), row(2, "booked")])
    engine.dispose()
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        kept = dict(conn.execute(sa.text("SELECT state, handoff_open FROM applicant")).all())
    engine.dispose()
    assert kept == {"needs_human": 1, "booked": 0}


def _upgrading_moves_the_queued_line_events_into_the_inbox(url: str) -> None:
    import sqlalchemy as sa

    migrate.upgrade(url, "0003")
    engine = sa.create_engine(url)
    outbox = sa.Table("outbox", sa.MetaData(), autoload_with=engine)
    at = datetime(2026, 11, 30, tzinfo=timezone.utc)

    def row(key: str, status: str, user: str | None, n: int) -> dict:
        return {"channel": "line-inbox", "kind": "line_event", "payload": {"kind": "line_event", "event": {"n": n}},
                "due_at": at, "status": status, "attempts": 1, "idempotency_key": key,
                "provider_message_id": f"u:{user}" if user else None, "created_at": at,
                "sent_at": at if status == "sent" else None}

    with engine.begin() as conn:
        conn.execute(outbox.insert(), [row("line:e1", "sent", "U1", 1), row("line:e2", "pending", "U1", 2),
                                       row("line:e3", "sending", "U2", 3), row("0f3a", "pending", None, 4)])
        conn.execute(outbox.insert(), [{**row("k5", "pending", None, 5), "channel": "line", "kind": "help"}])
    engine.dispose()
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT channel, sender, event_id, status, payload FROM inbox_item ORDER BY id"))
        moved = [(c, sender, event, status, json.loads(p) if isinstance(p, str) else p) for c, sender, event, status, p
                 in kept]
        left = conn.execute(sa.text("SELECT channel, kind FROM outbox")).all()
    engine.dispose()
    assert [m[:4] for m in moved] == [("line", "U1", "e1", "done"), ("line", "U1", "e2", "pending"),
                                      ("line", "U2", "e3", "pending"), ("line", None, None, "pending")]
    assert [m[4]["event"]["n"] for m in moved] == [1, 2, 3, 4]
    assert left == [("line", "help")]  # the messages stay in the outbox


def test_upgrading_moves_the_queued_line_events_into_the_inbox_on_sqlite(tmp_path):
    _upgrading_moves_the_queued_line_events_into_the_inbox(f"sqlite:///{tmp_path / 'old.sqlite3'}")


@pytest.mark.postgres
def test_upgrading_moves_the_queued_line_events_into_the_inbox_on_postgres(pg_url):
    _upgrading_moves_the_queued_line_events_into_the_inbox(pg_url)
