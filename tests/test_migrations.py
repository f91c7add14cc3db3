"""The Alembic scripts build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory

from bot import migrate


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
