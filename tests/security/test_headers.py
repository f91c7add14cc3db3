"""Security headers and cookies (issue 13, item 6): every page is unframeable, loads only our own code, sends
no referrer (tokens live in our paths), is never cached when personal, and the cookie is Secure on https."""
from __future__ import annotations

import pytest

from bot.web.security import recruiter_key

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
    res = https_client.get(f"/recruiter/login/{recruiter_key('test-secret-key-0123456789abcdef')}", base_url="https://jobs.example.com")
    cookie = res.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert res.headers["Strict-Transport-Security"].startswith("max-age=")


def test_on_plain_http_the_cookie_is_not_marked_secure(client):
    res = client.get(f"/recruiter/login/{recruiter_key('test-secret-key-0123456789abcdef')}")
    assert "HttpOnly" in res.headers["Set-Cookie"] and "Secure" not in res.headers["Set-Cookie"]
