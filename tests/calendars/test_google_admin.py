"""Google set-up: `sokuresu google check` and `auth`, the encrypted grant, problems on the recruiter page, panels."""
import contextlib
import io
import json
import re
import socket
import threading
import time
import urllib.request
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from bot.cli import main
from bot.db.models import StoredCredential
from tests.calendars.google_helpers import SATO, TANAKA, google_env, google_services, google_settings
from tests.calendars.test_google_flow import bookings, chat_for
from tests.fakes.google_api import FakeGoogleServer


@pytest.fixture
def google():
    with FakeGoogleServer() as fake:
        yield fake


def cli_env(fake, db_url, tmp_path, **extra):
    """Environment for the CLI: the demo settings with both interviewers in Google."""
    from importlib import resources

    from bot.db.migrate import upgrade

    toml = resources.files("bot").joinpath("default_settings.toml").read_text(encoding="utf-8")
    toml = toml.replace('email = "sato@example.com"\ncalendar = "local"', f'email = "{SATO}"\ncalendar = "{SATO}"')
    toml = toml.replace('email = "tanaka@example.com"\ncalendar = "local"',
                        f'email = "{TANAKA}"\ncalendar = "{TANAKA}"')
    path = tmp_path / "settings.toml"
    path.write_text(toml, encoding="utf-8")
    upgrade(db_url)
    return {**google_env(fake), "DATABASE_URL": db_url, "SECRET_KEY": "test-secret-key-0123456789abcdef",
            "SOKURESU_SETTINGS": str(path),
            **extra}


def test_check_reports_each_calendar_on_one_screen_and_why(google, db_url, tmp_path):
    google.add_calendar(SATO)
    google.add_calendar(TANAKA, writable=False)
    result = CliRunner().invoke(main, ["google", "check"], env=cli_env(google, db_url, tmp_path))
    assert result.exit_code == 1, result.output
    assert re.search(r"OK\s+sato\s+sato@example.com: readable and writable", result.output)
    assert re.search(r"NG\s+tanaka\s+tanaka@example.com: readable but not writable: HTTP 403 requiredAccessLevel",
                     result.output)
    assert "Make changes to events" in result.output and "acting as recruit@example.com" in result.output
    assert google.live() == []  # the write probe cleans up after itself


def test_check_passes_when_everything_is_shared(google, db_url, tmp_path):
    google.add_calendar(SATO)
    google.add_calendar(TANAKA)
    result = CliRunner().invoke(main, ["google", "check"], env=cli_env(google, db_url, tmp_path))
    assert result.exit_code == 0 and "All calendars are ready." in result.output


def test_check_names_a_missing_calendar_and_a_refused_key(google, db_url, tmp_path):
    google.add_calendar(SATO)
    env = cli_env(google, db_url, tmp_path)
    result = CliRunner().invoke(main, ["google", "check"], env=env)
    assert "tanaka@example.com: not readable: HTTP 404" in result.output and "not shared with" in result.output
    google.public_keys.clear()  # the key was rotated away in Google Cloud
    result = CliRunner().invoke(main, ["google", "check"], env=env)
    assert "token refused" in result.output and result.exit_code == 1


def test_calendar_problems_are_visible_on_the_recruiter_page(google, db_url, clock):
    from bot import create_app
    from bot.service.calendar_sync import poll
    from tests.recruiters import sign_in

    svc = google_services(google, db_url, clock)
    google.calendars[TANAKA]["readable"] = False
    poll(svc, force=True)
    client = create_app({"TESTING": True}, services=svc).test_client()
    sign_in(client)
    page = client.get("/recruiter/").get_data(as_text=True)
    assert "Googleカレンダーの問題" in page and "tanaka@example.com" in page and "HTTP 403" in page


def test_grants_are_stored_encrypted_and_need_the_same_secret_key(db_url):
    from bot.db.engine import make_engine
    from bot.db.migrate import upgrade
    from bot.service.vault import SecretUnreadable, load, store

    upgrade(db_url)
    engine = make_engine(db_url)
    with Session(engine) as s:
        store(s, "key-one", "google-oauth:me@gmail.com", {"refresh_token": "1//secret-refresh"},
              datetime(2026, 1, 1, tzinfo=timezone.utc))
        s.commit()
        row = s.exec(select(StoredCredential)).one()
        assert "secret-refresh" not in row.ciphertext
        assert load(s, "key-one", "google-oauth:me@gmail.com") == {"refresh_token": "1//secret-refresh"}
        with pytest.raises(SecretUnreadable):
            load(s, "key-two", "google-oauth:me@gmail.com")
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_auth_runs_the_installed_app_flow_and_the_grant_is_then_used(google, db_url, tmp_path, monkeypatch, clock):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake token endpoint is plain http on loopback
    google.add_calendar("me@gmail.com")
    secrets_file = tmp_path / "client.json"
    secrets_file.write_text(json.dumps({"installed": {
        "client_id": "cid.apps.googleusercontent.com", "client_secret": "csecret", "auth_uri": google.origin + "/auth",
        "token_uri": google.origin + "/token", "redirect_uris": ["http://localhost"]}}))
    env = cli_env(google, db_url, tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GOOGLE_SERVICE_ACCOUNT_JSON")
    port, out = _free_port(), io.StringIO()
    args = ["google", "auth", "--client-secrets", str(secrets_file), "--calendar", "me@gmail.com",
            "--port", str(port), "--no-browser"]

    def run():
        with contextlib.redirect_stdout(out):
            main.main(args, standalone_mode=False)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 10
    while "state=" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    state = re.search(r"state=([^&\s]+)", out.getvalue()).group(1)
    urllib.request.urlopen(f"http://localhost:{port}/?state={state}&code=the-code").read()
    thread.join(10)
    assert "Stored the grant for me@gmail.com" in out.getvalue()

    from dataclasses import replace

    from tests.conftest import make_services

    base = google_settings()
    settings = replace(base, interviewers={**base.interviewers,
                                           "sato": replace(base.interviewers["sato"], calendar="me@gmail.com")})
    svc = make_services(db_url, clock, env={k: v for k, v in env.items() if k != "GOOGLE_SERVICE_ACCOUNT_JSON"},
                        settings=settings)
    chat = chat_for(svc)
    chat.apply(job="store-manager")
    chat.say("1")
    assert len(google.live("me@gmail.com")) == 1  # booked through the personal account's refresh token


def test_a_panel_job_offers_only_times_when_everyone_is_free_and_invites_both(google, db_url, clock):
    from datetime import datetime, timedelta, timezone

    jst = timezone(timedelta(hours=9))
    svc = google_services(google, db_url, clock, settings=google_settings(**{"bakery-staff": {"assignment": "panel"}}))
    google.put(TANAKA, datetime(2026, 11, 30, 11, tzinfo=jst), datetime(2026, 11, 30, 16, tzinfo=jst))
    chat = chat_for(svc)
    chat.apply()
    chat.say("1")
    [b] = bookings(svc)
    assert b.start_at.astimezone(jst).hour >= 16  # Sato alone was free earlier: not enough for a panel
    assert b.interviewer == "sato"  # the panel's first interviewer leads
    [event] = google.live(SATO)
    assert {a["email"] for a in event["attendees"]} == {"hanako@example.com", TANAKA}
