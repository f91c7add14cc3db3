"""The recruiter session (issue 13, item 6): it lapses after a working day, and signing out ends it at once."""
from __future__ import annotations

import re

from bot.web.security import recruiter_key


def _login(client):
    return client.get(f"/recruiter/login/{recruiter_key('test-secret-key-0123456789abcdef')}")


def test_the_session_cookie_expires_instead_of_living_for_ever(client):
    cookie = _login(client).headers["Set-Cookie"]
    assert "Expires=" in cookie  # a permanent session with PERMANENT_SESSION_LIFETIME, not an endless one


def test_signing_out_ends_the_session(client):
    _login(client)
    page = client.get("/recruiter").get_data(as_text=True)
    assert "ログアウト" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    res = client.post("/recruiter/logout", data={"csrf": csrf})
    assert res.status_code == 200 and "ログアウトしました" in res.get_data(as_text=True)
    assert client.get("/recruiter").status_code == 401


def test_signing_out_needs_the_form_token(client):
    _login(client)
    assert client.post("/recruiter/logout", data={}).status_code == 400  # a link on another site cannot do it
    assert client.get("/recruiter").status_code == 200
