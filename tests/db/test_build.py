"""bot.db.models.build makes the same new row as the model's constructor, and the session treats it as one."""
from datetime import datetime, timezone

import pytest
from sqlmodel import select

from bot.db.engine import make_engine, session_scope
from bot.db.migrate import upgrade
from bot.db.models import Outbox, build

NOW = datetime(2031, 5, 1, 9, 0, tzinfo=timezone.utc)
VALUES = dict(applicant_id=None, channel="staff", kind="staff_alert", payload={"text": "確認をお願いします"},
              due_at=NOW, created_at=NOW)


def _fields(row) -> dict:
    return {k: v for k, v in row.__dict__.items() if k != "_sa_instance_state"}


def test_a_built_row_holds_what_the_constructor_gives_it():
    made, built = Outbox(**VALUES), build(Outbox, **VALUES)
    made_fields, built_fields = _fields(made), _fields(built)
    assert made_fields.pop("idempotency_key") != built_fields.pop("idempotency_key")  # each its own default key
    assert built_fields == made_fields  # status pending, attempts 0, every other field as the constructor sets it
    assert built.__pydantic_fields_set__ == made.__pydantic_fields_set__
    assert build(Outbox, channel="staff", kind="k", due_at=NOW, created_at=NOW).payload == {}  # default_factory
    with pytest.raises(TypeError, match="no field colour"):
        build(Outbox, colour="red", **VALUES)


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_built_row_is_inserted_then_updated_like_any_other(database, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            rows = [build(Outbox, **VALUES), build(Outbox, **VALUES)]
            session.add_all(rows)
            rows[1].status = "sending"  # changed before the flush: inserted with it
            session.flush()
            assert all(row.id for row in rows)
            rows[0].attempts = 3  # changed after the flush: an UPDATE, as for any row
        with session_scope(engine) as session:
            stored = session.exec(select(Outbox).order_by(Outbox.id)).all()
            assert [(r.status, r.attempts, r.payload, r.due_at) for r in stored] == [
                ("pending", 3, VALUES["payload"], NOW), ("sending", 0, VALUES["payload"], NOW)]
    finally:
        engine.dispose()
