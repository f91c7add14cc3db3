"""One key per purpose (issue 13, item 5): feeds, links, sessions and the vault each have a key derived from
SECRET_KEY, and rotating one (`sokuresu keys rotate <purpose>`) ends only that purpose's tokens."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from bot import create_app
from bot.bootstrap import bootstrap
from bot.cli import main
from bot.config import Config
from bot.core.vocab import KeyPurpose
from bot.db.engine import make_engine, session_scope
from bot.db.migrate import upgrade
from bot.db.models import Applicant, StoredCredential
from bot.service import vault
from bot.service.candidate_page import page_url
from bot.service.followups import outcome_sig
from bot.service.keys import Keys, bump, derive
from bot.service.shortlinks import unsubscribe_url
from bot.web.security import feed_token
from tests.conftest import AUTH, application, make_services
from tests.recruiters import sign_in

SECRET = "test-secret-key-0123456789abcdef"
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_each_purpose_has_its_own_key_and_none_is_secret_key(svc):
    keys = {purpose: svc.keys.current(purpose) for purpose in KeyPurpose}
    assert len(set(keys.values())) == len(KeyPurpose)
    assert all(SECRET not in key and len(key) == 64 for key in keys.values())
    assert derive(SECRET, KeyPurpose.LINKS, 1) != keys[KeyPurpose.LINKS]  # a generation is another key
    assert derive("another-secret-key-0123456789abcdef", KeyPurpose.LINKS, 0) != keys[KeyPurpose.LINKS]


def test_adapters_are_handed_the_links_key_never_secret_key(db_url):
    upgrade(db_url)
    svc = bootstrap(Config.from_env({"DATABASE_URL": db_url, "SECRET_KEY": SECRET, "SMTP_URL": "smtp://127.0.0.1:1"}))
    mail = svc.channels["email"]
    assert mail.config.secret_key == svc.keys.current(KeyPurpose.LINKS) != SECRET
    svc.engine.dispose()


class Tokens:
    """One token of each purpose, as a process made them, and what a process now answers to each."""

    def __init__(self, svc, client):
        res = client.post("/api/applications", json=application(channel="email"), headers=AUTH)
        with Session(svc.engine) as s:
            token = s.get(Applicant, res.get_json()["id"]).token
        links, feeds = svc.keys.current(KeyPurpose.LINKS), svc.keys.current(KeyPurpose.FEEDS)
        self.page = page_url(links, "", token)
        self.unsubscribe = unsubscribe_url(links, "", token)
        self.outcome = f"/recruiter/outcome/bt/attended/{outcome_sig(links, 'bt', 'attended')}"  # no such booking
        self.feed = f"/calendar/{feed_token(feeds, 'sato')}.ics"
        sign_in(client, svc)
        self.cookie = client.get_cookie("session").value

    def valid(self, client) -> dict[str, bool]:
        """Which purposes' tokens the app behind `client` still takes."""
        links = [client.get(self.page).status_code == 200, client.get(self.unsubscribe).status_code == 200,
                 client.get(self.outcome).status_code == 404]  # signature good: then no such interview
        assert len(set(links)) == 1, links
        client.set_cookie("session", self.cookie)
        session = client.get("/recruiter/").status_code == 200
        client.delete_cookie("session")
        return {KeyPurpose.FEEDS: client.get(self.feed).status_code == 200, KeyPurpose.LINKS: links[0],
                KeyPurpose.SESSIONS: session}


def _restarted(db_url, clock):
    """A process started after the rotation: it reads the generations afresh."""
    svc = make_services(db_url, clock)
    return svc, create_app({"TESTING": True}, services=svc).test_client()


@pytest.mark.parametrize("rotated", [KeyPurpose.FEEDS, KeyPurpose.LINKS, KeyPurpose.SESSIONS, KeyPurpose.VAULT])
def test_rotating_one_purpose_ends_its_tokens_and_keeps_the_others(svc, client, db_url, clock, rotated):
    tokens = Tokens(svc, client)
    assert all(tokens.valid(client).values())
    with session_scope(svc.engine) as session:
        if rotated == KeyPurpose.VAULT:
            vault.rotate(session, SECRET, NOW)
        else:
            bump(session, rotated, NOW)
    assert all(tokens.valid(client).values())  # a process keeps the keys it started with
    after, new_client = _restarted(db_url, clock)
    assert tokens.valid(new_client) == {p: p != rotated for p in (KeyPurpose.FEEDS, KeyPurpose.LINKS,
                                                                  KeyPurpose.SESSIONS)}
    assert Tokens(after, new_client).valid(new_client) == dict.fromkeys(tokens.valid(client), True)
    after.engine.dispose()


def test_the_recruiter_page_shows_the_feed_urls_of_the_current_key(svc, client, db_url, clock):
    old = feed_token(svc.keys.current(KeyPurpose.FEEDS), "sato")
    with session_scope(svc.engine) as session:
        bump(session, KeyPurpose.FEEDS, NOW)
    after, new_client = _restarted(db_url, clock)
    sign_in(new_client, after)
    page = new_client.get("/recruiter/").get_data(as_text=True)
    new = feed_token(after.keys.current(KeyPurpose.FEEDS), "sato")
    assert new != old and f"/calendar/{new}.ics" in page and old not in page
    assert new_client.get(f"/calendar/{new}.ics").status_code == 200
    assert new_client.get(f"/calendar/{old}.ics").status_code == 404
    after.engine.dispose()


