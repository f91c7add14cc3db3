"""Candidate names are said back in the company's name, so a name that carries a link or hides text is refused
at intake with a clear reason (issue 13, items 2 and 4); real names of every kind still pass."""
from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from bot.db.models import Applicant
from tests.conftest import AUTH, application
from tests.web.test_form_errors import apply_form, field_error


def applicants(svc) -> int:
    with Session(svc.engine) as s:
        return s.exec(select(func.count()).select_from(Applicant)).one()


@pytest.mark.parametrize("name, reason", [
    ("Win a prize http://evil.example/x", "link"),
    ("当選 www.evil.example", "link"),
    ("山田 evil.com", "link"),
    ("hxxp evil.example/claim", "link"),
    ("山田\u202e花子", "control"),  # right-to-left override: reorders what the reader sees
    ("山田\u2066花子\u2069", "control"),
    ("山田\x07花子", "control"),
    ("山田\r\n花子", "control"),
])
def test_the_intake_api_refuses_a_name_with_a_link_or_hidden_characters(client, svc, name, reason):
    res = client.post("/api/applications", json=application(name=name), headers=AUTH)
    assert res.status_code == 422 and reason in res.get_json()["errors"]["name"]
    assert applicants(svc) == 0


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200d\ufeff", " \u2060 "])
def test_a_name_of_only_invisible_characters_is_no_name(client, svc, name):
    res = client.post("/api/applications", json=application(name=name), headers=AUTH)
    assert res.status_code == 422 and res.get_json()["errors"]["name"] == "is required"


@pytest.mark.parametrize("field", ["name", "source", "external_id"])
def test_a_nul_byte_anywhere_is_a_422_not_a_500(client, svc, field):
    res = client.post("/api/applications", json=application(**{field: "山田\x00花子"}), headers=AUTH)
    assert res.status_code == 422 and "NUL" in res.get_json()["errors"][field]
    assert applicants(svc) == 0


@pytest.mark.parametrize("name", ["山田 花子", "J. R. R. Tolkien", "Anne-Marie O'Brien", "José Martínez", "李 小龍",
                                  "Nguyễn Văn A", "山田\u200b花子"])
def test_real_names_pass(client, svc, name):
    res = client.post("/api/applications", json=application(name=name), headers=AUTH)
    assert res.status_code == 201, res.get_json()
    with Session(svc.engine) as s:
        stored = s.exec(select(Applicant.name)).one()
    assert "\u200b" not in stored


def test_the_form_says_why_next_to_the_name(client, svc):
    page = apply_form(client, name="当選 http://evil.example/x").get_data(as_text=True)
    assert field_error(page, "name") == "お名前にURLやリンクは入れられません。お名前だけをご入力ください。"
    en = apply_form(client, lang="en", name="山田\u202e花子").get_data(as_text=True)
    assert "characters we cannot use" in field_error(en, "name")
    assert applicants(svc) == 0
