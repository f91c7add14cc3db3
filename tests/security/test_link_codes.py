"""A LINE link code (six letters, about 30 bits) cannot be guessed by trying, and stops working once it has
served its purpose (issue 13, item 12)."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from bot.db.models import Applicant
from tests.conftest import AUTH, application


def _apply(line_user) -> tuple[str, int]:
    res = line_user.client.post("/api/applications", headers=AUTH, json=application(channel="line"))
    return res.get_json()["line_link_code"], res.get_json()["id"]


def _with_digits(line_svc, applicant_id: int, code: str, digits: bool) -> str:
    """The applicant's code made to have a digit, or none (6 letters of the code alphabet)."""
    wanted = "ABC234" if digits else "ABCDEF"
    with Session(line_svc.engine) as s:
        s.get(Applicant, applicant_id).link_code = wanted
        s.commit()
    return wanted


def _linked(line_svc, applicant_id: int) -> str | None:
    with Session(line_svc.engine) as s:
        return s.get(Applicant, applicant_id).line_user_id


def test_after_five_wrong_codes_even_the_right_one_waits_a_day(line_user, line_svc):
    code, applicant_id = _apply(line_user)
    line_user.follow()
    line_user.inbox()
    for guess in ("ABC234", "ABC235", "ABC236", "ABC237", "ABC238"):
        line_user.say(guess)
        [[answer]] = line_user.inbox()
        assert "コードが見つかりませんでした" in answer["text"]
    line_user.say(code)
    [[answer]] = line_user.inbox()
    assert "しばらくの間コードをお受けできません" in answer["text"]
    assert _linked(line_svc, applicant_id) is None
    line_svc.clock.advance(days=1, minutes=1)
    line_user.say(code)
    line_user.inbox()
    assert _linked(line_svc, applicant_id) == line_user.user_id


def test_a_name_without_digits_is_not_counted_as_a_wrong_code(line_user, line_svc):
    code, applicant_id = _apply(line_user)
    line_user.follow()
    line_user.inbox()
    for _ in range(6):
        line_user.say("TANAKA")  # six letters of the code alphabet: a name, not a guess
        line_user.inbox()
    line_user.say(code)
    line_user.inbox()
    assert _linked(line_svc, applicant_id) == line_user.user_id


@pytest.mark.parametrize("digits", [True, False])  # a code may have no digit, like a name
def test_a_code_older_than_two_weeks_links_nothing(line_user, line_svc, digits):
    code, applicant_id = _apply(line_user)
    code = _with_digits(line_svc, applicant_id, code, digits)
    line_svc.clock.advance(days=15)
    line_user.follow()
    line_user.inbox()
    line_user.say(code)
    [[answer]] = line_user.inbox()
    assert "コードが見つかりませんでした" in answer["text"]
    assert _linked(line_svc, applicant_id) is None


def test_a_linked_candidate_guessing_codes_is_locked_out_too(line_user, line_svc):
    first, first_id = _apply(line_user)
    line_user.follow()
    line_user.inbox()
    line_user.say(first)
    line_user.inbox()
    second, second_id = _apply(line_user)  # a new application of the same person
    for guess in ("ABC234", "ABC235", "ABC236", "ABC237", "ABC238"):
        line_user.say(guess)
        line_user.inbox()
    line_user.say(second)
    line_user.inbox()
    assert _linked(line_svc, second_id) is None
