"""Accounts of the recruiter workspace (issue 14): one-time sign-in links by the CLI, an admin and the e-mail form,
Google Sign-In, sign-out and removal that end a session at once, what an interviewer sees, the audit log."""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner
from sqlmodel import Session, select

from bot.core.events import ChooseSlot
from bot.core.vocab import Role
from bot.db.accounts import Account, AuditEntry, SignInToken, StaffSession
from bot.db.models import Booking
from bot.service import accounts
from bot.service.turn import handle
from tests.conftest import Chat, make_services
from tests.recruiters import ADMIN, form_token, link_for, sign_in, use_link

RECRUITER = "yamada@example.com"


def _csrf(client) -> str:
    """This browser's form token (a page makes one: the list when signed in, else the sign-in page)."""
    for page in ("/recruiter", "/recruiter/sign-in"):
        with client.session_transaction() as session:
            if session.get("csrf"):
                return session["csrf"]
        client.get(page)
    with client.session_transaction() as session:
        return session["csrf"]


def _page(client, path: str) -> str:
    res = client.get(path)
    assert res.status_code == 200, res.status_code
    return res.get_data(as_text=True)


def test_an_invited_persons_link_signs_them_in_once(client, svc):
    link = link_for(svc, RECRUITER, Role.RECRUITER)
    assert link.startswith("http://localhost/recruiter/sign-in/")
    assert client.get("/recruiter").status_code == 302  # not signed in: to the sign-in page
    res = use_link(client, link)
    assert res.status_code == 303 and res.headers["Location"].endswith("/recruiter/")
    assert "応募者一覧" in _page(client, "/recruiter")

    again = client.application.test_client()
    page = again.get(urlsplit(link).path)
    assert page.status_code == 410 and "お使いいただけません" in page.get_data(as_text=True)
    refused = again.post(urlsplit(link).path, data={"csrf": _csrf(again)})
    assert refused.status_code == 410
    assert again.get("/recruiter").status_code == 302


def test_opening_the_link_does_not_spend_it_only_the_button_does(client, svc):
    """Mail scanners open links (GET); they do not press buttons."""
    path = urlsplit(link_for(svc)).path
    scanner = client.application.test_client()
    for _ in range(3):
        assert scanner.get(path).status_code == 200
    page = client.get(path).get_data(as_text=True)
    assert 'id="sign-in"' in page and "サインインしますか" in page
    assert client.post(path, data={"csrf": form_token(page)}).status_code == 303


def test_the_button_needs_the_form_token(client, svc):
    path = urlsplit(link_for(svc)).path
    client.get(path)
    assert client.post(path, data={}).status_code == 400
    assert client.post(path, data={"csrf": _csrf(client)}).status_code == 303  # not spent by the refused post


def test_a_link_lapses_after_15_minutes(client, svc, clock):
    path = urlsplit(link_for(svc)).path
    clock.advance(minutes=15)
    assert client.get(path).status_code == 410
    assert client.post(path, data={"csrf": _csrf(client)}).status_code == 410
    fresh = urlsplit(link_for(svc)).path  # a new link for the same person works
    clock.advance(minutes=14, seconds=59)
    assert use_link(client, fresh).status_code == 303


def test_only_a_hash_of_each_token_is_stored(client, svc):
    link = link_for(svc)
    token = urlsplit(link).path.rsplit("/", 1)[1]
    use_link(client, link)
    with Session(svc.engine) as s:
        stored = [t.token_hash for t in s.exec(select(SignInToken))]
        stored += [t.token_hash for t in s.exec(select(StaffSession))]
    assert token not in stored and accounts.hashed(token) in stored
    with client.session_transaction() as session:
        assert session["_user_id"] not in stored  # the cookie holds the session's token, the row its hash


def test_two_presses_of_one_link_sign_in_once(svc, app):
    path = urlsplit(link_for(svc)).path
    first, second = app.test_client(), app.test_client()
    first.get(path), second.get(path)
    answers = sorted([first.post(path, data={"csrf": _csrf(first)}).status_code,
                      second.post(path, data={"csrf": _csrf(second)}).status_code])
    assert answers == [303, 410]


