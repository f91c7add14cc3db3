"""Deleting a person's data (APPI, GDPR): every table forgets them, their interview leaves the calendar, their links
stop working, the audit log keeps only that it happened; the retention setting does the same for the stale."""
from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner
from sqlalchemy import String, Text, select
from sqlmodel import Session, SQLModel

from bot.core.vocab import KeyPurpose, OptOutReason
from bot.db.accounts import AuditEntry
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking, ContactOptOut, LineLead, Outbox, ShortLink
from bot.service import erasure, forgotten, optouts, retention
from bot.service.candidate_page import page_url
from bot.service.shortlinks import unsubscribe_url
from calendars.local import LocalEvent
from tests.conftest import Chat

NAME, EMAIL, PHONE = "消去 多恵子", "taeko.erase@example.com", "090-5555-0101"
SAID = "実は転職のことは家族に内緒です"
TRACES = (NAME, "多恵子", EMAIL, "+819055550101", "9055550101", "090-5555-0101", SAID)


def _everything(svc) -> str:
    """Every text and JSON value of every table, as one string (tables found through SQLModel.metadata)."""
    found = []
    with Session(svc.engine) as s:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, (String, Text)) or c.type.__class__.__name__ == "JSON"]
            if columns:
                found.extend(repr(tuple(row)) for row in s.execute(select(*columns)))
    return "\n".join(found)


def _booked(chat: Chat, **fields) -> int:
    chat.apply(name=NAME, email=EMAIL, phone=PHONE, **fields)
    chat.replies()
    chat.say("1")
    chat.replies()
    chat.say(SAID)
    chat.replies()
    return chat.id


def test_after_erasure_no_table_holds_the_name_phone_email_or_words(chat, client, svc):
    applicant_id = _booked(chat)
    again = Chat(client, svc)
    again.apply(name=NAME, email=EMAIL, phone=PHONE, job="store-manager")  # the same person, a second application
    with session_scope(svc.engine) as s:
        s.add(LineLead(line_user_id="U" + "e" * 32, name=NAME, phone="+819055550101", created_at=svc.clock(),
                       updated_at=svc.clock()))
        s.get(Applicant, again.id).line_user_id = "U" + "e" * 32
        s.add(ShortLink(token="erase1", applicant_id=applicant_id, url="https://example.com/v", created_at=svc.clock()))
    keys = svc.keys.current(KeyPurpose.LINKS)
    with Session(svc.engine) as s:
        token = s.get(Applicant, applicant_id).token
    links = (f"/chat/{token}", "/r/erase1", unsubscribe_url(keys, "", token), page_url(keys, "", token))
    assert [client.get(path).status_code for path in links] == [200, 302, 200, 200]
    trace_before = _everything(svc)
    assert all(t in trace_before for t in (NAME, EMAIL, "+819055550101", SAID))
    with Session(svc.engine) as s:
        (booking,) = s.exec(select(Booking).where(Booking.applicant_id == applicant_id)).scalars().all()
        assert s.exec(select(LocalEvent).where(LocalEvent.uid == booking.calendar_event_id)).first() is not None

    erased = erasure.erase(svc, again.id, by=None, via="cli")

    assert set(erased.applicant_ids) == {applicant_id, again.id} and erased.events == 1
    left = _everything(svc)
    assert [t for t in TRACES if t in left] == []
    with Session(svc.engine) as s:
        assert s.exec(select(LocalEvent)).all() == []  # the interview left the local calendar
        assert s.exec(select(Outbox)).all() == []
        (entry,) = s.exec(select(AuditEntry)).scalars().all()
    assert (entry.action, entry.applicant_id, entry.via) == ("erase", again.id, "cli")
    assert entry.detail == f"応募2件・データ{erased.rows}件"
    # Their chat, short link, unsubscribe link and page open nothing (the page answers as for a forged address).
    assert [client.get(path).status_code for path in links] == [404, 404, 404, 403]


