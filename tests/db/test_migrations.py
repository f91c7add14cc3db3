"""The Alembic scripts build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

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
