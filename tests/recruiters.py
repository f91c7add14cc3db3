"""Signing in to the recruiter pages in tests, the way a person does: a one-time link, its page, the button."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.core.vocab import Role
from bot.service import accounts

ADMIN = "admin@example.com"


def link_for(svc, email: str = ADMIN, role: Role | None = Role.ADMIN, name: str = "") -> str:
    """A fresh one-time sign-in link for this person (invited with this role if they are new)."""
    return accounts.invite(svc, email, role, name)[1]


def form_token(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def use_link(client, link: str, **request):
    """Open a sign-in link and press its button; the answer to the button."""
    path = urlsplit(link).path
    page = client.get(path, **request)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    return client.post(path, data={"csrf": form_token(page.get_data(as_text=True))}, **request)


def sign_in(client, svc=None, email: str = ADMIN, role: Role | None = Role.ADMIN, **request):
    """Sign `client` in as this person (an admin unless told), as if they had followed a mailed link; the answer
    that signed in. `svc`: the client's app's own unless given."""
    svc = svc or client.application.extensions["sokuresu"]
    res = use_link(client, link_for(svc, email, role), **request)
    assert res.status_code == 303, res.get_data(as_text=True)[:300]
    return res


def sign_in_browser(page, base: str, svc, email: str = ADMIN, role: Role | None = Role.ADMIN) -> None:
    """The same in a browser page of the app served at `base`."""
    page.goto(base + urlsplit(link_for(svc, email, role)).path)
    page.click("#sign-in")
    page.wait_for_url(lambda url: "/sign-in" not in url)