def test_an_opt_out_outlives_the_erasure_as_a_hash_and_holds_when_the_address_comes_back(chat, client, svc):
    chat.apply(name=NAME, email=EMAIL, phone=PHONE)
    with session_scope(svc.engine) as s:
        optouts.opt_out(s, "email", EMAIL, OptOutReason.UNSUBSCRIBED, svc.clock())
    erasure.erase(svc, chat.id, by=None, via="cli")
    with Session(svc.engine) as s:
        (kept,) = s.exec(select(ContactOptOut)).scalars().all()
    assert kept.address == forgotten.hashed(svc, "email", EMAIL) and EMAIL not in kept.address

    svc.clock.advance(days=2)
    back = Chat(client, svc)
    back.apply(name="戻り 花子", email=EMAIL, phone="090-5555-0202", channel="email")
    with Session(svc.engine) as s:
        assert optouts.is_stopped(s, "email", EMAIL) is not None  # in clear again: this application gave it
        greetings = s.exec(select(Outbox).where(Outbox.applicant_id == back.id, Outbox.channel == "email")).all()
    assert greetings == []


def test_erasure_is_all_or_nothing(chat, svc, monkeypatch):
    applicant_id = _booked(chat)
    before = _everything(svc)

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(erasure.audit, "record", fail)
    with pytest.raises(RuntimeError):
        erasure.erase(svc, applicant_id, by=None, via="cli")
    assert _everything(svc) == before


def test_retention_deletes_only_people_quiet_for_longer_than_the_setting(client, svc, clock):
    assert retention.sweep(svc) == 0  # off by default
    old, lively, fresh = Chat(client, svc), Chat(client, svc), Chat(client, svc)
    old.apply(name="古井 一郎", email="old@example.com", phone="090-5555-0301")
    lively.apply(name="元気 二郎", email="lively@example.com", phone="090-5555-0302")
    clock.advance(days=20)
    lively.replies()
    lively.say("まだ検討中です")  # something happened on day 20: the 180 days run from here
    clock.advance(days=150)
    fresh.apply(name="新井 三郎", email="fresh@example.com", phone="090-5555-0303")
    clock.advance(days=20)  # day 190
    svc.settings = replace(svc.settings, retention_days=180)

    assert retention.sweep(svc) == 1
    with Session(svc.engine) as s:
        names = sorted(s.exec(select(Applicant.name)).scalars().all())
        (entry,) = s.exec(select(AuditEntry)).scalars().all()
    assert names == ["元気 二郎", "新井 三郎"]
    assert (entry.via, entry.applicant_id) == ("retention", old.id)
    assert retention.sweep(svc) == 0
    clock.advance(days=200)
    assert retention.sweep(svc) == 2


def test_the_erase_command_asks_then_deletes(chat, svc, db_url):
    from bot.cli import main

    applicant_id = _booked(chat)
    env = {"DATABASE_URL": db_url, "SECRET_KEY": "test-secret-key-0123456789abcdef"}
    refused = CliRunner().invoke(main, ["erase", str(applicant_id)], input="n\n", env=env)
    assert refused.exit_code == 1 and "1 application(s)" in refused.output
    assert _everything(svc).count(NAME)
    done = CliRunner().invoke(main, ["erase", str(applicant_id), "--yes"], env=env)
    assert done.exit_code == 0, done.output
    assert NAME not in _everything(svc)
    missing = CliRunner().invoke(main, ["erase", str(applicant_id), "--yes"], env=env)
    assert missing.exit_code != 0 and "no applicant" in missing.output


def test_a_google_event_is_deleted_through_the_queued_calendar_work_which_retries(db_url, clock):
    """A provider's event is not deleted inside the transaction: a calendar outbox row is queued, written after the
    commit, and retried by the worker when Google fails."""
    from bot.service.delivery import run_once
    from tests.calendars.google_helpers import google_services
    from tests.fakes.google_api import FakeGoogleServer

    with FakeGoogleServer() as google:
        gsvc = google_services(google, db_url, clock)
        from bot import create_app

        chat = Chat(create_app({"TESTING": True}, services=gsvc).test_client(), gsvc)
        applicant_id = _booked(chat)
        assert len(google.live()) == 1
        for client in gsvc.calendar_for._clients.values():
            client.sleep = lambda seconds: None  # the client's own retries, without waiting
        google.fail(503, "backendError", "/calendar/v3/calendars/", times=1000)  # Google's events: down

        erasure.erase(gsvc, applicant_id, by=None, via="cli")

        assert len(google.live()) == 1  # the first try failed: the row waits for the worker
        with Session(gsvc.engine) as s:
            (row,) = s.exec(select(Outbox)).scalars().all()
        assert row.payload["op"] == "cancel" and row.applicant_id is None and row.booking_id is None
        google.failures.clear()
        clock.advance(minutes=5)
        while run_once(gsvc, "test-worker"):
            pass
        assert google.live() == []
        assert [t for t in TRACES if t in _everything(gsvc)] == []
        gsvc.engine.dispose()


