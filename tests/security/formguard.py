"""Helpers for the tests of the form's rate limits and proof of work: services with them on, and a form poster."""
from __future__ import annotations

import re
from dataclasses import replace

from sqlmodel import Session, func, select

from bot.db.models import Applicant, Refusal
from tests.conftest import make_services


def guarded_services(database_url: str, env: dict | None = None, **protection):
    """Services with the form's protections as the defaults have them, but for the [protection] keys given."""
    from bot.core.settings import load_settings

    settings = load_settings(None)
    settings = replace(settings, protection=replace(settings.protection, **protection))
    return make_services(database_url, env=env, settings=settings, form_protection=True)


def csrf(client, path: str = "/apply") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def post_form(client, remote: str = "203.0.113.7", phone: str = "090-1234-5678", lang: str = "ja", token=None,
              headers: dict | None = None, **fields):
    """Post the form as a browser at `remote` would (a form token of its own session)."""
    data = {"csrf": token or csrf(client), "name": "山田 花子", "channel": "sms", "phone": phone, "email": "",
            "job": "bakery-staff", "lang": lang, "consent": "yes", **fields}
    return client.post(f"/apply?lang={lang}", data=data, headers=headers or {}, environ_base={"REMOTE_ADDR": remote})


def phone(i: int) -> str:
    """A different Japanese mobile number for each i."""
    return f"090-{1000 + i:04d}-5678"


def applicants(svc) -> int:
    with Session(svc.engine) as s:
        return s.exec(select(func.count()).select_from(Applicant)).one()


def refused(svc) -> dict[str, int]:
    """Refusals counted so far, by reason."""
    with Session(svc.engine) as s:
        rows = s.exec(select(Refusal)).all()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.reason] = counts.get(row.reason, 0) + row.count
    return counts