def test_signing_out_ends_the_session_even_for_a_copy_of_the_cookie(client, svc, app):
    sign_in(client, svc)
    with client.session_transaction() as session:
        copied = dict(session)
    thief = app.test_client()
    with thief.session_transaction() as session:
        session.update(copied)
    assert thief.get("/recruiter").status_code == 200
    client.post("/recruiter/logout", data={"csrf": _csrf(client)})
    assert thief.get("/recruiter").status_code == 302  # the session row is gone: the copy signs nobody in


def test_a_session_lasts_a_working_day(client, svc, clock):
    sign_in(client, svc)
    clock.advance(hours=11, minutes=59)
    assert client.get("/recruiter").status_code == 200
    clock.advance(minutes=1)
    assert client.get("/recruiter").status_code == 302


def test_the_old_shared_link_leads_to_the_sign_in_page(client):
    res = client.get("/recruiter/login/07ab993593fde63d0de307da74601ec7d191b047")
    assert res.status_code == 302 and res.headers["Location"].endswith("/recruiter/sign-in")
    assert client.get("/recruiter").status_code == 302


def test_after_signing_in_the_page_asked_for_opens(client, svc):
    assert client.get("/recruiter/people").headers["Location"].endswith("/recruiter/sign-in")
    res = use_link(client, link_for(svc))
    assert res.headers["Location"].endswith("/recruiter/people")


# --- The e-mail form ---------------------------------------------------------------------------------------

@pytest.fixture
def mail_svc(db_url, clock, smtp_server):
    services = make_services(db_url, clock, env={"SMTP_URL": smtp_server.url, "MAIL_FROM": "jobs@soyokaze.example"})
    yield services
    services.engine.dispose()


def _mail_to(smtp_server, address: str, count: int = 1):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mails = [m for m in smtp_server.mails if address in str(m["To"])]
        if len(mails) >= count:
            return mails
        time.sleep(0.02)
    raise AssertionError(f"no mail reached {address}")


def test_the_form_mails_a_link_that_signs_in(mail_svc, smtp_server):
    from bot import create_app

    accounts.invite(mail_svc, RECRUITER, Role.RECRUITER, "山田 太郎")
    client = create_app({"TESTING": True}, services=mail_svc).test_client()
    form = _page(client, "/recruiter/sign-in")
    assert "サインイン用のリンクを送る" in form
    res = client.post("/recruiter/sign-in", data={"csrf": form_token(form), "email": " Yamada@Example.com "})
    assert res.status_code == 200 and "お送りしました" in res.get_data(as_text=True)
    mail = _mail_to(smtp_server, RECRUITER)[0]
    text = mail.get_content()
    assert "山田 太郎 様" in text and "15分間" in text and "サインイン" in mail["Subject"]
    link = re.search(r"http://localhost/recruiter/sign-in/[\w-]{40,}", text).group(0)
    assert use_link(client, link).status_code == 303
    assert "山田 太郎（採用担当）" in _page(client, "/recruiter")


def test_the_form_answers_the_same_for_an_address_without_an_account(mail_svc, smtp_server):
    from bot import create_app

    accounts.invite(mail_svc, RECRUITER, Role.RECRUITER)
    client = create_app({"TESTING": True}, services=mail_svc).test_client()

    def answer(email: str) -> str:
        page = client.post("/recruiter/sign-in", data={"csrf": form_token(_page(client, "/recruiter/sign-in")),
                                                       "email": email}).get_data(as_text=True)
        return page.replace(email, "<address>")

    assert answer("nobody@example.com") == answer(RECRUITER)
    _mail_to(smtp_server, RECRUITER)
    time.sleep(0.2)
    assert not [m for m in smtp_server.mails if "nobody" in str(m["To"])]


def test_the_form_sends_at_most_three_links_in_15_minutes(mail_svc, smtp_server, clock):
    from bot import create_app

    accounts.invite(mail_svc, RECRUITER, Role.RECRUITER)  # one link already: the invitation's
    client = create_app({"TESTING": True}, services=mail_svc).test_client()
    for _ in range(4):
        client.post("/recruiter/sign-in", data={"csrf": form_token(_page(client, "/recruiter/sign-in")),
                                                "email": RECRUITER})
    _mail_to(smtp_server, RECRUITER, 2)
    time.sleep(0.3)
    assert len(smtp_server.mails) == 2
    clock.advance(minutes=16)
    client.post("/recruiter/sign-in", data={"csrf": _csrf(client), "email": RECRUITER})
    _mail_to(smtp_server, RECRUITER, 3)


