"""The recruiter session (issues 13 and 14): it lapses after a working day, and signing out ends it at once."""
from __future__ import annotations

import re

from tests.recruiters import sign_in


def test_the_session_cookie_expires_instead_of_living_for_ever(client):
    cookie = sign_in(client).headers["Set-Cookie"]
    assert "Expires=" in cookie  # a permanent session with PERMANENT_SESSION_LIFETIME, not an endless one


def test_signing_out_ends_the_session(client):
    sign_in(client)
    page = client.get("/recruiter").get_data(as_text=True)
    assert "ログアウト" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    res = client.post("/recruiter/logout", data={"csrf": csrf})
    assert res.status_code == 200 and "ログアウトしました" in res.get_data(as_text=True)
    assert client.get("/recruiter").headers["Location"].endswith("/recruiter/sign-in")


def test_signing_out_needs_the_form_token(client):
    sign_in(client)
    assert client.post("/recruiter/logout", data={}).status_code == 400  # a link on another site cannot do it
    assert client.get("/recruiter").status_code == 200
