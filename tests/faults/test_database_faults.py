"""A database that stops answering, or refuses writes, is a clear 503 at once, never a hang or a 500; and
what the database says about a failed statement never carries the candidate's data."""
from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.db.engine import CONNECT_TIMEOUT_S, make_engine
from bot.db.models import Applicant
from tests.conftest import AUTH, START, application

# Well under the 30 s a webhook provider waits, and the 30 s the pool used to wait by default.
PATIENCE_S = CONNECT_TIMEOUT_S + 10


@pytest.fixture
def silent_server():
    """A TCP server that accepts every connection and never says a word (a hung database host)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgresql+psycopg://postgres@127.0.0.1:{listener.getsockname()[1]}/test"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_healthz_is_503_fast_when_the_database_never_answers(client, svc, silent_server):
    svc.engine = make_engine(silent_server)
    began = time.monotonic()
    res = client.get("/healthz")
    assert res.status_code == 503 and res.get_json()["database"] == "unreachable"
    assert time.monotonic() - began < PATIENCE_S


def test_intake_answers_a_retryable_503_when_the_database_never_answers(client, svc, silent_server):
    svc.engine = make_engine(silent_server)
    began = time.monotonic()
    res = client.post("/api/applications", json=application(external_id="board-1"), headers=AUTH)
    assert res.status_code == 503 and res.headers["Retry-After"].isdigit()
    assert "try again" in res.get_json()["reason"]
    assert time.monotonic() - began < PATIENCE_S


def test_healthz_is_503_on_a_read_only_database(client, svc, db_url):
    path = db_url.removeprefix("sqlite:///")
    svc.engine = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    res = client.get("/healthz")
    assert res.status_code == 503 and res.get_json()["database"] == "read-only"


def test_healthz_is_200_on_a_writable_database_and_changes_nothing(client, svc):
    from sqlalchemy import text
    with svc.engine.connect() as conn:
        before = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert client.get("/healthz").status_code == 200
    with svc.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == before


def _duplicate_error(engine) -> str:
    def row():
        return Applicant(name="秘密 花子", phone="+819011112222", email="secret@example.com", channel="sms",
                         job_id="bakery-staff", external_id="dup-1", created_at=START, updated_at=START)
    with Session(engine) as s:
        s.add(row())
        s.commit()
    with Session(engine) as s, pytest.raises(IntegrityError) as caught:
        s.add(row())
        s.commit()
    return str(caught.value)


def test_database_errors_never_carry_personal_data_sqlite(svc):
    message = _duplicate_error(svc.engine)
    assert "秘密" not in message and "+819011112222" not in message and "secret@example.com" not in message
    assert "hidden due to hide_parameters" in message  # the statement is still named, for the developer


def test_database_errors_never_carry_personal_data_postgresql(pg_url):
    from tests.conftest import make_services
    services = make_services(pg_url)
    try:
        message = _duplicate_error(services.engine)
    finally:
        services.engine.dispose()
    assert "秘密" not in message and "+819011112222" not in message and "secret@example.com" not in message