def test_without_smtp_the_form_says_to_ask_an_admin(client):
    page = _page(client, "/recruiter/sign-in")
    assert 'id="no-mail"' in page and "管理者に" in page and 'name="email"' not in page
    english = _page(client, "/recruiter/sign-in?lang=en")
    assert "ask your administrator" in english and 'lang="en"' in english


# --- Google Sign-In over a fake OpenID provider -------------------------------------------------------------

@pytest.fixture
def provider():
    from tests.fakes.oidc_provider import FakeOpenIdProvider

    fake = FakeOpenIdProvider().start()
    yield fake
    fake.stop()


@pytest.fixture
def google_client(db_url, clock, provider):
    from bot import create_app

    services = make_services(db_url, clock, env=provider.env)
    yield create_app({"TESTING": True}, services=services).test_client(), services
    services.engine.dispose()


def _google(client):
    """Press "Sign in with Google", let the provider sign its user in, come back: the app's answer."""
    start = client.get("/recruiter/sign-in/google")
    assert start.status_code == 302
    asked = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert asked.status_code == 302
    back = urlsplit(asked.headers["Location"])
    assert back.path == "/recruiter/sign-in/google/callback"
    return client.get(f"{back.path}?{back.query}")


def test_google_sign_in_signs_in_a_known_address(google_client, provider):
    client, svc = google_client
    accounts.invite(svc, "Sato@Example.com", Role.INTERVIEWER)
    assert "Googleアカウントでサインイン" in _page(client, "/recruiter/sign-in")
    provider.user = {"sub": "1", "email": "sato@example.com", "email_verified": True}
    res = _google(client)
    assert res.status_code == 303, res.get_data(as_text=True)[:500]
    assert "佐藤 美咲（面接官）" in _page(client, "/recruiter")
    asked = provider.issued[-1]
    assert asked["nonce"] and asked["aud"] == provider.env["GOOGLE_CLIENT_ID"]


def test_google_sign_in_refuses_an_unknown_or_unverified_address(google_client, provider):
    client, svc = google_client
    provider.user = {"sub": "2", "email": "stranger@example.com", "email_verified": True}
    res = _google(client)
    assert res.status_code == 403 and "登録されていません" in res.get_data(as_text=True)
    assert client.get("/recruiter").status_code == 302
    accounts.invite(svc, "stranger@example.com", Role.RECRUITER)
    provider.user = {"sub": "2", "email": "stranger@example.com", "email_verified": False}
    assert _google(client).status_code == 403


def test_google_sign_in_refuses_a_token_signed_with_another_key(google_client, provider):
    from joserfc.jwk import RSAKey

    client, svc = google_client
    accounts.invite(svc, RECRUITER, Role.RECRUITER)
    provider.user = {"sub": "3", "email": RECRUITER, "email_verified": True}
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "fake-1"})  # same kid, another key
    res = _google(client)
    assert res.status_code == 400 and 'id="google-failed"' in res.get_data(as_text=True)
    assert client.get("/recruiter").status_code == 302


def test_google_callback_without_the_sign_in_started_here_is_refused(google_client):
    client, _ = google_client
    assert client.get("/recruiter/sign-in/google/callback?code=x&state=y").status_code == 400


def test_google_sign_in_is_off_without_a_client(client):
    assert client.get("/recruiter/sign-in/google").status_code == 404
    assert "Google" not in _page(client, "/recruiter/sign-in")


# --- People: removal, roles, the audit log ---------------------------------------------------------------

def test_removing_a_person_ends_their_live_session_at_once(client, svc, app):
    sign_in(client, svc)  # the admin
    colleague = app.test_client()
    sign_in(colleague, svc, RECRUITER, Role.RECRUITER)
    unused = link_for(svc, RECRUITER, None)
    assert colleague.get("/recruiter").status_code == 200
    people = _page(client, "/recruiter/people")
    assert RECRUITER in people
    res = client.post("/recruiter/people/remove", data={"csrf": form_token(people), "email": RECRUITER})
    assert res.status_code == 303
    assert colleague.get("/recruiter").status_code == 302  # the very next request
    assert colleague.get(urlsplit(unused).path).status_code == 410  # and the link they had not used yet
    assert RECRUITER not in _page(client, "/recruiter/people")


