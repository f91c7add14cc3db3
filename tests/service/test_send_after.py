"""A web process sends a new application's greeting itself, right after its answer (bot.service.send_after).

The rows are leased to the web process in the transaction that writes them, so no worker claims them; when that
process dies before sending, a worker takes them over once the lease runs out, and each goes out once. Both
databases.
"""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot import create_app
from bot.db import wakeup
from bot.db.models import Outbox
from bot.service.delivery import LEASE, run_once
from bot.service.send_after import SendAfter
from tests.conftest import AUTH, RecordingChannel, application, make_services


@pytest.fixture(params=["sqlite", "postgresql"])
def web(request, tmp_path):
    """Services as a web process has them (a SendAfter), with a recording SMS channel, on either database."""
    url = (f"sqlite:///{tmp_path / 'test.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    svc = make_services(url)
    svc.channels["sms"] = RecordingChannel()
    svc.process.send_after = SendAfter(svc)
    yield svc, create_app({"TESTING": True}, services=svc).test_client()
    svc.engine.dispose()


def rows(svc) -> list[Outbox]:
    """The greeting's rows (the nudges written with it are due hours later: the worker's)."""
    with Session(svc.engine) as s:
        return list(s.exec(select(Outbox).where(Outbox.channel == "sms", Outbox.kind.in_(["greeting", "content"]))
                           .order_by(Outbox.id)))


def apply(client, phone="090-1234-5678") -> int:
    res = client.post("/api/applications", json=application(channel="sms", phone=phone), headers=AUTH)
    assert res.status_code == 201, res.get_json()
    return res.get_json()["id"]


def test_the_web_process_sends_the_greeting_itself_and_leaves_the_worker_nothing(web):
    svc, client = web
    apply(client)
    assert svc.process.send_after.wait_idle(10)
    sent = svc.channels["sms"].sent
    assert [m.payload["kind"] for m in sent] == ["greeting", "content"]  # the candidate's order kept
    assert [(r.kind, r.status, r.attempts, r.lease_owner) for r in rows(svc)] == [
        ("greeting", "sent", 1, None), ("content", "sent", 1, None)]
    assert run_once(svc, "worker") == 0  # nothing was left for a worker
    assert len(sent) == 2


def test_rows_leased_to_the_web_process_wake_no_worker_and_are_not_claimed(web, monkeypatch):
    svc, client = web
    monkeypatch.setattr(SendAfter, "submit", lambda self, ready: None)  # the process dies right after its commit
    apply(client)
    leased = rows(svc)
    assert [(r.status, r.lease_owner) for r in leased] == [("sending", svc.process.send_after.owner)] * 2
    assert not any(wakeup.claimable(r, svc.clock()) for r in leased)  # no worker is woken for them
    assert run_once(svc, "worker") == 0  # nor does one claim them while the lease holds
    assert svc.channels["sms"].sent == []


def test_a_greeting_whose_web_process_died_is_sent_once_by_a_worker_after_the_lease(web, monkeypatch):
    svc, client = web
    monkeypatch.setattr(SendAfter, "submit", lambda self, ready: None)
    apply(client)
    svc.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert run_once(svc, "worker") == 2  # taken over as unsure rows (the channel cannot be asked: it sends)
    assert run_once(svc, "worker") == 0
    assert [m.payload["kind"] for m in svc.channels["sms"].sent] == ["greeting", "content"]
    assert [r.status for r in rows(svc)] == ["sent", "sent"]


def test_at_exit_the_rows_not_started_go_back_to_the_queue_at_once(web, monkeypatch):
    svc, client = web
    monkeypatch.setattr(SendAfter, "_run", lambda self: None)  # the process stops before its thread got to them
    apply(client)
    assert run_once(svc, "worker") == 0
    assert svc.process.send_after.hand_back() == 2
    assert [(r.status, r.lease_owner, r.attempts) for r in rows(svc)] == [("pending", None, 0)] * 2
    assert run_once(svc, "worker") == 2  # no wait for the lease: a worker sends them now
    assert [m.payload["kind"] for m in svc.channels["sms"].sent] == ["greeting", "content"]


def test_a_provider_failure_leaves_the_greeting_to_the_worker_with_its_backoff(web):
    svc, client = web

    class Failing(RecordingChannel):
        def send(self, message):
            raise ConnectionError("provider away")

    svc.channels["sms"] = Failing()
    apply(client)
    assert svc.process.send_after.wait_idle(10)
    assert [(r.status, r.attempts, r.lease_owner) for r in rows(svc)] == [("pending", 1, None)] * 2
    assert "provider away" in rows(svc)[0].last_error
    svc.channels["sms"] = ok = RecordingChannel()
    svc.clock.advance(minutes=10)
    while run_once(svc, "worker"):
        pass
    assert [m.payload["kind"] for m in ok.sent] == ["greeting", "content"]
