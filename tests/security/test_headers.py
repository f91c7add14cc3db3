"""Security headers and cookies (issue 13, item 6): every page is unframeable, loads only our own code, sends
no referrer (tokens live in our paths), is never cached when personal, and the cookie is Secure on https."""
from __future__ import annotations

import pytest

from tests.recruiters import sign_in

PAGES = ["/apply", "/healthz", "/recruiter", "/chat/nope/messages", "/r/nope", "/does-not-exist"]


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(client, path):
    res = client.get(path)
    h = res.headers
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "script-src 'self'" in h["Content-Security-Policy"] and "unsafe-inline" not in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in h  # http://localhost: HSTS would only break a local demo


def test_static_files_may_be_cached(client):
    res = client.get("/static/style.css")
    assert res.status_code == 200 and res.headers.get("Cache-Control") != "no-store"


@pytest.fixture
def https_client(db_url, clock):
    from bot import create_app
    from tests.conftest import make_services
    svc = make_services(db_url, clock, env={"PUBLIC_BASE_URL": "https://jobs.example.com"})
    yield create_app({"TESTING": True}, services=svc).test_client()
    svc.engine.dispose()


def test_on_https_the_recruiter_cookie_is_secure_httponly_samesite_and_hsts_is_sent(https_client):
    res = sign_in(https_client, base_url="https://jobs.example.com")
    cookie = res.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert res.headers["Strict-Transport-Security"].startswith("max-age=")


def test_on_plain_http_the_cookie_is_not_marked_secure(client):
    res = sign_in(client)
    assert "HttpOnly" in res.headers["Set-Cookie"] and "Secure" not in res.headers["Set-Cookie"]


def test_pages_carry_no_inline_style_or_script_the_policy_would_block(client, svc):
    # Inline style and script are refused by the CSP above: a page using them shows unstyled or broken.
    from sqlmodel import Session, select

    from bot.db.models import Applicant
    from bot.service.candidate_page import page_url
    from bot.service.shortlinks import unsubscribe_url
    from tests.conftest import AUTH, application

    client.post("/api/applications", json=application(channel="email", external_id="csp-1"), headers=AUTH)
    with Session(svc.engine) as s:
        token = s.exec(select(Applicant.token)).one()
    key, base = svc.config.secret_key, ""
    unsubscribe = unsubscribe_url(key, base, token)
    pages = {"/apply": client.get("/apply"), "/apply?lang=en": client.get("/apply?lang=en"),
             "candidate page": client.get(page_url(key, base, token)),
             "unsubscribe": client.get(unsubscribe), "unsubscribed": client.post(unsubscribe),
             "resubscribed": client.post(unsubscribe + "/resume")}
    for name, res in pages.items():
        html = res.get_data(as_text=True)
        assert res.status_code == 200, name
        assert " style=" not in html and "<style" not in html, name
        assert "<script>" not in html and " onclick=" not in html, name
