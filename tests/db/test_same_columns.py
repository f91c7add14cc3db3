"""same_columns: locked rows changed in different columns are written with one UPDATE statement run for each."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.db.engine import make_engine, same_columns, session_scope
from bot.db.migrate import upgrade
from bot.db.models import Applicant

NOW = datetime(2031, 5, 1, 9, 0, tzinfo=timezone.utc)


def _applicant(n: int) -> Applicant:
    return Applicant(name=f"候補者 {n}", channel="line", job_id="bakery-staff", line_user_id=f"U{n:032d}",
                     created_at=NOW, updated_at=NOW)


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("aligned", [True, False])
def test_rows_changed_in_different_columns_go_out_in_one_update(database, aligned, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    engine = make_engine(url)
    updates = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, cursor, sql, params, context, many):
        if sql.startswith("UPDATE applicant"):
            updates.append(many)
    try:
        with session_scope(engine) as session:
            session.add_all([_applicant(n) for n in range(4)])
        with session_scope(engine) as session:
            rows = session.exec(select(Applicant).order_by(Applicant.id).with_for_update()).all()
            rows[0].state, rows[2].state = "choosing", "choosing"  # answered with days
            rows[0].offered = rows[2].offered = ["2031-05-02T10:00"]
            rows[1].pending = "help"  # only answered
            if aligned:
                same_columns(rows)
        assert updates == ([True] if aligned else [False, False, False])  # rows 0, 1, 2: one statement, or three
        with session_scope(engine) as session:
            stored = session.exec(select(Applicant).order_by(Applicant.id)).all()
            assert [(a.state, a.offered, a.pending) for a in stored] == [
                ("choosing", ["2031-05-02T10:00"], None), ("new", [], "help"),
                ("choosing", ["2031-05-02T10:00"], None), ("new", [], None)]
    finally:
        engine.dispose()