def test_erasure_on_postgresql(pg_url, clock):
    """The same on PostgreSQL: row locks, the JSON path that finds an alert's copies, one transaction."""
    from bot import create_app
    from bot.core.vocab import STAFF_CHANNEL, Kind
    from tests.conftest import make_services

    svc = make_services(pg_url, clock)
    try:
        chat = Chat(create_app({"TESTING": True}, services=svc).test_client(), svc)
        applicant_id = _booked(chat)
        with session_scope(svc.engine) as s:
            for n, whose in enumerate((applicant_id, applicant_id + 1000)):
                s.add(Outbox(channel=STAFF_CHANNEL, kind=Kind.STAFF_ALERT, due_at=clock(), created_at=clock(),
                             payload={"via": "mail", "applicant": whose, "text": f"{NAME[0]}さん #{whose}"}))
        erasure.erase(svc, applicant_id, by=None, via="cli")
        assert [t for t in TRACES if t in _everything(svc)] == []
        with Session(svc.engine) as s:
            (other,) = s.exec(select(Outbox)).scalars().all()
        assert other.payload["applicant"] == applicant_id + 1000  # another person's copy stays
    finally:
        svc.engine.dispose()


# --- From the recruiter page: admins only, and only after the confirm step ---------------------------------------

def _form_token(page: str) -> str:
    import re

    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_an_admin_deletes_a_person_from_the_page_after_confirming(chat, client, svc):
    from bot.core.vocab import Role
    from tests.recruiters import sign_in

    applicant_id = _booked(chat)
    erase = f"/recruiter/applicants/{applicant_id}/erase"
    sign_in(client, svc, "recruiter@example.com", Role.RECRUITER)
    assert client.get(erase).status_code == 403
    assert erase not in client.get(f"/recruiter/inbox/{applicant_id}").get_data(as_text=True)
    sign_in(client, svc)  # an admin: the link is on the conversation and beside it in the inbox
    assert erase in client.get(f"/recruiter/applicants/{applicant_id}").get_data(as_text=True)
    assert erase in client.get(f"/recruiter/inbox/{applicant_id}").get_data(as_text=True)
    ask = client.get(f"/recruiter/applicants/{applicant_id}/erase")
    page = ask.get_data(as_text=True)
    assert ask.status_code == 200 and NAME in page and "自動削除: 無効" in page
    unconfirmed = client.post(f"/recruiter/applicants/{applicant_id}/erase", data={"csrf": _form_token(page)})
    assert unconfirmed.status_code == 200 and NAME in _everything(svc)  # asked again, nothing deleted
    done = client.post(f"/recruiter/applicants/{applicant_id}/erase",
                       data={"csrf": _form_token(page), "confirm": "yes"})
    assert done.status_code == 200 and "削除しました" in done.get_data(as_text=True)
    assert NAME not in _everything(svc) and NAME not in done.get_data(as_text=True)
    assert client.get(f"/recruiter/applicants/{applicant_id}").status_code == 404
    audit = client.get("/recruiter/audit").get_data(as_text=True)
    assert "個人データを削除" in audit and NAME not in audit
    assert f'/recruiter/applicants/{applicant_id}"' not in audit and "（削除済み）" in audit  # no link to a 404
    listing = client.get("/recruiter").get_data(as_text=True)
    assert "自動削除: 無効" in listing


def test_the_page_names_the_retention_period(client, svc):
    from tests.recruiters import sign_in

    svc.settings = replace(svc.settings, retention_days=180)
    sign_in(client, svc)
    assert "最終更新から180日で削除" in client.get("/recruiter").get_data(as_text=True)