def test_the_last_admin_cannot_be_removed(client, svc):
    sign_in(client, svc)
    res = client.post("/recruiter/people/remove", data={"csrf": _csrf(client), "email": ADMIN})
    assert res.status_code == 409 and "最後の管理者" in res.get_data(as_text=True)
    assert client.get("/recruiter").status_code == 200


def test_an_admin_invites_from_the_people_page(client, svc):
    sign_in(client, svc)
    page = client.post("/recruiter/people", data={"csrf": _csrf(client), "email": "Suzuki@Example.com",
                                                  "name": "鈴木 一郎", "role": "interviewer"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "suzuki@example.com さんを招待しました" in text
    link = re.search(r'id="shown-link">([^<]+)<', text).group(1)  # no SMTP here: shown to pass on
    other = client.application.test_client()
    assert use_link(other, link).status_code == 303
    assert "鈴木 一郎（面接官）" in _page(other, "/recruiter")
    bad = client.post("/recruiter/people", data={"csrf": _csrf(client), "email": "not an address", "role": "admin"})
    assert bad.status_code == 400


def test_only_admins_open_the_people_and_audit_pages(client, svc):
    sign_in(client, svc, RECRUITER, Role.RECRUITER)
    assert client.get("/recruiter/people").status_code == 403
    assert client.get("/recruiter/audit").status_code == 403
    assert client.post("/recruiter/people/remove", data={"csrf": _csrf(client), "email": ADMIN}).status_code == 403
    assert 'id="nav-people"' not in _page(client, "/recruiter")


def _book(svc, client, interviewer: str, name: str) -> int:
    chat = Chat(client, svc)
    chat.apply(channel="email", name=name, email=f"{interviewer}@candidates.example",
               phone=f"090-{len(name) + 1000}-{len(interviewer) + 1000}")
    handle(svc, chat.id, ChooseSlot(number=1))
    with Session(svc.engine) as s:  # who interviews is the pool's choice; the test decides
        booking = s.exec(select(Booking).where(Booking.applicant_id == chat.id)).one()
        booking.interviewer = interviewer
        s.add(booking)
        s.commit()
    return chat.id


def test_an_interviewer_sees_only_the_candidates_of_their_own_interviews(client, svc, clock):
    mine = _book(svc, client, "sato", "山田 花子")
    theirs = _book(svc, client, "tanaka", "木村 次郎")
    unbooked = Chat(client, svc)
    unbooked.apply(channel="email", name="森 三郎", email="mori@candidates.example", phone="090-2222-3333")
    sign_in(client, svc, "sato@example.com", Role.INTERVIEWER)
    page = _page(client, "/recruiter")
    assert "山田 花子" in page and "木村 次郎" not in page and "森 三郎" not in page
    assert "佐藤 美咲" in page and "面接カレンダー" in page and "田中 健:" not in page  # only their own feed
    assert "送信できなかったメッセージ" not in page
    assert client.get(f"/recruiter/applicants/{mine}").status_code == 200
    assert client.get(f"/recruiter/applicants/{theirs}").status_code == 404
    assert client.get(f"/recruiter/applicants/{unbooked.id}").status_code == 404
    assert client.get(f"/recruiter/applicants/{theirs}/outcome/attended").status_code == 404
    assert client.post(f"/recruiter/applicants/{theirs}/resume", data={"csrf": _csrf(client)}).status_code == 404
    clock.advance(hours=2, minutes=40)  # the interview has started
    res = client.post(f"/recruiter/applicants/{mine}/attended", data={"csrf": _csrf(client), "confirm": "yes"})
    assert res.status_code == 200 and "記録しました" in res.get_data(as_text=True)


def test_a_recruiter_sees_everyone(client, svc):
    _book(svc, client, "sato", "山田 花子")
    _book(svc, client, "tanaka", "木村 次郎")
    sign_in(client, svc, RECRUITER, Role.RECRUITER)
    page = _page(client, "/recruiter")
    assert "山田 花子" in page and "木村 次郎" in page and "送信できなかったメッセージ" in page


def test_the_audit_log_lists_who_did_what_to_which_applicant_without_their_data(client, svc, app, clock):
    applicant = _book(svc, client, "sato", "山田 花子")
    colleague = app.test_client()
    sign_in(colleague, svc, RECRUITER, Role.RECRUITER)
    clock.advance(hours=2, minutes=40)
    colleague.post(f"/recruiter/applicants/{applicant}/no_show", data={"csrf": _csrf(colleague), "confirm": "yes"})
    colleague.post(f"/recruiter/applicants/{applicant}/undo", data={"csrf": _csrf(colleague)})
    colleague.post(f"/recruiter/applicants/{applicant}/resume", data={"csrf": _csrf(colleague)})
    colleague.post("/recruiter/logout", data={"csrf": _csrf(colleague)})
    sign_in(client, svc)
    page = _page(client, "/recruiter/audit")
    rows = re.findall(r'<tr data-action="(\w+)">(.*?)</tr>', page, re.S)
    actions = [action for action, _ in rows]
    assert actions[:6] == ["sign_in", "invite", "sign_out", "resume", "undo_outcome", "mark_outcome"]
    marked = dict(rows)["mark_outcome"]
    assert f"#{applicant}" in marked and "不参加" in marked and RECRUITER.split("@")[0] in marked
    assert "山田 花子" not in page and "candidates.example" not in page
    with Session(svc.engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "mark_outcome")).one()
        who = s.get(Account, entry.account_id)
    assert who.email == RECRUITER and entry.applicant_id == applicant and entry.via == "web"


# --- The CLI ---------------------------------------------------------------------------------------------

def _cli_env(db_url: str, **extra) -> dict:
    return {"DATABASE_URL": db_url, "SECRET_KEY": "test-secret-key-0123456789abcdef",
            "PUBLIC_BASE_URL": "https://jobs.example.com", **extra}


def test_the_cli_invites_lists_and_removes_people(svc, db_url):
    from bot.cli import main

    runner = CliRunner()
    res = runner.invoke(main, ["recruiter", "invite", "Kato@Example.com", "--role", "admin", "--name", "加藤"],
                        env=_cli_env(db_url))
    assert res.exit_code == 0, res.output
    assert re.fullmatch(r"https://jobs\.example\.com/recruiter/sign-in/[\w-]{40,}\n", res.output)
    listed = runner.invoke(main, ["recruiter", "list"], env=_cli_env(db_url)).output
    assert "kato@example.com" in listed and "admin" in listed and "never signed in" in listed
    assert runner.invoke(main, ["recruiter", "remove", "kato@example.com"], env=_cli_env(db_url)).exit_code != 0
    runner.invoke(main, ["recruiter", "invite", "ito@example.com", "--role", "admin"], env=_cli_env(db_url))
    res = runner.invoke(main, ["recruiter", "remove", "kato@example.com"], env=_cli_env(db_url))
    assert res.exit_code == 0 and "removed kato@example.com" in res.output
    assert "kato@example.com" not in runner.invoke(main, ["recruiter", "list"], env=_cli_env(db_url)).output
    assert runner.invoke(main, ["recruiter", "invite", "nope"], env=_cli_env(db_url)).exit_code != 0


def test_the_cli_mails_the_invitation_when_smtp_is_set(svc, db_url, smtp_server):
    from bot.cli import main

    res = CliRunner().invoke(main, ["recruiter", "invite", "kato@example.com"],
                             env=_cli_env(db_url, SMTP_URL=smtp_server.url))
    assert res.exit_code == 0 and "mailed to kato@example.com" in res.output
    text = _mail_to(smtp_server, "kato@example.com")[0].get_content()
    assert "ご招待いたします" in text and res.output.splitlines()[0] in text


def test_recruiter_url_prints_a_fresh_link_for_the_first_admin(svc, db_url, client):
    from bot.cli import main

    runner = CliRunner()
    first = runner.invoke(main, ["recruiter-url"], env=_cli_env(db_url)).output.strip()
    second = runner.invoke(main, ["recruiter-url"], env=_cli_env(db_url)).output.strip()
    assert first != second and first.startswith("https://jobs.example.com/recruiter/sign-in/")
    with Session(svc.engine) as s:
        admins = s.exec(select(Account).where(Account.role == "admin")).all()
    assert [a.email for a in admins] == ["admin@example.com"]  # made once, when nobody could sign in
    assert use_link(client, first).status_code == 303


def test_lapsed_sessions_are_deleted(client, svc, clock):
    sign_in(client, svc)
    clock.advance(hours=13)
    sign_in(client.application.test_client(), svc, RECRUITER, Role.RECRUITER)
    with Session(svc.engine) as s:
        assert len(s.exec(select(StaffSession)).all()) == 1