def test_tokens_signed_with_secret_key_itself_work_until_their_purpose_is_first_rotated(svc, client, db_url, clock):
    """Links sent and feeds subscribed before keys had purposes (signed with SECRET_KEY) survive the upgrade."""
    legacy_feed = f"/calendar/{feed_token(SECRET, 'sato')}.ics"
    assert client.get(legacy_feed).status_code == 200
    with session_scope(svc.engine) as session:
        bump(session, KeyPurpose.SESSIONS, NOW)
    after, new_client = _restarted(db_url, clock)
    assert new_client.get(legacy_feed).status_code == 200  # feeds were not rotated
    with session_scope(svc.engine) as session:
        bump(session, KeyPurpose.FEEDS, NOW)
    after.engine.dispose()
    after, new_client = _restarted(db_url, clock)
    assert new_client.get(legacy_feed).status_code == 404  # until they are
    after.engine.dispose()


def _stored(engine) -> dict[str, StoredCredential]:
    with Session(engine) as s:
        return {row.name: row for row in s.exec(select(StoredCredential)).all()}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_vault_rotation_re_encrypts_every_secret_and_keeps_it_readable(database, db_url, request):
    url = db_url if database == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        vault.store(s, SECRET, "google-oauth:a@example.com", {"refresh_token": "1//a"}, NOW)
        # Written before keys had generations, and one written under another SECRET_KEY (no key reads it).
        s.add(StoredCredential(name="google-oauth:old@example.com", updated_at=NOW, key_generation=None,
                               ciphertext=vault.fernet(SECRET, None).encrypt(b'{"refresh_token": "1//old"}').decode()))
        lost = vault.fernet("another-secret-key-0123456789abcdef", 0).encrypt(b"{}").decode()
        s.add(StoredCredential(name="google-oauth:lost@example.com", updated_at=NOW, key_generation=0, ciphertext=lost))
    before = _stored(engine)
    for expected in (1, 2):
        with session_scope(engine) as s:
            generation, unreadable = vault.rotate(s, SECRET, NOW)
        assert generation == expected and unreadable == ["google-oauth:lost@example.com"]
        after = _stored(engine)
        for name in ("google-oauth:a@example.com", "google-oauth:old@example.com"):
            assert after[name].key_generation == expected and after[name].ciphertext != before[name].ciphertext
        assert after["google-oauth:lost@example.com"].ciphertext == before["google-oauth:lost@example.com"].ciphertext
        with Session(engine) as s:
            assert vault.load(s, SECRET, "google-oauth:a@example.com") == {"refresh_token": "1//a"}
            assert vault.load(s, SECRET, "google-oauth:old@example.com") == {"refresh_token": "1//old"}
            with pytest.raises(vault.SecretUnreadable):
                vault.load(s, SECRET, "google-oauth:lost@example.com")
        before = after
    with session_scope(engine) as s:  # a secret stored now goes under the current generation
        vault.store(s, SECRET, "google-oauth:b@example.com", {"refresh_token": "1//b"}, NOW)
    assert _stored(engine)["google-oauth:b@example.com"].key_generation == 2
    assert Keys.read(SECRET, engine).generation(KeyPurpose.VAULT) == 2
    engine.dispose()


def test_a_failed_vault_rotation_changes_nothing(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        vault.store(s, SECRET, "google-oauth:a@example.com", {"refresh_token": "1//a"}, NOW)
    before = _stored(engine)
    with pytest.raises(RuntimeError):
        with session_scope(engine) as s:
            vault.rotate(s, SECRET, NOW)
            raise RuntimeError("the process died before the commit")
    assert {n: (r.ciphertext, r.key_generation) for n, r in _stored(engine).items()} == {
        n: (r.ciphertext, r.key_generation) for n, r in before.items()}
    assert Keys.read(SECRET, engine).generation(KeyPurpose.VAULT) == 0
    engine.dispose()


def test_the_cli_rotates_one_purpose_and_prints_what_replaces_it(db_url, tmp_path):
    upgrade(db_url)
    env = {"DATABASE_URL": db_url, "SECRET_KEY": SECRET, "PUBLIC_BASE_URL": "https://jobs.example.com",
           "SOKURESU_INSTANCE": str(tmp_path), "SOKURESU_SETTINGS": ""}
    runner = CliRunner()
    res = runner.invoke(main, ["keys", "rotate", "sessions"], env=env, input="n\n")
    assert res.exit_code != 0 and "everyone signed in to the recruiter page is signed out" in res.output
    res = runner.invoke(main, ["keys", "rotate", "sessions", "--yes"], env=env)
    assert res.exit_code == 0, res.output
    assert "sokuresu recruiter-url" in res.output and "Restart the web" in res.output
    res = runner.invoke(main, ["keys", "rotate", "feeds", "--yes"], env=env)
    assert f"/calendar/{feed_token(derive(SECRET, KeyPurpose.FEEDS, 1), 'sato')}.ics" in res.output
    assert runner.invoke(main, ["recruiter-url"], env=env).output.startswith("https://jobs.example.com/recruiter/sign-in/")
    shown = runner.invoke(main, ["keys", "show"], env=env).output
    assert "sessions  generation 1" in shown and "links     generation 0    never rotated" in shown
    assert SECRET not in shown and derive(SECRET, KeyPurpose.SESSIONS, 1) not in shown
